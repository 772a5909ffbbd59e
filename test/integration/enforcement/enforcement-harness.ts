import { defaultPupilConfig } from '../../support/school-settings';
import type { AppConfig } from '../../../app/config';
import { createMemoryLogger } from '../../../infra/logger';
import type { GraphGateway } from '../../../graph/graph-gateway';
import { AuditStore } from '../../../records/audit-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { Tables } from '../../../records/tables';
import type { EnforcementDependencies } from '../../../usecases/enforce-pupil-policies';
import { createGatewayForFake, GraphFake, type FakeTeam, type FakeUser } from '../../support/graph-fake';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

export const ENFORCEMENT_SETTINGS: Pick<AppConfig, 'pupils' | 'enforcement'> = {
  pupils: defaultPupilConfig(),
  enforcement: { auditTime: '02:00', classTeamIds: [] },
};

/** A compliant class team: the settings the enforcement wants, so each test breaks just one. */
export const COMPLIANT_TEAM_SETTINGS: Pick<FakeTeam, 'memberSettings' | 'messagingSettings' | 'funSettings'> = {
  memberSettings: { allowCreateUpdateChannels: false, allowCreatePrivateChannels: false, allowDeleteChannels: false, allowAddRemoveApps: false },
  messagingSettings: { allowUserEditMessages: false, allowUserDeleteMessages: false, allowOwnerDeleteMessages: true },
  funSettings: { allowGiphy: true, giphyContentRating: 'strict', allowStickersAndMemes: true, allowCustomMemes: false },
};

export interface EnforcementHarness {
  fake: GraphFake;
  gateway: GraphGateway;
  deps: EnforcementDependencies;
  tables: Tables;
  audit: AuditStore;
  users: FakeUser[];
  ids: { skuId: string; exchangePlanId: string; messagingPolicyId: string; meetingPolicyId: string; globalMessagingPolicyId: string; allPupilsId: string; cohortId: string; classTeamId: string };
}

/** A tenant whose pupils comply, served through nock, and a register in Azurite listing them. */
export async function createEnforcementHarness(options: { pupils?: number; now?: () => Date } = {}): Promise<EnforcementHarness> {
  const fake = new GraphFake({ seed: 11 });
  const { sku, messagingPolicyId, meetingPolicyId } = fake.seedSchool();
  const exchangePlanId = sku.servicePlans.find((p) => p.servicePlanName === 'EXCHANGE_S_STANDARD')!.servicePlanId;
  const allPupils = fake.addGroup({ displayName: 'All Pupils' });
  const cohort = fake.addGroup({ displayName: 'Pupils Cohort 22' });
  fake.assignTeamsPolicyToGroup('TeamsMessagingPolicy', messagingPolicyId, allPupils.id);
  fake.assignTeamsPolicyToGroup('TeamsMeetingPolicy', meetingPolicyId, allPupils.id);
  const classGroup = fake.addGroup({ displayName: 'Class 4B', securityEnabled: false, mailEnabled: true, groupTypes: ['Unified'] });
  const team = fake.addTeam({ displayName: 'Class 4B', ...structuredClone(COMPLIANT_TEAM_SETTINGS) });
  fake.teams.delete(team.id);
  team.id = classGroup.id;
  fake.teams.set(team.id, team);

  const users: FakeUser[] = [];
  for (let i = 0; i < (options.pupils ?? 4); i++) {
    const user = fake.addUser({ userPrincipalName: `22pupil${i}@oakfield.example`, assignedLicenses: [{ skuId: sku.skuId, disabledPlans: [exchangePlanId] }] });
    for (const group of [allPupils, cohort, classGroup]) group.members.add(user.id);
    users.push(user);
  }
  fake.intercept();
  const { gateway } = createGatewayForFake();
  const clock = options.now ?? (() => new Date('2026-11-23T09:00:00Z'));
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const schoolId = uniqueSchoolId('enforce');
  const register = new PupilRegisterStore(tables);
  await register.savePupils(schoolId, users.map((u, i) => pupilRecord(i, u.id)));
  const audit = new AuditStore(tables, clock);
  return {
    fake,
    gateway,
    tables,
    audit,
    users,
    deps: { schoolId, config: ENFORCEMENT_SETTINGS, graph: gateway, register, audit, actorId: 'test-admin', clock, logger: createMemoryLogger('debug') },
    ids: {
      skuId: sku.skuId,
      exchangePlanId,
      messagingPolicyId,
      meetingPolicyId,
      globalMessagingPolicyId: fake.globalPolicies.get('TeamsMessagingPolicy')!,
      allPupilsId: allPupils.id,
      cohortId: cohort.id,
      classTeamId: classGroup.id,
    },
  };
}

export function pupilRecord(i: number, userId: string | undefined): PupilRecord {
  return {
    externalId: `X${String(i).padStart(6, '0')}`,
    forename: `Pupil${i}`,
    surname: 'Test',
    cohort: '22',
    userPrincipalName: `22pupil${i}@oakfield.example`,
    ...(userId ? { userId } : {}),
    status: 'active',
    groups: [],
    createdAt: '2026-09-01T08:00:00Z',
    updatedAt: '2026-09-01T08:00:00Z',
  };
}

/** Inner requests that change something. */
export function mutatingRequests(fake: GraphFake): { method: string; url: string }[] {
  return fake.innerRequests().filter((r) => r.method !== 'GET');
}
