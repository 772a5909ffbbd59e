import type { GraphServiceError } from '../../../graph/graph-errors';
import type { NewUser } from '../../../graph/graph-types';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

function pupil(n: number, overrides: Partial<NewUser> = {}): NewUser {
  return {
    userPrincipalName: `21pupil${n}@school.example`,
    displayName: `Pupil ${n}`,
    givenName: 'Pupil',
    surname: String(n),
    employeeId: `A12345678${String(n).padStart(4, '0')}`,
    password: `Otter${4000 + n}`,
    ...overrides,
  };
}

useOfflineNetwork();
verifyGraphContractAfterAll();
describe('GraphGateway users', () => {
  it('finds existing pupils by employeeId, 15 ids per query, without advanced query headers', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const existing = Array.from({ length: 20 }, (_, n) => fake.addUser({ userPrincipalName: `p${n}@school.example`, employeeId: `A12345678${String(n).padStart(4, '0')}` }));
    const { gateway } = createGatewayForFake();
    const wanted = [...existing.map((u) => u.employeeId as string), 'A999999999999'];

    const results = await gateway.findUsersByEmployeeId(wanted);

    expect(results.map((r) => (r.ok ? r.value.map((u) => u.id) : 'failed'))).toEqual([...existing.map((u) => [u.id]), []]);
    const queries = fake.innerRequests();
    expect(queries).toHaveLength(2);
    expect(decodeURIComponent(queries[0]?.url ?? '')).toContain("$filter=employeeId in ('A123456780000',");
    expect(queries[0]?.url).toContain('$select=id,userPrincipalName,displayName,givenName,surname,mailNickname,employeeId');
    const inner = fake.records.flatMap((r) => (r.body as { requests: { headers?: Record<string, string> }[] }).requests);
    expect(inner.some((r) => r.headers && 'ConsistencyLevel' in r.headers)).toBe(false);
  });

  it('when an employeeId has a quote in it, the filter doubles the quote', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const user = fake.addUser({ userPrincipalName: 'p@school.example', employeeId: "O'BRIEN-1" });
    const { gateway } = createGatewayForFake();

    const [result] = await gateway.findUsersByEmployeeId(["O'BRIEN-1"]);

    expect(result?.ok && result.value.map((u) => u.id)).toEqual([user.id]);
    expect(decodeURIComponent(fake.innerRequests()[0]?.url ?? '')).toContain("employeeId in ('O''BRIEN-1')");
  });

  it('looks users up by userPrincipalName, and a name nobody holds is free (undefined)', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const taken = fake.addUser({ userPrincipalName: '21zoee@school.example' });
    const { gateway } = createGatewayForFake();

    const results = await gateway.getUsersByUserPrincipalName(['21zoee@school.example', '21zoee2@school.example']);

    expect(results).toEqual([{ ok: true, value: expect.objectContaining({ id: taken.id }) }, { ok: true, value: undefined }]);
    expect(fake.innerRequests().map((r) => r.url.split('?')[0])).toEqual(['/users/21zoee@school.example', '/users/21zoee2@school.example']);
  });

  it('creates pupils with usageLocation GB, the employeeId and the password profile, results in input order', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { gateway } = createGatewayForFake();

    const results = await gateway.createUsers([pupil(1), pupil(2, { forceChangePasswordNextSignIn: true, department: 'Year 3' })]);

    expect(results.map((r) => r.ok && r.value.user.userPrincipalName)).toEqual(['21pupil1@school.example', '21pupil2@school.example']);
    expect(results.every((r) => r.ok && r.value.user.id && !r.value.alreadyExisted)).toBe(true);
    expect(fake.innerRequests()[0]?.body).toEqual({
      accountEnabled: true,
      displayName: 'Pupil 1',
      givenName: 'Pupil',
      surname: '1',
      mailNickname: '21pupil1',
      userPrincipalName: '21pupil1@school.example',
      passwordProfile: { password: 'Otter4001', forceChangePasswordNextSignIn: false },
      usageLocation: 'GB',
      employeeId: 'A123456780001',
    });
    expect(fake.userByPrincipalName('21pupil2@school.example')).toMatchObject({ department: 'Year 3', passwordProfile: { forceChangePasswordNextSignIn: true } });
  });

  it('when the userPrincipalName belongs to someone else, reports a conflict for that pupil only', async () => {
    const fake = new GraphFake();
    fake.intercept();
    fake.addUser({ userPrincipalName: '21pupil1@school.example', employeeId: 'SOMEONE-ELSE' });
    const { gateway } = createGatewayForFake();

    const [clash, fine] = await gateway.createUsers([pupil(1), pupil(2)]);

    expect(fine?.ok).toBe(true);
    const error = (clash as { error: GraphServiceError }).error;
    expect(error).toMatchObject({ status: 400, code: 'Request_BadRequest', kind: 'conflict' });
    expect(error.hasDetailCode('ObjectConflict')).toBe(true);
  });

  it('when the same pupil already exists (a resumed run), counts it as created instead of duplicating it', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const existing = fake.addUser({ userPrincipalName: '21pupil1@school.example', employeeId: 'A123456780001' });
    const { gateway } = createGatewayForFake();

    const [result] = await gateway.createUsers([pupil(1)]);

    expect(result).toEqual({ ok: true, value: { user: expect.objectContaining({ id: existing.id }), alreadyExisted: true } });
    expect(fake.users.size).toBe(1);
  });

  it('retries the 404s Graph returns just after creating a user, then succeeds', async () => {
    const fake = new GraphFake({ replicationDelayRequests: 2 });
    fake.intercept();
    const { gateway, clock } = createGatewayForFake();
    const [created] = await gateway.createUsers([pupil(1)]);
    const userId = created?.ok ? created.value.user.id : '';

    const [patched] = await gateway.updateUsers([{ userId, changes: { jobTitle: 'Pupil' } }]);

    expect(patched).toEqual({ ok: true, value: undefined });
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(fake.users.get(userId)?.jobTitle).toBe('Pupil');
  });

  it('disables leavers, revokes their sessions, resets passwords and deletes them; deleting a user already gone succeeds', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const leaver = fake.addUser({ userPrincipalName: 'leaver@school.example' });
    const { gateway } = createGatewayForFake();

    expect(await gateway.setAccountEnabled([{ userId: leaver.id, accountEnabled: false }])).toEqual([{ ok: true, value: undefined }]);
    expect(await gateway.revokeSignInSessions([leaver.id])).toEqual([{ ok: true, value: undefined }]);
    expect(await gateway.resetPasswords([{ userId: leaver.id, password: 'Badger2024' }])).toEqual([{ ok: true, value: undefined }]);
    expect(fake.users.get(leaver.id)).toMatchObject({ accountEnabled: false, signInSessionsRevoked: 1, passwordProfile: { password: 'Badger2024', forceChangePasswordNextSignIn: false } });
    expect(await gateway.deleteUsers([leaver.id, leaver.id])).toEqual([{ ok: true, value: undefined }, { ok: true, value: undefined }]);
    expect(fake.users.has(leaver.id)).toBe(false);
  });

  it("reads a user's licences, sign-in state and direct groups; an unknown user is undefined", async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { sku } = fake.seedSchool();
    const user = fake.addUser({ userPrincipalName: 'p@school.example', accountEnabled: false, assignedLicenses: [{ skuId: sku.skuId, disabledPlans: [] }] });
    const group = fake.addGroup({ displayName: 'All Pupils', members: [user.id] });
    fake.addGroup({ displayName: 'Other' });
    const { gateway } = createGatewayForFake();

    const [state, missing] = await gateway.getUserStates([user.id, '00000000-0000-4000-8000-000000000000']);

    expect(state).toEqual({
      ok: true,
      value: { id: user.id, userPrincipalName: 'p@school.example', accountEnabled: false, usageLocation: 'GB', assignedLicences: [{ skuId: sku.skuId, disabledPlans: [] }], groupIds: [group.id] },
    });
    expect(missing).toEqual({ ok: true, value: undefined });
  });
});
