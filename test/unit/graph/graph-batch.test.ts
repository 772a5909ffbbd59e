import nock from 'nock';
import { createGraphClient, GraphBatchClient, type BatchRequest } from '../../../graph/graph-batch';
import { createStaticTokenCredential } from '../../../graph/graph-credentials';
import { GraphConnectionError, GraphServiceError, GraphUsageError } from '../../../graph/graph-errors';
import type { GraphResult } from '../../../graph/graph-types';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createFakeClock, GraphFake, type FakeClock, useOfflineNetwork } from '../../support/graph-fake';

const BASE = 'https://graph.microsoft.com';

function createBatchClient(clock: FakeClock, options: Partial<ConstructorParameters<typeof GraphBatchClient>[0]> = {}): GraphBatchClient {
  const client = createGraphClient({ authProvider: createStaticTokenCredential('test-token'), baseUrl: BASE });
  return new GraphBatchClient({ client, baseUrl: BASE, now: clock.now, sleep: clock.sleep, ...options });
}

function userLookups(fake: GraphFake, count: number): BatchRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const user = fake.addUser({ userPrincipalName: `pupil${i}@school.example` });
    return { method: 'GET', url: `/users/${user.id}?$select=id,userPrincipalName` };
  });
}

function upnOf(result: GraphResult<{ body: unknown }> | undefined): string | undefined {
  return result?.ok ? (result.value.body as { userPrincipalName?: string }).userPrincipalName : undefined;
}

