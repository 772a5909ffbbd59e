import { RetentionReviewStore } from '../../../records/retention-review-store';
import { Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const at = (seconds: number): string => new Date(Date.UTC(2026, 10, 23, 3, 0, seconds)).toISOString();

describe("the daily retention review's claim", () => {
  const store = new RetentionReviewStore(new Tables({ connectionString: testTablesConnectionString() }));

  it('when the instance holding the day is killed, another takes the day over a minute after its last heartbeat, and only one does', async () => {
    const schoolId = uniqueSchoolId('retclaim');
    expect(await store.claimDay(schoolId, '2026-11-23', 'killed', at(0))).toBe(true);
    expect(await store.renewDay(schoolId, '2026-11-23', 'killed', at(20))).toBe(true);
    // Killed after that heartbeat: nothing releases the day.
    expect(await store.claimDay(schoolId, '2026-11-23', 'survivor', at(70))).toBe(false);
    const [a, b] = await Promise.all([store.claimDay(schoolId, '2026-11-23', 'survivor', at(81)), store.claimDay(schoolId, '2026-11-23', 'third', at(81))]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    // The dead holder's late heartbeat cannot take it back.
    expect(await store.renewDay(schoolId, '2026-11-23', 'killed', at(82))).toBe(false);
  });

  it('a finished day is never claimed again, however old its claim', async () => {
    const schoolId = uniqueSchoolId('retclaim');
    expect(await store.claimDay(schoolId, '2026-11-23', 'a', at(0))).toBe(true);
    await store.completeDay(schoolId, '2026-11-23', at(5));
    expect(await store.claimDay(schoolId, '2026-11-23', 'b', at(3600))).toBe(false);
  });
});
