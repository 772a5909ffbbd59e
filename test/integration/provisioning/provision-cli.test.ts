import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisionCli } from '../../../app/provision-cli';
import { AuditStore } from '../../../records/audit-store';
import { Tables } from '../../../records/tables';
import { checkGraphContract } from '../../support/graph-contract';
import { GraphFake } from '../../support/graph-fake';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'rolls');
/** An unsigned token shaped like Entra's, so the CLI can read the admin's object id for the audit log. */
const ADMIN_TOKEN = ['{"alg":"none"}', '{"oid":"5f0c2a51-admin-oid"}', ''].map((part) => Buffer.from(part).toString('base64url')).join('.');

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: Record<string, string>): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runProvisionCli(argv, {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    env,
    clock: () => new Date('2026-09-07T09:00:00Z'),
  });
  return { code, stdout, stderr };
}

describe('npm run provision (the command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-cli-'));
  const planEnv = (): Record<string, string> => ({ SCHOOL_ID: uniqueSchoolId('cli'), SCHOOL_NAME: 'Oakfield Primary', TABLES_CONNECTION_STRING: testTablesConnectionString() });
  const liveEnv = (): Record<string, string> => ({ ...planEnv(), SCHOOL_DOMAIN: 'oakfield.example', GRAPH_MODE: 'live', GRAPH_AUTH: 'token', GRAPH_ACCESS_TOKEN: ADMIN_TOKEN });

  it('plan --json prints every row and the summary on stdout, and exits 0', async () => {
    const result = await run(['plan', '--csv', join(FIXTURES, 'sims-export.csv'), '--academic-year', '2026', '--json'], planEnv());

    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { pupils: { row: number; externalId: string; upn: string; action: string; reason: string }[]; summary: Record<string, unknown> };
    expect(output.pupils).toHaveLength(5);
    expect(output.pupils[0]).toEqual({ row: 2, externalId: 'M999000026001', upn: '23milliet@school.example', action: 'create', reason: 'New pupil: a new account will be created.' });
    expect(output.summary).toMatchObject({ create: 5, reject: 0, failed: 0, tenantChecked: false, academicYearStart: 2026 });
    expect(result.stderr).toContain('GRAPH_MODE=plan: worked out from the register alone');
  });

  it('plan reads an SDS users.csv and roles.csv pair, and exits 1 because some rows are rejected', async () => {
    const result = await run(['plan', '--sds-users', join(FIXTURES, 'sds-users.csv'), '--sds-roles', join(FIXTURES, 'sds-roles.csv'), '--academic-year', '2026'], planEnv());

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/row 2 +create +26wilhelminaf@school.example +stu-7001/);
    expect(result.stdout).toMatch(/Summary: 3 to create, 0 to update, 0 unchanged, 3 rejected, 0 failed, 1 non-pupil rows skipped\./);
  });

  it('apply refuses in GRAPH_MODE=plan, before reading anything, and writes no slips', async () => {
    const slips = join(dir, 'refused.html');

    const result = await run(['apply', '--csv', join(FIXTURES, 'sims-export.csv'), '--slips', slips], planEnv());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GRAPH_MODE=plan changes nothing, so "apply" cannot run.');
    expect(existsSync(slips)).toBe(false);
  });

  it('apply against a tenant writes the slips file, audits as the signed-in admin, and a second apply writes no slips', async () => {
    const fake = new GraphFake();
    fake.seedSchool();
    fake.intercept();
    const env = liveEnv();
    const slips = join(dir, 'slips.html');

    const first = await run(['apply', '--csv', join(FIXTURES, 'sims-export.csv'), '--academic-year', '2026', '--slips', slips, '--json'], env);

    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).summary).toMatchObject({ create: 5, failed: 0, slipsIssued: 5, blocked: false });
    expect(first.stderr).toContain(`5 credential slips were written to ${slips}`);
    const html = readFileSync(slips, 'utf8');
    expect(html).toContain('<p class="pupil">Millie Thistledown</p>');
    expect(html).toContain('<p class="school">Oakfield Primary</p>');
    expect(statSync(slips).mode & 0o077).toBe(0);
    expect(fake.users.size).toBe(5);
    const audit = await new AuditStore(new Tables({ connectionString: testTablesConnectionString() })).listAudit(env.SCHOOL_ID as string);
    expect(new Set(audit.map((a) => a.actorId))).toEqual(new Set(['5f0c2a51-admin-oid']));

    const again = await run(['apply', '--csv', join(FIXTURES, 'sims-export.csv'), '--academic-year', '2026', '--slips', join(dir, 'again.html')], env);

    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Summary: 0 to create, 0 to update, 5 unchanged/);
    expect(again.stderr).toContain('no slips were written');
    expect(existsSync(join(dir, 'again.html'))).toBe(false);
    expect((await checkGraphContract(fake.records)).errors).toEqual([]);
  });

  it('apply will not overwrite an existing slips file, which may hold passwords not yet printed', async () => {
    const slips = join(dir, 'existing.html');
    writeFileSync(slips, 'unprinted slips');

    const result = await run(['apply', '--csv', join(FIXTURES, 'sims-export.csv'), '--slips', slips], liveEnv());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('already exists and may hold passwords not yet printed');
    expect(readFileSync(slips, 'utf8')).toBe('unprinted slips');
  });

  it('apply exits 1 when rows are rejected, and 2 with the Teams admin center advice when a policy is missing', async () => {
    const fake = new GraphFake();
    fake.seedSchool();
    fake.intercept();
    const rejected = await run(['apply', '--csv', join(FIXTURES, 'roll-with-problems.csv'), '--academic-year', '2026', '--slips', join(dir, 'problems.html')], liveEnv());
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toMatch(/row 3 +reject/);

    const bare = new GraphFake();
    bare.addSku('STANDARDWOFFPACK_STUDENT', ['EXCHANGE_S_STANDARD']);
    bare.intercept('https://graph.microsoft.us');
    const blocked = await run(['apply', '--csv', join(FIXTURES, 'sims-export.csv'), '--slips', join(dir, 'blocked.html')], { ...liveEnv(), GRAPH_BASE_URL: 'https://graph.microsoft.us' });
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toContain('Cannot apply: Teams has no messaging policy named "EduStudent-ChatOff". Nothing has been changed.');
    expect(bare.innerRequests().every((r) => r.method === 'GET')).toBe(true);
    expect(existsSync(join(dir, 'blocked.html'))).toBe(false);
    expect((await checkGraphContract([...fake.records, ...bare.records])).errors).toEqual([]);
  });

  it('a leavers dry run prints JSON and changes nothing; --apply in GRAPH_MODE=plan is refused', async () => {
    const env = planEnv();
    const dryRun = await run(['leavers', '--csv', join(FIXTURES, 'sims-export.csv'), '--json'], env);
    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toEqual({ pupils: [], summary: { disable: 0, delete: 0, unchanged: 0, reject: 0, failed: 0, graceDays: 30 }, applied: false });

    const applied = await run(['leavers', '--csv', join(FIXTURES, 'sims-export.csv'), '--apply'], env);
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain('"leavers --apply" cannot run');
  });

  it.each([
    [['apply', '--csv', 'roll.csv'], 'apply needs --slips OUT.html'],
    [['plan'], 'plan needs the roll: --csv FILE, or --sds-users FILE --sds-roles FILE.'],
    [['plan', '--csv', 'a.csv', '--sds-users', 'u.csv'], 'Give either --csv or --sds-users with --sds-roles, not both.'],
    [['plan', '--csv', 'a.csv', '--academic-year', '26'], '--academic-year takes the year the academic year starts'],
    [['reset-password', '--slips', 'x.html'], 'reset-password takes one username'],
    [['provision', '--csv', 'a.csv'], 'Unknown command "provision"'],
    [['plan', '--csv', 'a.csv', '--colour'], "Unknown option '--colour'"],
  ])('%j is a usage error (exit 2): %s', async (argv, message) => {
    const result = await run(argv, planEnv());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('npm run provision -- plan  --csv FILE');
  });

  it('a roll file that cannot be read is named in a sentence, exit 2', async () => {
    const result = await run(['plan', '--csv', join(dir, 'missing.csv')], planEnv());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing.csv (--csv): ENOENT');
  });
});
