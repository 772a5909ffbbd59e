import { LicenceNotFoundError, type GraphServiceError } from '../../../graph/graph-errors';
import { toMailNickname } from '../../../graph/graph-gateway';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

useOfflineNetwork();
verifyGraphContractAfterAll();
describe('GraphGateway licences', () => {
  it('resolves the pupil SKU part number and plan names to ids', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { sku } = fake.seedSchool();
    const { gateway } = createGatewayForFake();

    const licence = await gateway.getLicenceSku('standardwoffpack_student', ['EXCHANGE_S_STANDARD']);

    const exchange = sku.servicePlans.find((p) => p.servicePlanName === 'EXCHANGE_S_STANDARD');
    expect(licence).toMatchObject({ skuId: sku.skuId, skuPartNumber: 'STANDARDWOFFPACK_STUDENT', disabledPlanIds: [exchange?.servicePlanId], enabledUnits: 1000 });
  });

  it('when the tenant lacks the SKU, says which SKUs it has', async () => {
    const fake = new GraphFake();
    fake.intercept();
    fake.addSku('M365EDU_A3_STUDENT', ['EXCHANGE_S_ENTERPRISE']);
    fake.addSku('STANDARDWOFFPACK_FACULTY', ['EXCHANGE_S_STANDARD']);
    const { gateway } = createGatewayForFake();

    const error = await gateway.getLicenceSku('STANDARDWOFFPACK_STUDENT').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LicenceNotFoundError);
    expect((error as Error).message).toBe(
      'The tenant has no subscription with SKU part number "STANDARDWOFFPACK_STUDENT". It has: M365EDU_A3_STUDENT, STANDARDWOFFPACK_FACULTY. Set the pupil SKU to one of these.',
    );
    expect(error).toMatchObject({ available: ['M365EDU_A3_STUDENT', 'STANDARDWOFFPACK_FACULTY'] });
  });

  it('when the SKU lacks a plan to disable, names the missing plan and lists the plans it has', async () => {
    const fake = new GraphFake();
    fake.intercept();
    fake.addSku('STANDARDWOFFPACK_STUDENT', ['TEAMS1', 'EXCHANGE_S_STANDARD']);
    const { gateway } = createGatewayForFake();

    const error = await gateway.getLicenceSku('STANDARDWOFFPACK_STUDENT', ['EXCHANGE_S_STANDARD', 'YAMMER_EDU']).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LicenceNotFoundError);
    expect((error as Error).message).toBe('SKU STANDARDWOFFPACK_STUDENT has no service plan named "YAMMER_EDU". Its plans are: EXCHANGE_S_STANDARD, TEAMS1.');
    expect(error).toMatchObject({ missingPlanNames: ['YAMMER_EDU'] });
  });

  it('assigns the licence with email disabled; a user without usageLocation fails on its own', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { sku } = fake.seedSchool();
    const ok = fake.addUser({ userPrincipalName: 'ok@school.example' });
    const nowhere = fake.addUser({ userPrincipalName: 'nowhere@school.example', usageLocation: null });
    const { gateway } = createGatewayForFake();
    const licence = await gateway.getLicenceSku('STANDARDWOFFPACK_STUDENT', ['EXCHANGE_S_STANDARD']);

    const [assigned, refused] = await gateway.assignLicences([ok, nowhere].map((u) => ({ userId: u.id, skuId: licence.skuId, disabledPlanIds: licence.disabledPlanIds })));

    expect(assigned).toEqual({ ok: true, value: undefined });
    expect(fake.users.get(ok.id)?.assignedLicenses).toEqual([{ skuId: sku.skuId, disabledPlans: licence.disabledPlanIds }]);
    expect((refused as { error: GraphServiceError }).error).toMatchObject({ status: 400, code: 'Request_BadRequest', kind: 'badRequest' });
    expect(fake.innerRequests().find((r) => r.url.endsWith('/assignLicense'))?.body).toEqual({
      addLicenses: [{ skuId: sku.skuId, disabledPlans: licence.disabledPlanIds }],
      removeLicenses: [],
    });
  });
});

