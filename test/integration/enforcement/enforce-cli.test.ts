import { runEnforceCli } from '../../../app/enforce-cli';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { testTablesConnectionString } from '../../support/tables';
import { createEnforcementHarness, mutatingRequests } from './enforcement-harness';

verifyGraphContractAfterAll();

function capture(): { out: string[]; err: string[]; io: { stdout: { write(t: string): void }; stderr: { write(t: string): void } } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (t) => void out.push(t) }, stderr: { write: (t) => void err.push(t) } } };
}

describe('npm run enforce', () => {
  it('audit --json prints each pupil with their drift and exits 1; fix repairs and exits 0; a second fix changes nothing', async () => {
    const h = await createEnforcementHarness({ pupils: 2 });
    h.users[1]!.assignedLicenses = [{ skuId: h.ids.skuId, disabledPlans: [] }];
    const env = { SCHOOL_ID: h.deps.schoolId, TABLES_CONNECTION_STRING: testTablesConnectionString(), ROLES_FILE: 'config/roles.local.json' };
    const graph = h.gateway;

    const audit = capture();
    expect(await runEnforceCli(['audit', '--json'], { ...audit.io, env, graph })).toBe(1);
    const printed = JSON.parse(audit.out.join('')) as { pupils: { upn: string; compliant: boolean; drift: { setting: string; expected: string; actual: string }[] }[]; summary: { total: number; compliant: number } };
    expect(printed.summary).toMatchObject({ total: 2, compliant: 1 });
    expect(printed.pupils.find((p) => p.upn === '22pupil1@oakfield.example')).toMatchObject({
      compliant: false,
      drift: [{ setting: 'plan EXCHANGE_S_STANDARD', expected: 'disabled', actual: 'enabled' }],
    });
    expect(mutatingRequests(h.fake)).toEqual([]);

    const fix = capture();
    expect(await runEnforceCli(['--', 'fix'], { ...fix.io, env, graph })).toBe(0);
    expect(fix.out.join('')).toContain('Repairs made: 1.');
    expect(fix.out.join('')).toContain('Summary: 2 of 2 pupils compliant');
    const mutations = mutatingRequests(h.fake).length;
    expect(await runEnforceCli(['fix', '--json'], { ...capture().io, env, graph })).toBe(0);
    expect(mutatingRequests(h.fake)).toHaveLength(mutations);
  });

  it('refuses in plan mode, and a wrong command shows the usage', async () => {
    const env = { TABLES_CONNECTION_STRING: testTablesConnectionString(), ROLES_FILE: 'config/roles.local.json', GRAPH_MODE: 'plan' };
    const plan = capture();
    expect(await runEnforceCli(['audit'], { ...plan.io, env })).toBe(2);
    expect(plan.err.join('')).toContain('GRAPH_MODE=plan reads and changes nothing');
    const wrong = capture();
    expect(await runEnforceCli(['repair'], { ...wrong.io, env })).toBe(2);
    expect(wrong.err.join('')).toContain('npm run enforce -- fix');
  });
});
