import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAupFeature } from '../../../app/aup-feature';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { startTestApp, type TestApp } from '../../support/test-app';
import { installActivity, messageActivity, newUser, type TeamsUser } from '../../support/teams-activities';

/**
 * `/aup campaign` and `/aup coverage` list the people who still owe a policy by name, never by object id:
 * Graph display names with a tenant, role titles without one. Names go to the coordinator only, never to the logs.
 */
const coordinator = newUser('Test Coordinator');
const reached = newUser('Reached Teacher');
const unreached = newUser('Unreached Teacher');
const unknownToGraph = newUser('Ghost Teacher');

function docsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aup-docs-'));
  cpSync(join(__dirname, '../../../aup'), dir, { recursive: true });
  return dir;
}

async function start(graph: boolean): Promise<{ app: TestApp; fake?: GraphFake }> {
  let fake: GraphFake | undefined;
  let gateway;
  if (graph) {
    fake = new GraphFake({ seed: 12 });
    fake.addUser({ id: coordinator.aadObjectId, userPrincipalName: 'coord@school.example', displayName: 'Morgan Fairweather' });
    fake.addUser({ id: reached.aadObjectId, userPrincipalName: 'reached@school.example', displayName: 'Ellis Brackenridge' });
    fake.addUser({ id: unreached.aadObjectId, userPrincipalName: 'unreached@school.example', displayName: 'Quinn Holloway' });
    gateway = createGatewayForFake().gateway;
  }
  const app = await startTestApp({
    roles: { staff: [coordinator, reached, unreached, unknownToGraph], coordinator: [coordinator] },
    env: { AUP_DOCUMENTS_DIR: docsDir() },
    overrides: { clock: () => new Date('2026-11-23T09:00:00Z'), features: [createAupFeature()], ...(gateway ? { graph: gateway } : {}) },
  });
  // Everyone but `unreached` has talked to the bot, so the campaign can reach them.
  for (const user of [coordinator, reached, unknownToGraph]) expect((await app.post(installActivity(user, app.connector.serviceUrl))).status).toBe(200);
  return { app, ...(fake ? { fake } : {}) };
}

async function replyTo(app: TestApp, user: TeamsUser, text: string): Promise<string> {
  const before = app.connector.sent.length;
  expect((await app.post(messageActivity(user, text, app.connector.serviceUrl))).status).toBe(200);
  const reply = await app.connector.waitFor(
    (s) => app.connector.sent.indexOf(s) >= before && s.conversationId === `a:personal-${user.aadObjectId}` && typeof s.activity.text === 'string',
  );
  return reply.activity.text as string;
}

const allIds = [coordinator, reached, unreached, unknownToGraph].map((u) => u.aadObjectId);

describe('AUP campaign and coverage replies name people, over the Bot Framework protocol', () => {
  describe('with a tenant (names from Microsoft Graph)', () => {
    let app: TestApp;
    let fake: GraphFake;

    beforeAll(async () => {
      ({ app, fake } = (await start(true)) as { app: TestApp; fake: GraphFake });
    });
    // Graph is faked at the HTTP seam; nock's interceptors are cleared after each test.
    beforeEach(() => fake.intercept());
    afterAll(async () => {
      await app?.close();
    });

    it('the campaign reply names who cannot be reached yet, by display name', async () => {
      const text = await replyTo(app, coordinator, '/aup campaign staff-aup staff');
      expect(text).toContain('Started the campaign for **staff-aup v1**');
      expect(text).toMatch(/1 cannot be reached by the bot yet.*: Quinn Holloway$/m);
      for (const id of allIds) expect(text).not.toContain(id);
    });

    it('coverage lists everyone outstanding by name, sorted, with someone Graph does not know shown by role, and looks names up in one batch', async () => {
      const before = fake.batchSizes.length;
      const text = await replyTo(app, coordinator, '/aup coverage');
      const staffLine = text.split('\n\n').find((line) => line.startsWith('- Outstanding') && line.includes('Quinn Holloway'));
      expect(staffLine).toBe(`- Outstanding: Ellis Brackenridge, Member of staff (…${unknownToGraph.aadObjectId.slice(-4)}), Morgan Fairweather, Quinn Holloway`);
      expect(text).not.toContain('object ids');
      for (const id of allIds) expect(text).not.toContain(id);
      // The campaign reply cached Quinn Holloway's name; the other three are looked up together, in one $batch.
      expect(fake.batchSizes.slice(before)).toEqual([3]);
      const logs = app.logLines.join('\n');
      for (const name of ['Quinn Holloway', 'Ellis Brackenridge', 'Morgan Fairweather']) expect(logs).not.toContain(name);
    });

    it('a teacher who asks for coverage gets a refusal and no names', async () => {
      const text = await replyTo(app, reached, '/aup coverage');
      expect(text).toContain('Only the e-safety coordinator');
      expect(text).not.toContain('Quinn Holloway');
    });
  });

  describe('without a tenant (role titles)', () => {
    let app: TestApp;

    beforeAll(async () => {
      ({ app } = await start(false));
    });
    afterAll(async () => {
      await app?.close();
    });

    it('names people by their most senior role and the end of their id, never the whole id', async () => {
      const campaign = await replyTo(app, coordinator, '/aup campaign staff-aup staff');
      expect(campaign).toContain(`they get the card as soon as they can be reached: Member of staff (…${unreached.aadObjectId.slice(-4)})`);
      const coverage = await replyTo(app, coordinator, '/aup coverage');
      expect(coverage).toContain(`E-safety coordinator (…${coordinator.aadObjectId.slice(-4)})`);
      for (const id of allIds) {
        expect(campaign).not.toContain(id);
        expect(coverage).not.toContain(id);
      }
    });
  });
});
