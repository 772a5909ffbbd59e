import { enforcementFeature } from '../../../app/enforcement-feature';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { newUser } from '../../support/teams-activities';
import { startTestApp } from '../../support/test-app';

async function logLineMatching(lines: string[], pattern: RegExp, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = lines.find((l) => pattern.test(l));
    if (line) return JSON.parse(line) as Record<string, unknown>;
    if (Date.now() > until) throw new Error(`No log line matched ${pattern} within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the start-up check of the pupil Teams policies', () => {
  it('names the missing policy as the server starts, and keeps serving', async () => {
    const fake = new GraphFake();
    fake.addSku('STANDARDWOFFPACK_STUDENT', ['EXCHANGE_S_STANDARD', 'TEAMS1']);
    fake.addTeamsPolicy('TeamsMessagingPolicy', 'EduStudent-ChatOff');
    fake.intercept();
    const app = await startTestApp({ roles: { staff: [newUser('Teacher')] }, overrides: { graph: createGatewayForFake().gateway, features: [enforcementFeature] } });
    try {
      const missing = await logLineMatching(app.logLines, /enforcement\.policy-missing/);
      expect(missing).toMatchObject({ level: 'error', policyType: 'TeamsMeetingPolicy', policyName: 'EduStudent-NoMeetings' });
      expect(String(missing.help)).toMatch(/Teams admin center/);
      expect(app.logLines.some((l) => l.includes('TeamsMessagingPolicy') && l.includes('policy-missing'))).toBe(false);
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('logs that both policies were found when they exist', async () => {
    const fake = new GraphFake();
    fake.seedSchool();
    fake.intercept();
    const app = await startTestApp({ roles: { staff: [newUser('Teacher')] }, overrides: { graph: createGatewayForFake().gateway, features: [enforcementFeature] } });
    try {
      await logLineMatching(app.logLines, /enforcement\.policies-found/);
      expect(app.logLines.some((l) => l.includes('policy-missing'))).toBe(false);
    } finally {
      await app.close();
    }
  });
});