useOfflineNetwork();
verifyGraphContractAfterAll();
describe('GraphBatchClient', () => {
  it('sends at most 20 requests per batch and keeps no more batches in flight than the concurrency', async () => {
    const fake = new GraphFake({ latencyMs: 25 });
    fake.intercept(BASE);
    const batch = createBatchClient(createFakeClock(), { concurrency: 2 });

    const results = await batch.send(userLookups(fake, 45));

    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.batchSizes).toEqual([20, 20, 5]);
    expect(fake.maxInFlight).toBe(2);
    expect(batch.stats).toEqual({ roundTrips: 3, innerRequests: 45, retries: 0, throttled: 0 });
  });

  it('with a map, keeps only what the map returns, mapping each batch before the next one is sent', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    const batch = createBatchClient(createFakeClock(), { concurrency: 1 });
    const requests = userLookups(fake, 45);
    const mappedWhenSent: number[] = [];
    const sentBefore = (): number => fake.batchSizes.length;

    const results = await batch.send(requests, (response, index) => {
      mappedWhenSent[index] = sentBefore();
      return (response.body as { userPrincipalName: string }).userPrincipalName;
    });

    expect(results).toEqual(Array.from({ length: 45 }, (_, i) => ({ ok: true, value: `pupil${i}@school.example` })));
    // Answers of the first batch were mapped while only it had been sent, not after the whole operation.
    expect(mappedWhenSent.slice(0, 20).every((n) => n === 1)).toBe(true);
    expect(mappedWhenSent.slice(40)).toEqual([3, 3, 3, 3, 3]);
  });

  it('matches each answer to its request by id when Graph answers out of order', async () => {
    const fake = new GraphFake({ shuffleBatchResponses: true, seed: 7 });
    fake.intercept(BASE);
    const batch = createBatchClient(createFakeClock());

    const results = await batch.send(userLookups(fake, 20));

    const answeredIds = ((fake.records[0] as { body: { requests: { id: string }[] } }).body.requests).map((r) => r.id);
    expect(answeredIds).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(results.map(upnOf)).toEqual(Array.from({ length: 20 }, (_, i) => `pupil${i}@school.example`));
  });

  it("when one item is throttled, waits for that item's own Retry-After and sends it again in a later batch", async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    const requests = userLookups(fake, 3);
    fake.failNext({ url: (requests[1] as BatchRequest).url.split('?')[0], status: 429, retryAfterSeconds: 7 });
    const clock = createFakeClock();
    const batch = createBatchClient(clock);

    const results = await batch.send(requests);

    expect(results.map(upnOf)).toEqual(['pupil0@school.example', 'pupil1@school.example', 'pupil2@school.example']);
    expect(clock.sleeps).toEqual([7000]);
    expect(fake.batchSizes).toEqual([3, 1]);
    expect(batch.stats).toMatchObject({ roundTrips: 2, innerRequests: 4, retries: 1, throttled: 1 });
  });

  it('when several items are throttled with the same Retry-After, their retries go out together in one batch', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    const requests = userLookups(fake, 60);
    // One throttled item in each of the three batches; each batch is answered 20 ms after the one before.
    for (const i of [5, 25, 45]) fake.failNext({ url: (requests[i] as BatchRequest).url.split('?')[0], status: 429, retryAfterSeconds: 2 });
    const clock = createFakeClock();
    const batch = createBatchClient(clock, { concurrency: 1, now: () => clock.now() + 20 * fake.records.length });

    const results = await batch.send(requests);

    expect(results.map(upnOf)).toEqual(Array.from({ length: 60 }, (_, i) => `pupil${i}@school.example`));
    expect(fake.batchSizes).toEqual([20, 20, 20, 3]);
    expect(batch.stats).toMatchObject({ roundTrips: 4, innerRequests: 63, retries: 3, throttled: 3 });
    // One wait, from the third batch's answer (at 60 ms) until its item's own Retry-After (2,060 ms): none is sent early.
    expect(clock.sleeps).toEqual([2000]);
  });

  it('retries a 503 without Retry-After after 1 s, then 2 s', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    fake.failNext({ url: '/subscribedSkus', status: 503, times: 2 });
    const clock = createFakeClock();
    const batch = createBatchClient(clock);

    const [result] = await batch.send([{ method: 'GET', url: '/subscribedSkus' }]);

    expect(result?.ok).toBe(true);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('when the whole batch is answered 429, sends every request again after its Retry-After', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    fake.failNextBatch({ status: 429, retryAfterSeconds: 2 });
    const clock = createFakeClock();
    const batch = createBatchClient(clock);

    const results = await batch.send(userLookups(fake, 4));

    expect(results.every((r) => r.ok)).toBe(true);
    expect(clock.sleeps).toEqual([2000]);
    expect(batch.stats).toMatchObject({ roundTrips: 2, retries: 4, throttled: 4 });
  });

  it('never waits longer than the Retry-After cap', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    fake.failNext({ url: '/subscribedSkus', status: 429, retryAfterSeconds: 3600 });
    const clock = createFakeClock();
    const batch = createBatchClient(clock, { maxRetryAfterSeconds: 30 });

    await batch.send([{ method: 'GET', url: '/subscribedSkus' }]);

    expect(clock.sleeps).toEqual([30_000]);
  });

  it('when Graph keeps refusing, gives up after the last attempt with a GraphServiceError that keeps status, code and request id', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    fake.failNext({ url: '/subscribedSkus', status: 503, times: 99 });
    const batch = createBatchClient(createFakeClock(), { maxAttempts: 3 });

    const [result] = await batch.send([{ method: 'GET', url: '/subscribedSkus' }]);

    expect(result?.ok).toBe(false);
    const error = (result as { error: GraphServiceError }).error;
    expect(error).toBeInstanceOf(GraphServiceError);
    expect(error).toMatchObject({ status: 503, code: 'ServiceUnavailable', kind: 'unavailable', request: { method: 'GET', path: '/subscribedSkus' } });
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.batchSizes).toEqual([1, 1, 1]);
  });

  it('returns a refusal for that item only and carries on with the others', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    const requests = [...userLookups(fake, 2), { method: 'GET' as const, url: '/users/00000000-0000-4000-8000-000000000000' }];
    const batch = createBatchClient(createFakeClock());

    const results = await batch.send(requests);

    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect((results[2] as { error: GraphServiceError }).error).toMatchObject({ status: 404, code: 'Request_ResourceNotFound', kind: 'notFound' });
    expect(batch.stats.retries).toBe(0);
  });

  it('retries the 404s of a request flagged as touching a just-created user, for the replication window only', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    fake.failNext({ url: '/users/', status: 404, code: 'Request_ResourceNotFound', times: 99 });
    const clock = createFakeClock();
    const batch = createBatchClient(clock, { replicationWaitSeconds: 5 });

    const [flagged] = await batch.send([{ method: 'GET', url: '/users/new-user', retryNotFound: true }]);

    expect((flagged as { error: GraphServiceError }).error.kind).toBe('notFound');
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it('puts a JSON Content-Type on every inner request with a body and keeps inner URLs relative', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    const user = fake.addUser({ userPrincipalName: 'pupil@school.example' });
    const batch = createBatchClient(createFakeClock());

    await batch.send([
      { method: 'PATCH', url: `/users/${user.id}`, body: { jobTitle: 'Pupil' } },
      { method: 'GET', url: `/users/${user.id}` },
    ]);

    const inner = (fake.records[0] as { body: { requests: { url: string; headers?: Record<string, string>; body?: unknown }[] } }).body.requests;
    expect(inner[0]).toMatchObject({ url: `/users/${user.id}`, headers: { 'Content-Type': 'application/json' } });
    expect(inner[1]?.headers).toBeUndefined();
  });

  it('follows @odata.nextLink until the last page', async () => {
    const fake = new GraphFake();
    fake.intercept(BASE);
    for (let i = 0; i < 12; i++) fake.addUser({ userPrincipalName: `pupil${i}@school.example` });
    const batch = createBatchClient(createFakeClock());

    const [result] = await batch.sendPaged([{ method: 'GET', url: '/users?$select=id&$top=5' }]);

    expect(result?.ok && result.value).toHaveLength(12);
    expect(fake.innerRequests().map((r) => r.url)).toEqual(['/users?$select=id&$top=5', '/users?$select=id&$top=5&$skiptoken=5', '/users?$select=id&$top=5&$skiptoken=10']);
  });

  it('treats an absolute or versioned URL as our own mistake, before sending anything', async () => {
    const batch = createBatchClient(createFakeClock());

    await expect(batch.send([{ method: 'GET', url: 'https://graph.microsoft.com/v1.0/users' }])).rejects.toBeInstanceOf(GraphUsageError);
    await expect(batch.send([{ method: 'GET', url: '/v1.0/users' }])).rejects.toBeInstanceOf(GraphUsageError);
    expect(batch.stats.roundTrips).toBe(0);
    expect(() => createBatchClient(createFakeClock(), { batchSize: 21 })).toThrow(GraphUsageError);
  });

  it('when Graph cannot be reached, retries and then throws GraphConnectionError for the whole run', async () => {
    nock(BASE).persist().post('/v1.0/$batch').replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    const clock = createFakeClock();
    const batch = createBatchClient(clock, { maxAttempts: 3 });

    await expect(batch.send([{ method: 'GET', url: '/subscribedSkus' }])).rejects.toBeInstanceOf(GraphConnectionError);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });
});
