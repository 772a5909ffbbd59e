import { createGraphClient, GraphBatchClient } from '../../../graph/graph-batch';
import { createStaticTokenCredential } from '../../../graph/graph-credentials';
import { costOf, GraphPacer } from '../../../graph/graph-pacing';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createFakeClock, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

const BASE = 'https://graph.microsoft.com';
const write = (i: number) => ({ method: 'PATCH', url: `/users/user-${i}` });

useOfflineNetwork();
verifyGraphContractAfterAll();

describe('client-side Graph budgets', () => {
  it('classifies requests by the limit they count against', () => {
    expect(Object.fromEntries(costOf({ method: 'POST', url: '/users' }))).toEqual({ 'identity-writes': 1, 'identity-tenant-writes': 1, 'identity-resource-units': 3 });
    expect(Object.fromEntries(costOf({ method: 'GET', url: "/users?$filter=employeeId eq '1'" }))).toEqual({ 'identity-resource-units': 2 });
    expect(Object.fromEntries(costOf({ method: 'PATCH', url: '/teams/team-1' }))).toEqual({ teams: 1, 'team:team-1': 1 });
    expect(Object.fromEntries(costOf({ method: 'POST', url: '/users/u-1/teamwork/installedApps' }))).toEqual({ teams: 1 });
    expect(Object.fromEntries(costOf({ method: 'POST', url: '/admin/teams/policy/userAssignments/assign' }))).toEqual({ teams: 1 });
  });

  it('lets 3,000 identity writes through at once, and the next ones only as the 150-second window frees room', async () => {
    const clock = createFakeClock();
    const start = clock.now();
    const pacer = new GraphPacer({ now: clock.now, sleep: clock.sleep, budgets: { identityResourceUnits: { limit: 1_000_000, windowMs: 10_000 } } });
    for (let i = 0; i < 150; i++) await pacer.acquire(Array.from({ length: 20 }, (_, j) => write(i * 20 + j)));
    expect(clock.now()).toBe(start);
    await pacer.acquire([write(3_000)]);
    // The window, plus the small margin the pacer keeps for Graph counting a request when it arrives.
    expect(clock.now() - start).toBeGreaterThanOrEqual(150_000);
    expect(clock.now() - start).toBeLessThanOrEqual(151_000);
  });

  it('counts a batch from when its answer came back, so a slow send never lets the next one in before Graph frees room', async () => {
    const clock = createFakeClock();
    const start = clock.now();
    const pacer = new GraphPacer({ now: clock.now, sleep: clock.sleep, budgets: { identityWrites: { limit: 2, windowMs: 1_000 }, identityResourceUnits: { limit: 1_000_000, windowMs: 10_000 } } });
    const receipt = await pacer.acquire([write(1), write(2)]);
    // The batch took 300 ms to be answered (a loaded event loop, a slow network): Graph may have counted it at any point in between.
    await clock.sleep(300);
    pacer.answered(receipt);
    await pacer.acquire([write(3)]);
    // The 1-second window from the answer, plus the pacer's margin (100 ms); from the send alone it would have been 1,100 ms.
    expect(clock.now() - start).toBe(1_400);
  });

  it('keeps one team to 4 requests a second, and the app to 30 across teams', async () => {
    const clock = createFakeClock();
    const start = clock.now();
    const pacer = new GraphPacer({ now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 8; i++) await pacer.acquire([{ method: 'GET', url: '/teams/t1' }]);
    const afterOneTeam = clock.now() - start;
    expect(afterOneTeam).toBeGreaterThanOrEqual(1_000);
    expect(afterOneTeam).toBeLessThanOrEqual(1_100);
    for (let i = 0; i < 30; i++) await pacer.acquire([{ method: 'GET', url: `/teams/other-${i}` }]);
    expect(clock.now() - start).toBeGreaterThanOrEqual(2_000);
    expect(clock.now() - start).toBeLessThanOrEqual(2_200);
  });

  it('retries a throttled request until its deadline, not a fixed five times', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    fake.failNext({ url: '/subscribedSkus', status: 429, times: 12, retryAfterSeconds: 30 });
    const clock = createFakeClock();
    const client = createGraphClient({ authProvider: createStaticTokenCredential('test-token'), baseUrl: BASE });
    const batch = new GraphBatchClient({ client, baseUrl: BASE, now: clock.now, sleep: clock.sleep, retryForSeconds: 600 });

    const [result] = await batch.send([{ method: 'GET', url: '/subscribedSkus' }]);

    expect(result?.ok).toBe(true);
    expect(batch.stats.throttled).toBe(12);
  });
});
