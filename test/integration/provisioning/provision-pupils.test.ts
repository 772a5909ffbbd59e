import { pupilProvisioningSettings } from '../../support/school-settings';
import { createMemoryLogger } from '../../../infra/logger';
import type { GraphGateway } from '../../../graph/graph-gateway';
import { AuditStore } from '../../../records/audit-store';
import { ProvisioningRunStore } from '../../../records/provisioning-run-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { TABLE_NAMES, Tables } from '../../../records/tables';
import { meetsEntraPasswordRules } from '../../../school/pupil-passwords';
import { readRollCsv, type RollReadResult } from '../../../school/pupil-roll';
import { renderCredentialSlips, type CredentialSlip } from '../../../usecases/credential-slips';
import { manageLeavers } from '../../../usecases/manage-leavers';
import { applyProvisioning, planProvisioning, type ApplyProvisioningRequest, type ProvisioningDependencies, type ProvisioningGateway } from '../../../usecases/provision-pupils';
import { resetPupilPassword } from '../../../usecases/reset-pupil-password';
import { checkGraphContract } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake, type FakeSku } from '../../support/graph-fake';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const DOMAIN = 'oakfield.example';
const ACADEMIC_YEAR = 2026;
const UPN_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';

/** A well-formed unique pupil number with the right check letter. */
function upnFor(n: number): string {
  const digits = `999${String(n).padStart(9, '0')}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (i + 2);
  return `${UPN_LETTERS[sum % 23]}${digits}`;
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const AWKWARD: [string, string, string, string][] = [
  ['Zoë', 'Ngata', '1', '1N'],
  ['Zoe', 'Nashworth', '1', '1N'],
  ['Łukasz', 'Żółkiewski-Brook', '2', '2K'],
  ['Saoirse', "O'Brannagh", '2', '2K'],
  ['Mary-Jane', "O'Connell-Pike", '4', '4M'],
  ['Anna Maria', 'de la Fontaine', '5', '5F'],
  ['Æsa', 'Straßmann', '6', '6S'],
  ['Đurđa', 'İncesu', 'R', 'RB'],
  ['Oliveira', 'Smithers', '3', '3T'],
  ['Oliveira', 'Smithers', '3', '3T'],
  ['Oliveira', 'Saunderby', '3', '3T'],
  ['Renée', "D'Arcyville", '4', '4 "Oak", Upper'],
];
const FORENAMES = ['Amelia', 'Theodora', 'Caspian', 'Wilhelmina', 'Persephone', 'Bartholomew', 'Ottilie', 'Juniper', 'Florian', 'Marigold', 'Evander', 'Linnea'];
const SURNAMES = ['Thistledown', 'Brightwater', 'Quillfeather', 'Marchbank', 'Oakhollow', 'Fairbrook'];
const YEARS = ['R', '1', '2', '3', '4', '5', '6'];

/** 60 pupils (12 with awkward names, two with identical names) and three rows the reader rejects. */
function buildRoll(count = 60): { csv: string; pupils: { upn: string; forename: string; surname: string }[] } {
  const rows: string[][] = [];
  for (let n = 0; n < count; n++) {
    const awkward = AWKWARD[n];
    const year = YEARS[n % YEARS.length] as string;
    const [forename, surname, yearGroup, group] = awkward ?? [FORENAMES[n % FORENAMES.length] as string, SURNAMES[n % SURNAMES.length] as string, year, `${year}${'ABC'[n % 3]}`];
    rows.push([upnFor(n + 1), forename, surname, yearGroup, group]);
  }
  const pupils = rows.map(([upn, forename, surname]) => ({ upn: upn as string, forename: forename as string, surname: surname as string }));
  rows.push([upnFor(900), 'Juniper', '', '5', '5A']);
  rows.push([upnFor(3), 'Łukasz', 'Żółkiewski-Brook', '2', '2K']);
  rows.push([upnFor(901), '!!!', 'Symbolworth', '2', '2K']);
  return { csv: ['UPN,Forename,Surname,Year,Reg Group', ...rows.map((r) => r.map(csvField).join(','))].join('\r\n'), pupils };
}

interface Harness {
  fake: GraphFake;
  sku: FakeSku;
  gateway: GraphGateway;
  deps: ProvisioningDependencies;
  register: PupilRegisterStore;
  audit: AuditStore;
  runs: ProvisioningRunStore;
  tables: Tables;
  logLines: string[];
  slips: CredentialSlip[];
  setNow(date: Date): void;
  apply(roll: RollReadResult, overrides?: Partial<ApplyProvisioningRequest>, gateway?: ProvisioningGateway): ReturnType<typeof applyProvisioning>;
}

function createHarness(options: { seedPolicies?: boolean } = {}): Harness {
  const fake = new GraphFake({ seed: 7 });
  let sku: FakeSku;
  if (options.seedPolicies === false) {
    sku = fake.addSku('STANDARDWOFFPACK_STUDENT', ['EXCHANGE_S_STANDARD', 'TEAMS1', 'SHAREPOINTSTANDARD_EDU']);
    fake.addTeamsPolicy('TeamsMessagingPolicy', 'EduStudent-ChatOff');
  } else {
    sku = fake.seedSchool().sku;
  }
  fake.intercept();
  const { gateway } = createGatewayForFake();
  let now = new Date('2026-09-07T09:00:00Z');
  const clock = (): Date => now;
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const register = new PupilRegisterStore(tables);
  const audit = new AuditStore(tables, clock);
  const runs = new ProvisioningRunStore(tables);
  const logger = createMemoryLogger('debug');
  const slips: CredentialSlip[] = [];
  const deps: ProvisioningDependencies = {
    schoolId: uniqueSchoolId('prov'),
    register,
    audit,
    runs,
    gateway,
    settings: pupilProvisioningSettings(DOMAIN),
    actorId: 'admin-object-id',
    clock,
    logger,
  };
  return {
    fake,
    sku,
    gateway,
    deps,
    register,
    audit,
    runs,
    tables,
    logLines: logger.lines,
    slips,
    setNow: (date) => {
      now = date;
    },
    apply: (roll, overrides = {}, otherGateway) =>
      applyProvisioning(otherGateway ? { ...deps, gateway: otherGateway } : deps, {
        roll,
        academicYearStart: ACADEMIC_YEAR,
        deliverSlips: async (issued) => {
          slips.push(...issued);
        },
        ...overrides,
      }),
  };
}

function mutatingRequests(fake: GraphFake): { method: string; url: string }[] {
  return fake.innerRequests().filter((r) => r.method !== 'GET');
}

async function expectContract(fake: GraphFake): Promise<void> {
  expect((await checkGraphContract(fake.records)).errors).toEqual([]);
}

/** Every pupil exists once, licensed without Exchange, in both groups, with both Teams policies. */
function expectFullyProvisioned(h: Harness, register: PupilRecord[], upns: string[]): void {
  const exchange = h.sku.servicePlans.find((p) => p.servicePlanName === 'EXCHANGE_S_STANDARD')?.servicePlanId;
  const messaging = h.fake.teamsPolicies.find((p) => p.name === 'EduStudent-ChatOff')?.policyId;
  const meeting = h.fake.teamsPolicies.find((p) => p.name === 'EduStudent-NoMeetings')?.policyId;
  const allPupils = [...h.fake.groups.values()].find((g) => g.displayName === 'All Pupils');
  for (const upn of upns) {
    const accounts = [...h.fake.users.values()].filter((u) => u.employeeId === upn);
    expect(accounts).toHaveLength(1);
    const user = accounts[0]!;
    const record = register.find((r) => r.externalId === upn);
    expect(record).toMatchObject({ status: 'active', userId: user.id, userPrincipalName: user.userPrincipalName });
    expect(user).toMatchObject({ usageLocation: 'GB', accountEnabled: true });
    expect(user.assignedLicenses).toEqual([{ skuId: h.sku.skuId, disabledPlans: [exchange] }]);
    const groups = [...h.fake.groups.values()].filter((g) => g.members.has(user.id)).map((g) => g.displayName).sort();
    expect(groups).toEqual(['All Pupils', `Pupils Cohort ${record?.cohort}`]);
    expect(Object.fromEntries(h.fake.directPolicyAssignments.get(user.id) ?? [])).toEqual({ TeamsMessagingPolicy: messaging, TeamsMeetingPolicy: meeting });
  }
  expect(allPupils?.members.size).toBe(upns.length);
}

/** Names, usernames and passwords must never reach the logs, the audit log or the run records. */
async function expectNoPersonalDataLeaked(h: Harness, pupils: { forename: string; surname: string }[]): Promise<void> {
  const register = await h.register.listPupils(h.deps.schoolId);
  const audit = JSON.stringify(await h.audit.listAudit(h.deps.schoolId));
  const runs = JSON.stringify(await h.runs.listRuns(h.deps.schoolId));
  const logs = h.logLines.join('\n');
  const planted = [
    ...pupils.flatMap((p) => [p.forename, p.surname]).filter((name) => name.length >= 5),
    ...register.map((r) => r.userPrincipalName.split('@')[0] as string),
    ...h.slips.map((s) => s.password),
  ];
  expect(planted.length).toBeGreaterThan(2);
  for (const text of [logs, audit, runs]) {
    const found = planted.filter((value) => text.toLowerCase().includes(value.toLowerCase()));
    expect(found).toEqual([]);
  }
  const table = await h.tables.getTable(TABLE_NAMES.pupilRegister);
  for await (const entity of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${h.deps.schoolId}'` } })) {
    expect(Object.keys(entity).some((key) => /password/i.test(key))).toBe(false);
    for (const password of h.slips.map((s) => s.password)) expect(JSON.stringify(entity)).not.toContain(password);
  }
}

