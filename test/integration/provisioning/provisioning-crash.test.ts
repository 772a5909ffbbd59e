import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisionCli } from '../../../app/provision-cli';
import { AuditStore } from '../../../records/audit-store';
import { ProvisioningRunStore } from '../../../records/provisioning-run-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { Tables } from '../../../records/tables';
import { describeUpnProblem } from '../../../school/pupil-roll';
import { GraphFake, type GraphFakeServer } from '../../support/graph-fake';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const ROOT = join(__dirname, '..', '..', '..');
const ADMIN_TOKEN = ['{"alg":"none"}', '{"oid":"7d1e0c22-admin-oid"}', ''].map((part) => Buffer.from(part).toString('base64url')).join('.');
const PUPILS = 40;
/** Short leases through the setting, so the test waits seconds where production waits a minute. */
const LEASE_SECONDS = 2;

/** A well-formed UPN: the check letter that makes `digits` valid. */
function upnFor(digits: string): string {
  return [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((letter) => letter + digits).find((upn) => describeUpnProblem(upn) === undefined)!;
}

function writeRoll(dir: string): string {
  const rows = Array.from({ length: PUPILS }, (_, i) => `${upnFor(`999000${26100 + i}0`)},00${3000 + i},Pupil${String.fromCharCode(65 + (i % 26))},,Crashtest,Year 4,4C`);
  const path = join(dir, 'roll.csv');
  writeFileSync(path, ['UPN,Adno,Legal Forename,Preferred Forename,Legal Surname,Year,Reg Group', ...rows].join('\n'));
  return path;
}

async function runInProcess(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runProvisionCli(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env });
  return { code, stdout, stderr };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting.');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('provisioning after a crash (kill -9)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-crash-'));
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  let fake: GraphFake;
  let server: GraphFakeServer;

  beforeEach(async () => {
    fake = new GraphFake({ latencyMs: 100 });
    fake.seedSchool();
    server = await fake.listen();
  });

  afterEach(async () => {
    await server.close();
  });

  const envFor = (schoolId: string): Record<string, string> => ({
    SCHOOL_ID: schoolId,
    SCHOOL_NAME: 'Crashtest Primary',
    SCHOOL_DOMAIN: 'crashtest.example',
    TABLES_CONNECTION_STRING: testTablesConnectionString(),
    GRAPH_MODE: 'live',
    GRAPH_AUTH: 'token',
    GRAPH_ACCESS_TOKEN: ADMIN_TOKEN,
    GRAPH_BASE_URL: server.baseUrl,
    LEASE_SECONDS: String(LEASE_SECONDS),
    LOG_LEVEL: 'error',
  });

  it('a run killed with SIGKILL frees the school once its lease expires, and the resume finishes every pupil exactly once', async () => {
    const schoolId = uniqueSchoolId('crash');
    const env = envFor(schoolId);
    const roll = writeRoll(dir);
    // A real process, killed the way a crash or an instance loss kills it: no handler runs, nothing is released.
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/provision-cli.ts', 'apply', '--csv', roll, '--academic-year', '2026', '--slips', join(dir, `${schoolId}-killed.html`)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Killed once the accounts exist, before licences, groups, policies and slips.
    await until(() => fake.users.size >= PUPILS, 60_000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAt = Date.now();
    expect(existsSync(join(dir, `${schoolId}-killed.html`))).toBe(false);

    const runs = new ProvisioningRunStore(tables);
    const [killedRun] = await runs.listRuns(schoolId, { kind: 'apply', limit: 1 });
    expect(killedRun?.status).toBe('running');

    // At once, the dead run's lease still stands (it has not expired yet).
    const tooSoon = await runInProcess(['apply', '--csv', roll, '--academic-year', '2026', '--slips', join(dir, `${schoolId}-soon.html`)], env);
    if (Date.now() - killedAt < LEASE_SECONDS * 1000) {
      expect(tooSoon.code).toBe(2);
      expect(tooSoon.stderr).toContain(killedRun!.runId);
    }

    // A lease's lifetime after the kill, the resume goes ahead without anyone clearing anything.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + LEASE_SECONDS * 1000 + 200 - Date.now())));
    const slips = join(dir, `${schoolId}-resume.html`);
    const resume = await runInProcess(['apply', '--csv', roll, '--academic-year', '2026', '--slips', slips, '--json'], env);
    expect(resume.code).toBe(0);
    const summary = (JSON.parse(resume.stdout) as { summary: { failed: number; resumedRunId?: string; slipsIssued: number } }).summary;
    expect(summary).toMatchObject({ failed: 0, resumedRunId: killedRun!.runId, slipsIssued: PUPILS });

    // Exactly once per pupil: one account each, every pupil active, one printed slip each.
    const employeeIds = [...fake.users.values()].map((u) => u.employeeId);
    expect(employeeIds).toHaveLength(PUPILS);
    expect(new Set(employeeIds).size).toBe(PUPILS);
    const register = await new PupilRegisterStore(tables).listPupils(schoolId);
    expect(register.filter((p) => p.status === 'active')).toHaveLength(PUPILS);
    expect(readFileSync(slips, 'utf8').match(/<p class="pupil">/g)).toHaveLength(PUPILS);
    const [finished] = await runs.listRuns(schoolId, { kind: 'apply', limit: 1 });
    expect(finished?.status).toBe('completed');
  }, 120_000);

  it('an admin takes over a live-looking lease only by naming its run, and the take-over is audited', async () => {
    const schoolId = uniqueSchoolId('takeover');
    const env = envFor(schoolId);
    const runs = new ProvisioningRunStore(tables);
    // A run that died a moment ago, with an hour-long lease from an older deployment.
    await runs.acquireLease(schoolId, { runId: 'dead-run-1', actorId: 'someone' }, new Date(), 3_600_000);
    const roll = writeRoll(dir);

    const wrong = await runInProcess(['apply', '--csv', roll, '--academic-year', '2026', '--slips', join(dir, `${schoolId}-wrong.html`), '--take-over', 'another-run'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('dead-run-1');

    const taken = await runInProcess(['apply', '--csv', roll, '--academic-year', '2026', '--slips', join(dir, `${schoolId}-taken.html`), '--take-over', 'dead-run-1'], env);
    expect(taken.code).toBe(0);
    const audit = await new AuditStore(tables).listAudit(schoolId, { action: 'provisioning.lease.take-over' });
    expect(audit.map((a) => [a.target, a.outcome, a.actorId])).toEqual([
      ['run:another-run', 'denied', '7d1e0c22-admin-oid'],
      ['run:dead-run-1', 'succeeded', '7d1e0c22-admin-oid'],
    ]);
    // Released at the end: the next run needs no take-over.
    expect((await runs.acquireLease(schoolId, { runId: 'next', actorId: 'x' }, new Date(), 60_000)).acquired).toBe(true);
  }, 60_000);
});
