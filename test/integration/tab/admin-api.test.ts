import { createTabFeature } from '../../../app/tab-feature';
import { ComplianceStore } from '../../../records/compliance-store';
import { ProvisioningRunStore } from '../../../records/provisioning-run-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { TABLE_NAMES } from '../../../records/tables';
import { meetsEntraPasswordRules } from '../../../school/pupil-passwords';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { newUser } from '../../support/teams-activities';
import { rolesOf, tabApiCaller, tabRoleUsers, type Who } from '../../support/tab-api';
import { startTestApp, type TestApp } from '../../support/test-app';

verifyGraphContractAfterAll();

const users = tabRoleUsers();
const NOW = new Date('2026-11-23T09:00:00Z');
const DOMAIN = 'brambleford.example';

const ROLL = [
  'Adno,Forename,Surname,Year,Reg Group',
  '004411,Peregrina,Thistlewood,3,3B',
  '004412,Ignatius,Marrowbone,3,3B',
  '004413,"Zoë",Quenby-Hale,5,5K',
  '004414,,Nameless,5,5K',
].join('\r\n');

interface ApplyStream {
  status: number;
  contentType: string;
  messages: Record<string, unknown>[];
  body: Record<string, unknown>;
}

describe('Admin tab API: provisioning from an upload, and the latest enforcement audit', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let fake: GraphFake;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    const { gateway } = createGatewayForFake();
    app = await startTestApp({
      roles: rolesOf(users),
      env: { ...idp.env, SCHOOL_DOMAIN: DOMAIN, SCHOOL_NAME: 'Brambleford Primary' },
      // The tab alone: other features' start-up checks would add Graph traffic these tests count.
      overrides: { clock: () => NOW, graph: gateway, features: [createTabFeature()] },
    });
  });

  beforeEach(() => {
    fake = new GraphFake({ seed: 3 });
    fake.seedSchool();
    fake.intercept();
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  async function auth(who: Who | undefined): Promise<Record<string, string>> {
    return who ? { authorization: `Bearer ${await idp.token(users[who].aadObjectId)}` } : {};
  }

  const call = (who: Who | undefined, method: string, path: string, body?: unknown) => tabApiCaller(app, idp, users)(who, method, path, body);

  async function apply(who: Who, upload: object): Promise<ApplyStream> {
    const response = await fetch(`${app.url}/api/admin/provisioning/apply`, { method: 'POST', headers: { ...(await auth(who)), 'content-type': 'application/json' }, body: JSON.stringify(upload) });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    if (!contentType.startsWith('application/x-ndjson')) return { status: response.status, contentType, messages: [], body: JSON.parse(text) as Record<string, unknown> };
    const messages = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    return { status: response.status, contentType, messages, body: {} };
  }

  const everyone: Who[] = ['staff', 'coordinator', 'dsl', 'headteacher', 'chair', 'governor', 'admin'];
  const allowed: Who[] = ['admin', 'headteacher'];

  it.each([
    ['GET', '/api/admin/status'],
    ['POST', '/api/admin/provisioning/plan'],
    ['GET', '/api/admin/enforcement'],
    ['POST', '/api/admin/provisioning/apply'],
  ])('%s %s: 401 without a token, 403 for every role but admin and headteacher', async (method, path) => {
    expect((await call(undefined, method, path, method === 'POST' ? { csv: ROLL } : undefined)).status).toBe(401);
    for (const who of everyone.filter((w) => !allowed.includes(w))) {
      const result = await call(who, method, path, method === 'POST' ? { csv: ROLL } : undefined);
      expect({ who, status: result.status }).toEqual({ who, status: 403 });
    }
    // Refused callers cause no Graph traffic at all.
    expect(fake.records).toEqual([]);
    if (path.endsWith('/apply')) return; // Allowed applies are tested below: they change the tenant.
    for (const who of allowed) expect({ who, status: (await call(who, method, path, method === 'POST' ? { csv: ROLL } : undefined)).status }).toEqual({ who, status: 200 });
  });

  it('plans an uploaded roll row by row, changing nothing, and says what is wrong with a bad upload', async () => {
    const plan = await call('admin', 'POST', '/api/admin/provisioning/plan', { csv: ROLL, academicYear: '2026' });
    expect(plan.status).toBe(200);
    const rows = plan.body.rows as { row: number; upn: string; action: string; reason: string }[];
    expect(rows.map((r) => [r.row, r.upn, r.action])).toEqual([
      [2, `23peregrinat@${DOMAIN}`, 'create'],
      [3, `23ignatiusm@${DOMAIN}`, 'create'],
      [4, `21zoeq@${DOMAIN}`, 'create'],
      [5, '', 'reject'],
    ]);
    expect(rows[3]!.reason).toMatch(/forename/i);
    expect(plan.body.blockers).toEqual([]);
    expect(fake.users.size).toBe(0);
    expect(await new PupilRegisterStore(app.services.tables).listPupils(app.schoolId)).toEqual([]);

    const empty = await call('admin', 'POST', '/api/admin/provisioning/plan', {});
    expect({ status: empty.status, body: empty.body }).toEqual({ status: 400, body: { error: 'The upload needs attention.', problems: ['Choose the roll exported from the MIS (a CSV file).'] } });
    const noNames = await call('admin', 'POST', '/api/admin/provisioning/plan', { csv: 'Adno,Year\r\n004411,3' });
    expect(noNames.status).toBe(400);
    expect((noNames.body.problems as string[])[0]).toMatch(/forename column.*surname column/);
    const badYear = await call('admin', 'POST', '/api/admin/provisioning/plan', { csv: ROLL, academicYear: 'next' });
    expect(badYear.status).toBe(400);
    const halfSds = await call('admin', 'POST', '/api/admin/provisioning/plan', { sdsUsers: 'sourcedId\r\n1' });
    expect(halfSds.body.problems).toEqual(['An SDS export needs both users.csv and roles.csv.']);
  });

  it('flags a date of birth implausible for the pupil\'s year group, and still plans the pupil', async () => {
    // Year 3 in 2026/27: born 2018/19, give or take a year. 2019 typed as 1919 is flagged; 2019 itself is fine.
    const roll = ['Adno,Forename,Surname,Year,DOB', '004421,Peregrina,Thistlewood,3,14/03/1919', '004422,Ignatius,Marrowbone,3,14/03/2019'].join('\r\n');
    const plan = await call('admin', 'POST', '/api/admin/provisioning/plan', { csv: roll, academicYear: '2026' });
    expect(plan.status).toBe(200);
    expect((plan.body.rows as { row: number; action: string }[]).map((r) => [r.row, r.action])).toEqual([
      [2, 'create'],
      [3, 'create'],
    ]);
    expect(plan.body.flaggedDatesOfBirth).toEqual([{ row: 2, externalId: '004421', reason: expect.stringMatching(/^Row 2: the date of birth 14 March 1919 is not plausible for a pupil in Year 3 in 2026\/27/) }]);
  });

  it('applies with streamed progress, hands the slips over once, stores no password, and a second apply changes nothing', async () => {
    const first = await apply('admin', { csv: ROLL, academicYear: '2026' });
    expect(first.status).toBe(200);
    const types = first.messages.map((m) => m.type);
    expect(types.filter((t) => t === 'progress').length).toBeGreaterThanOrEqual(5);
    expect(types.at(-1)).toBe('result');
    expect(types.filter((t) => t === 'slips')).toHaveLength(1);
    expect(first.messages.findIndex((m) => m.type === 'slips')).toBeGreaterThan(first.messages.findIndex((m) => m.phase === 'accounts'));
    const phases = first.messages.filter((m) => m.type === 'progress').map((m) => m.phase);
    expect(phases.indexOf('accounts')).toBeGreaterThan(phases.indexOf('preflight'));

    const result = first.messages.at(-1)!;
    expect(result).toMatchObject({ blocked: false, slipsIssued: 3, summary: { create: 3, reject: 1, failed: 0 } });
    expect(fake.users.size).toBe(3);

    const slips = first.messages.find((m) => m.type === 'slips')!;
    expect(slips.count).toBe(3);
    const html = String(slips.html);
    const passwords = [...html.matchAll(/<dd[^>]*>([A-Z][a-z]+\d+)<\/dd>/g)].map((m) => m[1]!);
    expect(passwords).toHaveLength(3);
    for (const password of passwords) expect(meetsEntraPasswordRules(password)).toBe(true);
    expect(html).toContain(`23peregrinat@${DOMAIN}`);
    expect(html).toContain('Brambleford Primary');

    // The passwords went to the admin's page and nowhere else: not Tables, not the logs.
    const stored: string[] = [];
    for (const name of Object.values(TABLE_NAMES)) {
      const table = await app.services.tables.getTable(name);
      for await (const entity of table.listEntities()) stored.push(JSON.stringify(entity));
    }
    for (const password of passwords) {
      expect(stored.filter((s) => s.includes(password))).toEqual([]);
      expect(app.logLines.filter((l) => l.includes(password))).toEqual([]);
    }
    const register = await new PupilRegisterStore(app.services.tables).listPupils(app.schoolId);
    expect(register.every((p) => p.credentialsIssuedAt === NOW.toISOString())).toBe(true);

    const second = await apply('headteacher', { csv: ROLL, academicYear: '2026' });
    expect(second.messages.map((m) => m.type)).not.toContain('slips');
    expect(second.messages.at(-1)).toMatchObject({ blocked: false, slipsIssued: 0, summary: { create: 0, unchanged: 3 } });
    expect(fake.users.size).toBe(3);
  });

  it('refuses a second run while one holds the lease, naming it, and touches nothing', async () => {
    const runs = new ProvisioningRunStore(app.services.tables);
    expect(await runs.acquireLease(app.schoolId, { runId: 'run-from-the-cli', actorId: 'cli:admin' }, NOW, 60_000)).toEqual({ acquired: true });
    try {
      const refused = await apply('admin', { csv: ROLL });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatch(/Another provisioning run \(run-from-the-cli\)/);
      expect(fake.records).toEqual([]);
    } finally {
      await runs.releaseLease(app.schoolId, 'run-from-the-cli');
    }
    // Released: the next run may go (and finds nothing to do after the test above).
    expect((await apply('admin', { csv: ROLL })).status).toBe(200);
  });

  it('an expired lease (a process that died) is taken over; a live one is not', async () => {
    const runs = new ProvisioningRunStore(app.services.tables);
    const school = `${app.schoolId}-lease`;
    expect(await runs.acquireLease(school, { runId: 'a', actorId: 'x' }, NOW, 1_000)).toEqual({ acquired: true });
    expect(await runs.acquireLease(school, { runId: 'b', actorId: 'y' }, new Date(NOW.getTime() + 500), 1_000)).toMatchObject({ acquired: false, heldBy: { runId: 'a' } });
    const [c, d] = await Promise.all([
      runs.acquireLease(school, { runId: 'c', actorId: 'y' }, new Date(NOW.getTime() + 5_000), 1_000),
      runs.acquireLease(school, { runId: 'd', actorId: 'z' }, new Date(NOW.getTime() + 5_000), 1_000),
    ]);
    expect([c.acquired, d.acquired].sort()).toEqual([false, true]);
  });

  it('shows the latest enforcement audit with each drifted pupil by username', async () => {
    const register = await new PupilRegisterStore(app.services.tables).listPupils(app.schoolId);
    const drifted = register.find((p) => p.userPrincipalName.startsWith('21zoeq'))!;
    const compliance = new ComplianceStore(app.services.tables, () => NOW);
    const drift = { kind: 'teams-policy', setting: 'TeamsMessagingPolicy', expected: 'EduStudent-ChatOff', actual: 'Global', reason: "direct assignment of TeamsMessagingPolicy 'Global' overrides EduStudent-ChatOff", repairable: true } as const;
    await compliance.saveRun(
      app.schoolId,
      {
        runId: 'daily-2026-11-23',
        kind: 'daily',
        startedAt: NOW.toISOString(),
        finishedAt: NOW.toISOString(),
        summary: { total: register.length, compliant: register.length - 1, compliantShare: (register.length - 1) / register.length, driftByKind: { [drift.kind]: 1 }, teams: { total: 0, compliant: 0 } },
        teams: [],
      },
      register.map((p) => ({ userId: p.userId!, externalId: p.externalId, compliant: p !== drifted, drift: p === drifted ? [drift] : [] })),
    );
    const overview = await call('admin', 'GET', '/api/admin/enforcement');
    expect(overview.status).toBe(200);
    expect(overview.body.latest).toMatchObject({ runId: 'daily-2026-11-23', total: 3, compliant: 2, pupils: [{ userPrincipalName: drifted.userPrincipalName, registrationGroup: '5K', drift: [drift] }] });
    expect((overview.body.recentProvisioningRuns as { kind: string; status: string }[])[0]).toMatchObject({ kind: 'apply', status: 'completed' });
  });
});

