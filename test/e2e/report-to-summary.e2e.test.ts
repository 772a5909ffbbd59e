import { startTestApp, type TestApp } from '../support/test-app';
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/tab-auth';
import { cardActionInvoke, newUser } from '../support/teams-activities';

const teacher = newUser('Summary Teacher');
const governor = newUser('Summary Governor');

describe('a concern reported in chat reaches the governors\' summary', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: { staff: [teacher], governor: [governor] }, env: idp.env, overrides: { clock: () => new Date('2026-11-23T09:00:00Z') } });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  async function summary(): Promise<Record<string, unknown>> {
    const response = await fetch(`${app.url}/api/summary`, { headers: { authorization: `Bearer ${await idp.token(governor.aadObjectId)}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  it('when three cyberbullying reports are submitted (one twice), the summary counts three, with no reference or description', async () => {
    const submissions = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003'];
    for (const submissionId of [...submissions, submissions[0]!]) {
      const response = await app.post(
        cardActionInvoke(
          teacher,
          'submitIncident',
          { submissionId, occurredOn: '2026-11-20', involved: 'unknown', incidentType: 'cyberbullying', description: 'Planted-description: unkind messages in a class chat.', childProtection: 'false' },
          app.connector.serviceUrl,
        ),
      );
      expect(JSON.stringify(response.body)).toMatch(/ES-2026-\d{4}/);
    }
    const body = await summary();
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/ES-\d{4}-\d{4}/);
    expect(text).not.toContain('Planted-description');
    expect(text).not.toContain(teacher.aadObjectId);
    const byType = (body as { byType: { key: string; count: number | string }[] }).byType;
    expect(byType.find((row) => row.key === 'cyberbullying')?.count).toBe(3);
  });
});
