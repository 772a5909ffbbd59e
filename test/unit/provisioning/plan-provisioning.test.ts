import { pupilProvisioningSettings } from '../../support/school-settings';
import { createMemoryLogger } from '../../../infra/logger';
import { GraphServiceError, LicenceNotFoundError } from '../../../graph/graph-errors';
import type { GraphGroup, GraphResult, GraphUser, LicenceSku } from '../../../graph/graph-types';
import type { AuditEntry } from '../../../records/audit-store';
import type { PupilRecord } from '../../../records/pupil-register-store';
import { readRollCsv, type RollPupil, type RollReadResult } from '../../../school/pupil-roll';
import { manageLeavers } from '../../../usecases/manage-leavers';
import { planProvisioning, type ProvisioningDependencies, type ProvisioningGateway, type ProvisioningRow } from '../../../usecases/provision-pupils';

const SETTINGS = pupilProvisioningSettings('oakfield.example');
const LICENCE = 'STANDARDWOFFPACK_STUDENT:EXCHANGE_S_STANDARD';
const POLICIES = 'EduStudent-ChatOff|EduStudent-NoMeetings';
const NOW = new Date('2026-09-07T09:00:00Z');

/** The register, in memory. */
class MemoryRegister {
  readonly rows = new Map<string, PupilRecord>();
  saves = 0;
  constructor(records: PupilRecord[] = []) {
    for (const r of records) this.rows.set(r.externalId, r);
  }
  async listPupils(): Promise<PupilRecord[]> {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  async savePupils(_schoolId: string, records: readonly PupilRecord[]): Promise<void> {
    this.saves += 1;
    for (const r of records) this.rows.set(r.externalId, structuredClone(r));
  }
}

/** A tenant that can only be read: any change throws, which is what a plan must never do. */
class ReadOnlyTenant implements ProvisioningGateway {
  users: GraphUser[] = [];
  groups: GraphGroup[] = [{ id: 'g-all', displayName: 'All Pupils', mailNickname: 'all', mailEnabled: false, securityEnabled: true, groupTypes: [] }];
  policies = new Map([
    ['TeamsMessagingPolicy:EduStudent-ChatOff', 'p-msg'],
    ['TeamsMeetingPolicy:EduStudent-NoMeetings', 'p-meet'],
  ]);
  sku: LicenceSku | Error = { skuId: 'sku-1', skuPartNumber: 'STANDARDWOFFPACK_STUDENT', servicePlans: [], enabledUnits: 500, consumedUnits: 10, disabledPlanIds: ['plan-exo'] };
  calls: string[] = [];

  addUser(user: Partial<GraphUser> & { userPrincipalName: string }): GraphUser {
    const full: GraphUser = { id: `u-${this.users.length + 1}`, displayName: '', givenName: null, surname: null, mailNickname: null, employeeId: null, accountEnabled: true, usageLocation: 'GB', department: null, jobTitle: null, ...user };
    this.users.push(full);
    return full;
  }

