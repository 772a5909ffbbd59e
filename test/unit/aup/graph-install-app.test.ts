import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

useOfflineNetwork();
verifyGraphContractAfterAll();

describe('GraphGateway.installAppForUsers', () => {
  it('posts the catalog app binding to each user\'s installedApps; "already installed" counts as installed and other refusals keep their status', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const users = ['a', 'b'].map((n) => fake.addUser({ userPrincipalName: `${n}@school.example` }));
    fake.failNext({ method: 'POST', url: new RegExp(`/users/${users[0]!.id}/teamwork/installedApps`), status: 409, code: 'Conflict' });
    fake.failNext({ method: 'POST', url: new RegExp(`/users/${users[1]!.id}/teamwork/installedApps`), status: 403, code: 'Forbidden' });
    const { gateway } = createGatewayForFake();

    const results = await gateway.installAppForUsers(users.map((u) => ({ userId: u.id, teamsAppId: 'catalog-app-1' })));

    expect(results[0]).toEqual({ ok: true, value: undefined });
    expect(results[1]).toMatchObject({ ok: false, error: { status: 403 } });
    const calls = fake.innerRequests().filter((r) => r.url.includes('installedApps'));
    expect(calls.map((c) => c.url)).toEqual(users.map((u) => `/users/${u.id}/teamwork/installedApps`));
    expect(calls[0]!.body).toEqual({ 'teamsApp@odata.bind': 'https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/catalog-app-1' });
  });
});