describe('Admin tab API without a tenant (plan mode)', () => {
  it('plans from the register but refuses to apply, saying why', async () => {
    const idp = await startTestIdentityProvider();
    const admin = newUser('Admin');
    const app = await startTestApp({ roles: { admin: [admin] }, env: idp.env, overrides: { clock: () => NOW } });
    try {
      const headers = { authorization: `Bearer ${await idp.token(admin.aadObjectId)}`, 'content-type': 'application/json' };
      const status = await (await fetch(`${app.url}/api/admin/status`, { headers })).json();
      expect(status).toMatchObject({ graphMode: 'plan' });
      const plan = await fetch(`${app.url}/api/admin/provisioning/plan`, { method: 'POST', headers, body: JSON.stringify({ csv: ROLL }) });
      expect(plan.status).toBe(200);
      expect(((await plan.json()) as { summary: { tenantChecked: boolean } }).summary.tenantChecked).toBe(false);
      const refused = await fetch(`${app.url}/api/admin/provisioning/apply`, { method: 'POST', headers, body: JSON.stringify({ csv: ROLL }) });
      expect(refused.status).toBe(409);
      expect(((await refused.json()) as { error: string }).error).toMatch(/GRAPH_MODE=plan/);
    } finally {
      await app.close();
      await idp.close();
    }
  });
});