  async findUsersByEmployeeId(ids: readonly string[]): Promise<GraphResult<GraphUser[]>[]> {
    this.calls.push('findUsersByEmployeeId');
    return ids.map((id) => ({ ok: true, value: this.users.filter((u) => u.employeeId?.toLowerCase() === id.toLowerCase()) }));
  }
  async getUsersByUserPrincipalName(upns: readonly string[]): Promise<GraphResult<GraphUser | undefined>[]> {
    this.calls.push('getUsersByUserPrincipalName');
    return upns.map((upn) => ({ ok: true, value: this.users.find((u) => u.userPrincipalName === upn) }));
  }
  async getLicenceSku(): Promise<LicenceSku> {
    this.calls.push('getLicenceSku');
    if (this.sku instanceof Error) throw this.sku;
    return this.sku;
  }
  async getTeamsPolicyIds(refs: readonly { type: string; name: string }[]): Promise<GraphResult<string | undefined>[]> {
    this.calls.push('getTeamsPolicyIds');
    return refs.map((r) => ({ ok: true, value: this.policies.get(`${r.type}:${r.name}`) }));
  }
  async findSecurityGroups(names: readonly string[]): Promise<GraphResult<GraphGroup[]>[]> {
    this.calls.push('findSecurityGroups');
    return names.map((name) => ({ ok: true, value: this.groups.filter((g) => g.displayName === name) }));
  }
  createUsers = refuse;
  updateUsers = refuse;
  setAccountEnabled = refuse;
  resetPasswords = refuse;
  assignLicences = refuse;
  createSecurityGroups = refuse;
  addGroupMembers = refuse;
  removeGroupMembers = refuse;
  assignTeamsPolicies = refuse;
}

async function refuse(): Promise<never> {
  throw new Error('a plan must not change the tenant');
}

function pupil(row: number, forename: string, surname: string, extra: Partial<RollPupil> = {}): RollPupil {
  return { row, externalId: `ADM${row}`, admissionNumber: `ADM${row}`, forename, surname, yearGroup: '3', registrationGroup: '3T', ...extra };
}

function roll(...pupils: RollPupil[]): RollReadResult {
  return { pupils, rejected: [] };
}

/** A register row for a pupil provisioned in full by an earlier run. */
function provisioned(p: RollPupil, upn: string, extra: Partial<PupilRecord> = {}): PupilRecord {
  return {
    externalId: p.externalId,
    admissionNumber: p.admissionNumber,
    forename: p.forename,
    surname: p.surname,
    yearGroup: p.yearGroup,
    registrationGroup: p.registrationGroup,
    cohort: '23',
    userPrincipalName: upn,
    userId: `id-${p.externalId}`,
    status: 'active',
    accountOrigin: 'created',
    licence: LICENCE,
    licenceSkuId: 'sku-1',
    groups: [{ id: 'g-all', name: 'All Pupils' }, { id: 'g-23', name: 'Pupils Cohort 23' }],
    policies: POLICIES,
    credentialsIssuedAt: '2025-09-05T10:00:00.000Z',
    createdAt: '2025-09-05T10:00:00.000Z',
    updatedAt: '2025-09-05T10:00:00.000Z',
    activeSince: '2025-09-05T10:00:00.000Z',
    ...extra,
  };
}

function setup(options: { register?: PupilRecord[]; tenant?: ReadOnlyTenant | false } = {}) {
  const register = new MemoryRegister(options.register);
  const audit: AuditEntry[] = [];
  const tenant = options.tenant === false ? undefined : (options.tenant ?? new ReadOnlyTenant());
  const logger = createMemoryLogger();
  const deps: ProvisioningDependencies = {
    schoolId: 'oakfield',
    register,
    audit: { appendAudit: async (_id, entry) => void audit.push(entry), appendAudits: async (_id, entries) => void audit.push(...entries) },
    ...(tenant ? { gateway: tenant } : {}),
    settings: SETTINGS,
    actorId: 'admin-1',
    clock: () => NOW,
    logger,
  };
  return { deps, register, audit, tenant, logger };
}

function byRow(rows: ProvisioningRow[], row: number): ProvisioningRow {
  const found = rows.find((r) => r.row === row);
  if (!found) throw new Error(`no row ${row}`);
  return found;
}

describe('planProvisioning', () => {
  it('plans a new pupil as create, with the username from the pattern and the cohort from the year group', async () => {
    const { deps } = setup({ tenant: false });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Zoë', "O'Neill")), academicYearStart: 2026 });

    expect(plan.rows).toEqual([{ row: 2, externalId: 'ADM2', upn: '23zoeo@oakfield.example', action: 'create', reason: expect.stringContaining('New pupil') }]);
    expect(plan.summary).toMatchObject({ create: 1, tenantChecked: false, groupsToCreate: ['All Pupils', 'Pupils Cohort 23'] });
  });

  it('when two pupils would get the same username, the later row gets 2 appended', async () => {
    const { deps } = setup({ tenant: false });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Oliver', 'Smith'), pupil(3, 'Olivér', 'Stone')), academicYearStart: 2026 });

    expect(plan.rows.map((r) => r.upn)).toEqual(['23olivers@oakfield.example', '23olivers2@oakfield.example']);
  });

  it('a pupil the register has in full, with the same details, is unchanged', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown');
    const { deps } = setup({ register: [provisioned(p, '23ameliat@oakfield.example')], tenant: false });

    const plan = await planProvisioning(deps, { roll: roll(p), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'unchanged', upn: '23ameliat@oakfield.example' });
  });

  it('when a name changes in the MIS the username stays, and a class change is an update', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown');
    const { deps } = setup({ register: [provisioned(p, '23ameliat@oakfield.example')], tenant: false });

    const plan = await planProvisioning(deps, { roll: roll({ ...p, surname: 'Brightwater', registrationGroup: '3B' }), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'update', upn: '23ameliat@oakfield.example' });
    expect(byRow(plan.rows, 2).reason).toMatch(/Name changed in the MIS \(the username stays the same\)\. Class changed\./);
  });

