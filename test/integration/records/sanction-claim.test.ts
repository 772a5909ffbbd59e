import { Tables, TABLE_NAMES } from '../../../records/tables';
import { SanctionStore, sanctionRow } from '../../../records/sanction-store';
import { restoreDueSanctions, SANCTION_CLAIM_MS, type SanctionRestoreDependencies } from '../../../usecases/case-actions';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

/**
 * The restore of a pupil's sign-in at the end of a suspension is claimed with the sanction's etag. When the
 * instance holding the claim dies (here: its Graph call never returns, as a killed process never answers),
 * another instance must take the restore over within a minute, and restore it once.
 */
describe('a suspension restore whose holder dies', () => {
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const schoolId = uniqueSchoolId('sanction');
  const claimedAt = new Date('2026-06-15T06:00:00Z');

  function instance(graph: SanctionRestoreDependencies['graph'], at: Date): SanctionRestoreDependencies {
    return {
      schoolId,
      incidents: { getIncident: async () => undefined, appendEvent: async () => { throw new Error('not reached'); } },
      sanctions: new SanctionStore(tables),
      graph,
      audit: { appendAudit: async () => undefined },
      clock: () => at,
    };
  }

  beforeAll(async () => {
    const table = await tables.getTable(TABLE_NAMES.incidents);
    await table.createEntity({
      partitionKey: schoolId,
      rowKey: '',
      ...sanctionRow({ schoolId, reference: 'ES-2026-0700', pupilId: 'p-1', userPrincipalName: 'u@school.example', userId: 'user-1', kind: 'suspend-access', until: '2026-06-15', byId: 'head', at: '2026-06-10T09:00:00Z', state: 'active' }),
    });
  });

  it('lasts at most a minute', () => {
    expect(SANCTION_CLAIM_MS).toBeLessThanOrEqual(60_000);
  });

  it('is taken over by another instance once the claim has expired, and restored exactly once', async () => {
    const enabled: string[] = [];
    const dead = { setAccountEnabled: () => new Promise<never>(() => undefined) };
    const alive = {
      setAccountEnabled: async (changes: { userId: string; accountEnabled: boolean }[]) => {
        enabled.push(...changes.map((c) => c.userId));
        return changes.map(() => ({ ok: true }));
      },
    } as unknown as SanctionRestoreDependencies['graph'];

    // The first instance claims the restore, then never finishes.
    void restoreDueSanctions(instance(dead as unknown as SanctionRestoreDependencies['graph'], claimedAt));
    await waitFor(async () => (await new SanctionStore(tables).listSanctions(schoolId, { reference: 'ES-2026-0700' }))[0]?.state === 'restoring');

    // While the claim is live, nobody else restores.
    expect(await restoreDueSanctions(instance(alive, new Date(claimedAt.getTime() + 30_000)))).toBe(0);
    expect(enabled).toEqual([]);

    // A minute on, the claim has expired: the next run restores, once.
    const later = new Date(claimedAt.getTime() + SANCTION_CLAIM_MS + 1_000);
    const [a, b] = await Promise.all([restoreDueSanctions(instance(alive, later)), restoreDueSanctions(instance(alive, later))]);
    expect(a + b).toBe(1);
    expect(enabled).toEqual(['user-1']);
    const [sanction] = await new SanctionStore(tables).listSanctions(schoolId, { reference: 'ES-2026-0700' });
    expect(sanction?.state).toBe('restored');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('The first instance never claimed the restore.');
}
