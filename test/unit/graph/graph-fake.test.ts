import nock from 'nock';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createFakeClock, createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

useOfflineNetwork();
verifyGraphContractAfterAll();
describe('GraphFake', () => {
  it('serves the tenant on a loopback port with latency, and provisioning gets through 5% throttling', async () => {
    nock.enableNetConnect((host) => host.startsWith('127.0.0.1'));
    const fake = new GraphFake({ latencyMs: 20, throttleRate: 0.05, seed: 42, replicationDelayRequests: 1 });
    const { sku } = fake.seedSchool();
    const group = fake.addGroup({ displayName: 'All Pupils' });
    const server = await fake.listen();
    try {
      const { gateway } = createGatewayForFake({ baseUrl: server.baseUrl, concurrency: 4 });
      const created = await gateway.createUsers(
        Array.from({ length: 60 }, (_, n) => ({
          userPrincipalName: `21pupil${n}@school.example`,
          displayName: `Pupil ${n}`,
          givenName: 'Pupil',
          surname: String(n),
          employeeId: `B${String(n).padStart(12, '0')}`,
          password: `Heron${5000 + n}`,
        })),
      );
      const ids = created.map((r) => (r.ok ? r.value.user.id : 'failed'));
      const licences = await gateway.assignLicences(ids.map((userId) => ({ userId, skuId: sku.skuId })));
      const memberships = await gateway.addGroupMembers(ids.map((memberId) => ({ groupId: group.id, memberId })));

      expect([...created, ...licences, ...memberships].every((r) => r.ok)).toBe(true);
      expect(group.members.size).toBe(60);
      expect(gateway.stats.throttled).toBeGreaterThan(0);
      expect(gateway.stats.roundTrips).toBeLessThan(30);
    } finally {
      await server.close();
    }
  });

  it('injects the same faults in the same places for the same seed', async () => {
    const throttledIndexes = async (seed: number): Promise<number[]> => {
      const fake = new GraphFake({ seed, throttleRate: 0.3, shuffleBatchResponses: false });
      const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' }));
      const response = fake.handle({ method: 'POST', url: 'https://graph.microsoft.com/v1.0/$batch', body: { requests } });
      return (response.body as { responses: { id: string; status: number }[] }).responses.filter((r) => r.status === 429).map((r) => Number(r.id));
    };

    expect(await throttledIndexes(3)).toEqual(await throttledIndexes(3));
    expect(await throttledIndexes(3)).not.toEqual(await throttledIndexes(4));
  });

  it('behaves like Graph where it hurts: employeeId only on $select, batches over 20 refused, replication 404s', () => {
    // Sends a 21-request batch on purpose, which the contract check would rightly reject.
    const fake = new GraphFake({ replicationDelayRequests: 1, checkContract: false });
    const user = fake.addUser({ userPrincipalName: 'p@school.example', employeeId: 'A123' });
    const base = 'https://graph.microsoft.com/v1.0';

    expect(fake.handle({ method: 'GET', url: `${base}/users/${user.id}` }).body).not.toHaveProperty('employeeId');
    expect(fake.handle({ method: 'GET', url: `${base}/users/${user.id}?$select=employeeId` }).body).toMatchObject({ id: user.id, employeeId: 'A123' });
    const tooMany = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' }));
    expect(fake.handle({ method: 'POST', url: `${base}/$batch`, body: { requests: tooMany } }).status).toBe(400);

    const created = fake.handle({
      method: 'POST',
      url: `${base}/users`,
      headers: { 'content-type': 'application/json' },
      body: { accountEnabled: true, displayName: 'N', mailNickname: 'n', userPrincipalName: 'n@school.example', passwordProfile: { password: 'Fox1234!' } },
    });
    const id = (created.body as { id: string }).id;
    expect(fake.handle({ method: 'GET', url: `${base}/users/${id}` }).status).toBe(404);
    expect(fake.handle({ method: 'GET', url: `${base}/users/${id}` }).status).toBe(200);
  });

  it('records every HTTP request, batches whole, as JSONL check.mjs reads', async () => {
    const fake = new GraphFake();
    fake.intercept();
    fake.seedSchool();
    const { gateway } = createGatewayForFake({ clock: createFakeClock() });

    await gateway.listSubscribedSkus();

    const lines = fake.toJsonl().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        method: 'POST',
        url: 'https://graph.microsoft.com/v1.0/$batch',
        body: { requests: [{ id: '0', method: 'GET', url: '/subscribedSkus?$select=skuId,skuPartNumber,servicePlans,prepaidUnits,consumedUnits' }] },
      },
    ]);
    expect(fake.innerRequests()).toEqual([{ method: 'GET', url: '/subscribedSkus?$select=skuId,skuPartNumber,servicePlans,prepaidUnits,consumedUnits' }]);
  });
});