  it('rows the roll reader rejected, and a name with no usable letters, are rejected with the reason', async () => {
    const csv = 'UPN,Forename,Surname,Year\nN999000026021,Zoë,Ng,1\nM999000026028,!!!,Symbolworth,2\nD999000026013,Juniper,,5\n';
    const { deps } = setup({ tenant: false });

    const plan = await planProvisioning(deps, { roll: readRollCsv(csv), academicYearStart: 2026 });

    expect(plan.rows.map((r) => [r.row, r.action])).toEqual([[2, 'create'], [3, 'reject'], [4, 'reject']]);
    expect(byRow(plan.rows, 3).reason).toMatch(/forename "!!!" has no letters/);
    expect(byRow(plan.rows, 4).reason).toMatch(/add the pupil's surname/);
  });

  it('an id longer than the 16 characters employeeId allows is rejected', async () => {
    const { deps } = setup({ tenant: false });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Caspian', 'Oakhollow', { externalId: 'sds-student-000000042' })), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'reject', reason: expect.stringContaining('16 characters') });
  });

  it('with a tenant, a username another account already holds is passed over for the next free one', async () => {
    const tenant = new ReadOnlyTenant();
    tenant.addUser({ userPrincipalName: '23olivers@oakfield.example', employeeId: 'STAFF-77' });
    const { deps } = setup({ tenant });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Oliver', 'Smith')), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'create', upn: '23olivers2@oakfield.example' });
    expect(plan.summary.tenantChecked).toBe(true);
  });

  it('an account with the pupil employeeId is taken into the register when its username follows the pattern', async () => {
    const tenant = new ReadOnlyTenant();
    tenant.addUser({ userPrincipalName: '23ameliat@oakfield.example', employeeId: 'ADM2', givenName: 'Amelia', surname: 'Thistledown' });
    const { deps } = setup({ tenant });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Amelia', 'Thistledown')), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'update', upn: '23ameliat@oakfield.example', reason: expect.stringContaining('taken into the register') });
  });

  it('an account with the pupil employeeId but another kind of username is never touched: the row is rejected', async () => {
    const tenant = new ReadOnlyTenant();
    tenant.addUser({ userPrincipalName: 'a.thistledown@oakfield.example', employeeId: 'ADM2' });
    const { deps } = setup({ tenant });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Amelia', 'Thistledown')), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'reject', reason: expect.stringContaining('a.thistledown@oakfield.example') });
  });

  it('a pupil an interrupted run left pending is finished, with a new password because no slip was printed', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown');
    const tenant = new ReadOnlyTenant();
    tenant.addUser({ id: 'id-ADM2', userPrincipalName: '23ameliat@oakfield.example', employeeId: 'ADM2', givenName: 'Amelia', surname: 'Thistledown' });
    const pendingRow = provisioned(p, '23ameliat@oakfield.example', { status: 'pending', userId: undefined, licence: undefined, licenceSkuId: undefined, groups: [], policies: undefined, credentialsIssuedAt: undefined });
    const { deps } = setup({ register: [pendingRow], tenant });

    const plan = await planProvisioning(deps, { roll: roll(p), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2).action).toBe('update');
    expect(byRow(plan.rows, 2).reason).toContain('A new password');
    expect(byRow(plan.rows, 2).reason).toContain('Still to do from an earlier run: licence, groups and Teams policies.');
  });