describe('GraphGateway groups', () => {
  it("finds security groups by display name, doubling quotes, and ignores groups that aren't security groups", async () => {
    const fake = new GraphFake();
    fake.intercept();
    const security = fake.addGroup({ displayName: "St Mary's Pupils" });
    fake.addGroup({ displayName: "St Mary's Pupils", securityEnabled: false, mailEnabled: true, groupTypes: ['Unified'] });
    const { gateway } = createGatewayForFake();

    const [found, none] = await gateway.findSecurityGroups(["St Mary's Pupils", 'Pupils Cohort 21']);

    expect(found?.ok && found.value.map((g) => g.id)).toEqual([security.id]);
    expect(none).toEqual({ ok: true, value: [] });
    expect(decodeURIComponent(fake.innerRequests()[0]?.url ?? '')).toContain("$filter=displayName eq 'St Mary''s Pupils'");
  });

  it('creates security groups that are not mail-enabled, with a safe mailNickname', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const { gateway } = createGatewayForFake();

    const [created] = await gateway.createSecurityGroups([{ displayName: 'Pupils Cohort 21 (Zoë’s class)' }]);

    expect(created?.ok && created.value).toMatchObject({ displayName: 'Pupils Cohort 21 (Zoë’s class)', securityEnabled: true, mailEnabled: false });
    expect(fake.innerRequests()[0]?.body).toEqual({ displayName: 'Pupils Cohort 21 (Zoë’s class)', mailEnabled: false, securityEnabled: true, mailNickname: 'pupils-cohort-21-zoe-s-class' });
  });

  it('adds members by directoryObject reference, and a member already in the group counts as success', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const a = fake.addUser({ userPrincipalName: 'a@school.example' });
    const b = fake.addUser({ userPrincipalName: 'b@school.example' });
    const group = fake.addGroup({ displayName: 'All Pupils', members: [a.id] });
    const { gateway } = createGatewayForFake();

    const results = await gateway.addGroupMembers([a, b].map((u) => ({ groupId: group.id, memberId: u.id })));

    expect(results).toEqual([{ ok: true, value: 'alreadyMember' }, { ok: true, value: 'added' }]);
    expect([...group.members]).toEqual([a.id, b.id]);
    expect(fake.innerRequests()[1]?.body).toEqual({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${b.id}` });
  });

  it('a 400 for a member who is not in the group is still a failure', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const a = fake.addUser({ userPrincipalName: 'a@school.example' });
    const group = fake.addGroup({ displayName: 'All Pupils' });
    fake.failNext({ url: '/members/$ref', status: 400, code: 'Request_BadRequest', message: 'Invalid object identifier.' });
    const { gateway } = createGatewayForFake();

    const [result] = await gateway.addGroupMembers([{ groupId: group.id, memberId: a.id }]);

    expect((result as { error: GraphServiceError }).error).toMatchObject({ status: 400, kind: 'badRequest' });
  });

  it('lists member ids across pages and removes members, ignoring members already gone', async () => {
    const fake = new GraphFake();
    fake.intercept();
    const users = Array.from({ length: 3 }, (_, i) => fake.addUser({ userPrincipalName: `u${i}@school.example` }));
    const group = fake.addGroup({ displayName: 'Pupils Cohort 21', members: users.map((u) => u.id) });
    const { gateway } = createGatewayForFake();

    expect(await gateway.listGroupMemberIds([group.id])).toEqual([{ ok: true, value: users.map((u) => u.id) }]);
    const removed = await gateway.removeGroupMembers([{ groupId: group.id, memberId: users[0]?.id as string }, { groupId: group.id, memberId: users[0]?.id as string }]);
    expect(removed).toEqual([{ ok: true, value: undefined }, { ok: true, value: undefined }]);
    expect(group.members.size).toBe(2);
  });
});

describe('toMailNickname', () => {
  it.each([
    ['All Pupils', 'all-pupils'],
    ['Pupils Cohort 21', 'pupils-cohort-21'],
    ['Zoë & Łukasz', 'zoe-lukasz'],
    ['  --  ', 'group'],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('turns %j into %j', (displayName, nickname) => {
    expect(toMailNickname(displayName)).toBe(nickname);
  });
});
