import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createTabFeature } from '../../../app/tab-feature';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { rolesOf, tabRoleUsers } from '../../support/tab-api';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const DOMAIN = 'larchmere.example';
const ROLL = ['Adno,Forename,Surname,Year', '005511,Wilhelmina,Oakes,3', '005512,Barnaby,Quill,4'].join('\r\n');
const PLAN = '/api/admin/provisioning/plan';

/** The roll upload is the one route that takes multipart and more than 1 MB; everything about its body is checked here. */
describe('the Admin roll upload body', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({
      roles: rolesOf(users),
      env: { ...idp.env, SCHOOL_DOMAIN: DOMAIN },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z'), features: [createTabFeature()] },
    });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  async function post(path: string, body: RequestInit["body"], headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const token = await idp.token(users.admin.aadObjectId);
    const response = await fetch(`${app.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  function form(fields: Record<string, string>): FormData {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      if (name === 'csv') data.append(name, new Blob([value], { type: 'text/csv' }), 'roll.csv');
      else data.append(name, value);
    }
    return data;
  }

  it('plans a roll sent as multipart/form-data, as a script would send the file', async () => {
    const plan = await post(PLAN, form({ csv: ROLL, academicYear: '2026' }));
    expect(plan.status).toBe(200);
    expect((plan.body.rows as { upn: string }[]).map((r) => r.upn)).toEqual([`23wilhelminao@${DOMAIN}`, `22barnabyq@${DOMAIN}`]);
  });

  it('plans a roll of over 1 MB sent as JSON, more than every other route takes', async () => {
    // Wide rows (an export with a long column the roll does not use) keep the pupils few: this is about size.
    const rows = Array.from({ length: 2_000 }, (_, i) => `A${100000 + i},Ada,Lovelock,3,${'note '.repeat(110)}`);
    const body = JSON.stringify({ csv: ['Adno,Forename,Surname,Year,Notes', ...rows].join('\r\n'), academicYear: '2026' });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const plan = await post(PLAN, body, { 'content-type': 'application/json' });
    expect(plan.status).toBe(200);
    const upns = (plan.body.rows as { upn: string }[]).map((r) => r.upn);
    expect(upns).toHaveLength(2_000);
    expect(new Set(upns).size).toBe(2_000);
    const tooBig = await post('/api/incidents/ES-2026-0001/actions', body, { 'content-type': 'application/json' });
    expect(tooBig.status).toBe(413);
  });

  it('refuses a multipart field the upload does not take, and an upload over 4 MB, leaving no temporary file', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const unknown = await post(PLAN, form({ csv: ROLL, script: 'x' }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/"script" that this upload does not take/);
    const huge = await post(PLAN, form({ csv: 'Adno,Forename,Surname,Year\r\n'.padEnd(5 * 1024 * 1024, 'x') }));
    expect(huge.status).toBe(413);
    expect(huge.body.correlationId).toEqual(expect.any(String));
    expect(readdirSync(tmpdir()).filter((name) => !before.has(name) && name.startsWith('upload_'))).toEqual([]);
  });

  it('takes multipart nowhere else in the tab API', async () => {
    const answer = await post('/api/incidents/ES-2026-0001/actions', form({ csv: ROLL }));
    expect(answer.status).toBe(415);
  });
});