  it('a register row whose account was never created is still a create, keeping the username it was given', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown');
    const pendingRow = provisioned(p, '23ameliat2@oakfield.example', { status: 'pending', userId: undefined, licence: undefined, groups: [], policies: undefined, credentialsIssuedAt: undefined });
    const { deps } = setup({ register: [pendingRow] });

    const plan = await planProvisioning(deps, { roll: roll(p), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'create', upn: '23ameliat2@oakfield.example', reason: expect.stringContaining('earlier run stopped') });
  });

  it('a leaver back on the roll is an update that enables the account again', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown');
    const { deps } = setup({ register: [provisioned(p, '23ameliat@oakfield.example', { status: 'leaver-disabled', disabledAt: '2026-07-20T10:00:00Z' })], tenant: false });

    const plan = await planProvisioning(deps, { roll: roll(p), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'update', reason: expect.stringContaining('enabled again') });
  });

  it('a pupil whose cohort changes moves to the new cohort group', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown', { yearGroup: '2' });
    const { deps } = setup({ register: [provisioned(p, '23ameliat@oakfield.example')], tenant: false });

    const plan = await planProvisioning(deps, { roll: roll(p), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2).reason).toContain('Cohort changed: the pupil moves to All Pupils and Pupils Cohort 24.');
  });

  it('a missing Teams policy is a blocker naming the policy to create and its settings', async () => {
    const tenant = new ReadOnlyTenant();
    tenant.policies.delete('TeamsMeetingPolicy:EduStudent-NoMeetings');
    const { deps } = setup({ tenant });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Amelia', 'Thistledown')), academicYearStart: 2026 });

    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]).toMatch(/no meeting policy named "EduStudent-NoMeetings"/);
    expect(plan.blockers[0]).toMatch(/Teams admin center.*Meet now, Cloud recording and Transcription/);
  });

  it('a missing licence SKU and too few free licences are blockers', async () => {
    const tenant = new ReadOnlyTenant();
    tenant.sku = new LicenceNotFoundError('The tenant has no subscription with SKU part number "STANDARDWOFFPACK_STUDENT".', 'STANDARDWOFFPACK_STUDENT', [], ['M365EDU_A3_STUDENT']);
    const { deps } = setup({ tenant });
    expect((await planProvisioning(deps, { roll: roll(pupil(2, 'Amelia', 'Thistledown')), academicYearStart: 2026 })).blockers[0]).toMatch(/PUPIL_SKU/);

    const fullTenant = new ReadOnlyTenant();
    fullTenant.sku = { ...(fullTenant.sku as LicenceSku), enabledUnits: 1, consumedUnits: 1 };
    const full = setup({ tenant: fullTenant });
    expect((await planProvisioning(full.deps, { roll: roll(pupil(2, 'Amelia', 'Thistledown')), academicYearStart: 2026 })).blockers[0]).toMatch(/0 free STANDARDWOFFPACK_STUDENT licences but this run needs 1/);
  });

  it('when the tenant lookup fails for a pupil, that row is failed with the Graph status and code', async () => {
    const tenant = new ReadOnlyTenant();
    tenant.findUsersByEmployeeId = async (ids) => ids.map(() => ({ ok: false, error: new GraphServiceError({ status: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges.', requestId: 'req-1' }) }));
    const { deps } = setup({ tenant });

    const plan = await planProvisioning(deps, { roll: roll(pupil(2, 'Amelia', 'Thistledown')), academicYearStart: 2026 });

    expect(byRow(plan.rows, 2)).toMatchObject({ action: 'failed', reason: expect.stringMatching(/403 Authorization_RequestDenied, request-id req-1\. Check that the app/) });
  });

  it('plan changes nothing: no register write, no audit entry, and only reads of the tenant', async () => {
    const p = pupil(2, 'Amelia', 'Thistledown');
    const { deps, register, audit, tenant } = setup({ register: [provisioned(pupil(3, 'Bea', 'Quill'), '23beaq@oakfield.example')] });

    const plan = await planProvisioning(deps, { roll: roll(p, pupil(4, 'Zoë', 'Ng', { yearGroup: 'R', registrationGroup: 'RB' })), academicYearStart: 2026 });

    expect(plan.summary).toMatchObject({ create: 2, notOnRoll: 1 });
    expect(register.saves).toBe(0);
    expect(audit).toEqual([]);
    expect(new Set(tenant?.calls)).toEqual(new Set(['findUsersByEmployeeId', 'getUsersByUserPrincipalName', 'getLicenceSku', 'getTeamsPolicyIds', 'findSecurityGroups']));
  });
});

describe('manageLeavers safety', () => {
  it('refuses when most pupils are missing from the roll, which looks like a one-class export', async () => {
    const register = Array.from({ length: 10 }, (_, i) => provisioned(pupil(i + 2, `Pupil${i}`, 'Test'), `23pupil${i}t@oakfield.example`));
    const { deps } = setup({ register, tenant: false });

    const result = await manageLeavers({ ...deps, gateway: undefined, graceDays: 30 }, { roll: roll(pupil(2, 'Pupil0', 'Test')), apply: false });

    expect(result.refused).toMatch(/9 of the 10 pupils in the register are missing from this roll/);
    expect(result.rows).toEqual([]);
  });

  it('a dry run lists pupils missing from the roll as disable, changing nothing', async () => {
    const register = Array.from({ length: 4 }, (_, i) => provisioned(pupil(i + 2, `Pupil${i}`, 'Test'), `23pupil${i}t@oakfield.example`));
    const { deps, register: store, audit } = setup({ register, tenant: false });

    const result = await manageLeavers({ ...deps, gateway: undefined, graceDays: 30 }, { roll: roll(...[0, 1, 2].map((i) => pupil(i + 2, `Pupil${i}`, 'Test'))), apply: false });

    expect(result.rows).toEqual([{ row: null, externalId: 'ADM5', upn: '23pupil3t@oakfield.example', action: 'disable', reason: expect.stringContaining('Not on the current roll') }]);
    expect(store.saves).toBe(0);
    expect(audit).toEqual([]);
  });
});