describe('provisioning pupils end to end (Azurite + Graph fake)', () => {
  const { csv, pupils } = buildRoll();
  const roll = readRollCsv(csv);
  const validUpns = pupils.map((p) => p.upn);

  it('provisions 60 pupils once each with licence, groups and policies; a second run sends no mutating request', async () => {
    const h = createHarness();

    const first = await h.apply(roll);

    expect(first.summary).toMatchObject({ create: 60, update: 0, reject: 3, failed: 0 });
    expect(first.rows.filter((r) => r.action === 'reject').map((r) => r.row)).toEqual([62, 63, 64]);
    const upnOf = (n: number): string | undefined => first.rows.find((r) => r.externalId === upnFor(n))?.upn;
    expect([upnOf(1), upnOf(2)]).toEqual(['25zoen@oakfield.example', '25zoen2@oakfield.example']);
    expect([upnOf(3), upnOf(4), upnOf(5), upnOf(7), upnOf(8)]).toEqual(['24lukaszz@oakfield.example', '24saoirseo@oakfield.example', '22maryjaneo@oakfield.example', '20aesas@oakfield.example', '26durdai@oakfield.example']);
    expect([upnOf(9), upnOf(10), upnOf(11)]).toEqual(['23oliveiras@oakfield.example', '23oliveiras2@oakfield.example', '23oliveiras3@oakfield.example']);
    expect(h.slips).toHaveLength(60);
    expect(h.slips.every((s) => meetsEntraPasswordRules(s.password))).toBe(true);
    const register = await h.register.listPupils(h.deps.schoolId);
    expectFullyProvisioned(h, register, validUpns);
    for (const slip of h.slips) expect(h.fake.userByPrincipalName(slip.userPrincipalName)?.passwordProfile).toEqual({ password: slip.password, forceChangePasswordNextSignIn: false });
    expect(register.every((r) => r.credentialsIssuedAt && r.activeSince)).toBe(true);
    expect(register.find((r) => r.externalId === upnFor(12))).toMatchObject({ forename: 'Renée', surname: "D'Arcyville", registrationGroup: '4 "Oak", Upper', yearGroup: '4' });
    const html = renderCredentialSlips(h.slips, { schoolName: 'Oakfield Primary' });
    expect(html).toContain('O&#39;Brannagh');
    expect(html).toContain('Class 4 &quot;Oak&quot;, Upper');

    const requestsBefore = h.fake.innerRequests().length;
    const second = await h.apply(roll);

    expect(second.summary).toMatchObject({ create: 0, update: 0, unchanged: 60, reject: 3, failed: 0 });
    expect(second.slipsIssued).toBe(0);
    expect(h.fake.innerRequests().slice(requestsBefore).every((r) => r.method === 'GET')).toBe(true);
    expect(h.fake.users.size).toBe(60);
    const audit = await h.audit.listAudit(h.deps.schoolId);
    expect(audit.filter((a) => a.action === 'pupil.create' && a.outcome === 'succeeded')).toHaveLength(60);
    expect(audit.filter((a) => a.action === 'group.create')).toHaveLength(8);
    for (const step of ['pupil.licence', 'pupil.groups', 'pupil.policies']) expect(audit.filter((a) => a.action === step)).toHaveLength(60);
    await expectNoPersonalDataLeaked(h, pupils);
    await expectContract(h.fake);
  });

  it('a run killed part-way is finished by the next run: no duplicates, and the pupils whose slips were lost get new passwords', async () => {
    const h = createHarness();
    const crashing: ProvisioningGateway = Object.assign(Object.create(h.gateway) as GraphGateway, {
      createUsers: async (users: Parameters<GraphGateway['createUsers']>[0]) => {
        await h.gateway.createUsers(users.slice(0, 25));
        throw new Error('simulated crash after 25 accounts');
      },
    });

    await expect(h.apply(roll, {}, crashing)).rejects.toThrow('simulated crash after 25 accounts');
    expect(h.fake.users.size).toBe(25);
    expect(h.slips).toHaveLength(0);
    const lostPasswords = new Map([...h.fake.users.values()].map((u) => [u.id, u.passwordProfile?.password]));
    const [killed] = await h.runs.listRuns(h.deps.schoolId);
    expect(killed).toMatchObject({ status: 'interrupted', interruption: 'Error' });

    const resumed = await h.apply(roll);

    expect(resumed.resumedRunId).toBe(killed?.runId);
    expect(resumed.summary).toMatchObject({ create: 35, update: 25, failed: 0 });
    expect(resumed.rows.filter((r) => r.action === 'update').every((r) => r.reason.includes('A new password'))).toBe(true);
    expect(h.fake.users.size).toBe(60);
    expectFullyProvisioned(h, await h.register.listPupils(h.deps.schoolId), validUpns);
    expect(h.slips).toHaveLength(60);
    for (const slip of h.slips) {
      const user = h.fake.userByPrincipalName(slip.userPrincipalName);
      expect(user?.passwordProfile?.password).toBe(slip.password);
      if (lostPasswords.has(user?.id ?? '')) expect(slip.password).not.toBe(lostPasswords.get(user?.id ?? ''));
    }

    const again = await h.apply(roll);
    expect(again.summary).toMatchObject({ unchanged: 60, create: 0, update: 0 });
    await expectNoPersonalDataLeaked(h, pupils);
    await expectContract(h.fake);
  });

  it('stopping a run after the licences keeps the progress; the next run only assigns the Teams policies', async () => {
    const h = createHarness();
    const controller = new AbortController();

    const stopped = await h.apply(roll, { signal: controller.signal, onProgress: (p) => p.phase === 'memberships' && controller.abort() });

    expect(stopped.interrupted).toBe('the run was stopped');
    expect(stopped.summary.failed).toBe(60);
    expect(h.slips).toHaveLength(60);
    expect(h.fake.directPolicyAssignments.size).toBe(0);
    const before = h.fake.innerRequests().length;

    const resumed = await h.apply(roll);

    expect(resumed.summary).toMatchObject({ create: 0, update: 60, failed: 0 });
    expect(resumed.rows.find((r) => r.action === 'update')?.reason).toBe('Still to do from an earlier run: Teams policies.');
    expect(resumed.slipsIssued).toBe(0);
    expect(h.fake.innerRequests().slice(before).filter((r) => r.method !== 'GET').map((r) => r.url)).toEqual(
      Array.from({ length: 6 }, () => '/admin/teams/policy/userAssignments/assign'),
    );
    expectFullyProvisioned(h, await h.register.listPupils(h.deps.schoolId), validUpns);
    await expectContract(h.fake);
  });

  it('when a pupil Teams policy does not exist, apply stops before any change and says which policy to create', async () => {
    const h = createHarness({ seedPolicies: false });

    const result = await h.apply(roll);

    expect(result.blocked).toBe(true);
    expect(result.blockers).toEqual([expect.stringContaining('Teams has no meeting policy named "EduStudent-NoMeetings". Nothing has been changed.')]);
    expect(result.blockers[0]).toContain('turn off Meet now, Cloud recording and Transcription');
    expect(mutatingRequests(h.fake)).toEqual([]);
    expect(await h.register.listPupils(h.deps.schoolId)).toEqual([]);
    expect(h.slips).toEqual([]);
    await expectContract(h.fake);
  });

  it('leavers are disabled with their sessions revoked, and deleted once the grace period is over', async () => {
    const h = createHarness();
    await h.apply(roll);
    const leaverIds = [upnFor(20), upnFor(21), upnFor(22)];
    const listedId = upnFor(30);
    const currentRoll: RollReadResult = { ...roll, pupils: roll.pupils.filter((p) => !leaverIds.includes(p.externalId)) };
    const leaverDeps = { ...h.deps, gateway: h.gateway, graceDays: 30 };
    const leavers = [{ row: 2, id: listedId }, { row: 3, id: 'Z999999999999' }];

    const dryRun = await manageLeavers(leaverDeps, { roll: currentRoll, leavers, apply: false });

    expect(dryRun.rows.slice(0, 2).map((r) => [r.row, r.externalId, r.action])).toEqual([[2, listedId, 'disable'], [3, 'Z999999999999', 'reject']]);
    expect(dryRun.rows.slice(2).map((r) => [r.row, r.externalId, r.action]).sort()).toEqual(leaverIds.map((id) => [null, id, 'disable']).sort());
    expect([...h.fake.users.values()].every((u) => u.accountEnabled)).toBe(true);

    const applied = await manageLeavers(leaverDeps, { roll: currentRoll, leavers, apply: true });

    expect(applied.summary).toMatchObject({ disable: 4, reject: 1, failed: 0 });
    const gone = [...leaverIds, listedId];
    for (const id of gone) {
      const user = [...h.fake.users.values()].find((u) => u.employeeId === id);
      expect(user).toMatchObject({ accountEnabled: false, signInSessionsRevoked: 1 });
    }
    let register = await h.register.listPupils(h.deps.schoolId);
    expect(register.filter((r) => r.status === 'leaver-disabled').map((r) => r.externalId).sort()).toEqual([...gone].sort());
    expect(register.find((r) => r.externalId === listedId)).toMatchObject({ leaverReason: 'leavers-file', disabledAt: '2026-09-07T09:00:00.000Z' });

    h.setNow(new Date('2026-09-30T09:00:00Z'));
    const early = await manageLeavers(leaverDeps, { roll: currentRoll, leavers, apply: true });
    expect(early.summary).toMatchObject({ delete: 0, unchanged: 4 });

    h.setNow(new Date('2026-10-08T09:00:00Z'));
    const late = await manageLeavers(leaverDeps, { roll: currentRoll, leavers, apply: true });

    expect(late.summary).toMatchObject({ delete: 4, failed: 0 });
    expect(h.fake.users.size).toBe(56);
    register = await h.register.listPupils(h.deps.schoolId);
    expect(register.filter((r) => r.status === 'deleted').map((r) => [r.externalId, r.deletedAt])).toEqual(expect.arrayContaining(gone.map((id) => [id, '2026-10-08T09:00:00.000Z'])));
    const audit = await h.audit.listAudit(h.deps.schoolId);
    expect(audit.filter((a) => a.action === 'pupil.disable' && a.outcome === 'succeeded')).toHaveLength(4);
    expect(audit.filter((a) => a.action === 'pupil.revoke-sessions' && a.outcome === 'succeeded')).toHaveLength(4);
    expect(audit.filter((a) => a.action === 'pupil.delete' && a.outcome === 'succeeded')).toHaveLength(4);
    await expectNoPersonalDataLeaked(h, pupils);
    await expectContract(h.fake);
  });

  it('reset-password sets a new Entra-valid Animal+number password and produces its slip', async () => {
    const h = createHarness();
    const small = readRollCsv(`UPN,Forename,Surname,Year,Reg Group\n${upnFor(1)},Saoirse,O'Brannagh,2,2K\n`);
    await h.apply(small);
    const oldPassword = h.slips[0]?.password;
    h.slips.length = 0;

    const outcome = await resetPupilPassword(
      { ...h.deps, register: h.register, gateway: h.gateway, forcePasswordChange: false },
      { userPrincipalName: '24SaoirseO@oakfield.example', deliverSlips: async (issued) => void h.slips.push(...issued) },
    );

    expect(outcome).toEqual({ kind: 'reset', externalId: upnFor(1), userPrincipalName: '24saoirseo@oakfield.example' });
    const [slip] = h.slips;
    expect(slip?.password).toMatch(/^[A-Z][a-z]+[1-9]\d+$/);
    expect(meetsEntraPasswordRules(slip?.password ?? '')).toBe(true);
    expect(slip?.password).not.toBe(oldPassword);
    expect(h.fake.userByPrincipalName('24saoirseo@oakfield.example')?.passwordProfile?.password).toBe(slip?.password);
    const html = renderCredentialSlips(h.slips, { schoolName: 'Oakfield Primary' });
    expect(html).toContain(`<dd>${slip?.password}</dd>`);
    expect(html).toContain('Saoirse O&#39;Brannagh');

    const stranger = await resetPupilPassword({ ...h.deps, register: h.register, gateway: h.gateway, forcePasswordChange: false }, { userPrincipalName: 'head@oakfield.example', deliverSlips: async () => undefined });
    expect(stranger).toMatchObject({ kind: 'refused', reason: expect.stringContaining('is not in the pupil register') });
    expect((await h.audit.listAudit(h.deps.schoolId)).filter((a) => a.action === 'pupil.password-reset')).toEqual([expect.objectContaining({ outcome: 'succeeded', target: `pupil:${upnFor(1)}` })]);
    await expectNoPersonalDataLeaked(h, [{ forename: 'Saoirse', surname: "O'Brannagh" }]);
    await expectContract(h.fake);
  });

  it('plan without a tenant works from the register alone and sends nothing to Graph', async () => {
    const h = createHarness();
    await h.apply(roll);
    const requests = h.fake.records.length;
    const { gateway: _gateway, ...registerOnly } = h.deps;
    const newcomer = readRollCsv(`UPN,Forename,Surname,Year,Reg Group\n${upnFor(500)},Zoë,Ngatai,1,1N\n`).pupils;
    const moved = roll.pupils.map((p) => (p.externalId === upnFor(40) ? { ...p, registrationGroup: 'Moved' } : p));

    const plan = await planProvisioning(registerOnly, { roll: { ...roll, pupils: [...moved, ...newcomer.map((p) => ({ ...p, row: 99 }))] }, academicYearStart: ACADEMIC_YEAR });

    expect(plan.summary).toMatchObject({ tenantChecked: false, unchanged: 59, update: 1, create: 1, reject: 3, groupsToCreate: [] });
    expect(plan.rows.find((r) => r.row === 99)).toMatchObject({ action: 'create', upn: '25zoen3@oakfield.example' });
    expect(plan.rows.find((r) => r.externalId === upnFor(40))).toMatchObject({ action: 'update', reason: 'Class changed.' });
    expect(h.fake.records.length).toBe(requests);
    await expectContract(h.fake);
  });
});
