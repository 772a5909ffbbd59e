import type { Logger } from '../infra/logger';
import type { GraphGateway } from '../graph/graph-gateway';
import type { GraphGroup, LicenceSku, UserChanges } from '../graph/graph-types';
import type { AuditStore } from '../records/audit-store';
import type { ProvisioningRunStore } from '../records/provisioning-run-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import type { RollPupil, RollReadResult } from '../school/pupil-roll';
import type { CredentialSlip } from './credential-slips';

/** The Graph operations provisioning uses; typed narrowly so tests can fake them in a few lines. */
export type ProvisioningGateway = Pick<
  GraphGateway,
  | 'findUsersByEmployeeId'
  | 'getUsersByUserPrincipalName'
  | 'createUsers'
  | 'updateUsers'
  | 'setAccountEnabled'
  | 'resetPasswords'
  | 'getLicenceSku'
  | 'assignLicences'
  | 'findSecurityGroups'
  | 'createSecurityGroups'
  | 'addGroupMembers'
  | 'removeGroupMembers'
  | 'getTeamsPolicyIds'
  | 'assignTeamsPolicies'
>;

export type PupilRegister = Pick<PupilRegisterStore, 'listPupils' | 'savePupils'>;

/** The school's provisioning rules, from `config.pupils` and `config.school.domain`. */
export interface PupilProvisioningSettings {
  domain: string;
  usernamePattern: string;
  skuPartNumber: string;
  disabledPlans: string[];
  allPupilsGroup: string;
  /** Contains `{cohort}`. */
  cohortGroupPattern: string;
  messagingPolicy: string;
  meetingPolicy: string;
  forcePasswordChange: boolean;
}

export interface ProvisioningDependencies {
  schoolId: string;
  register: PupilRegister;
  audit: Pick<AuditStore, 'appendAudit' | 'appendAudits'>;
  runs?: Pick<ProvisioningRunStore, 'saveRun' | 'listRuns'>;
  /** Absent when GRAPH_MODE=plan: the plan is then worked out from the register alone. */
  gateway?: ProvisioningGateway;
  settings: PupilProvisioningSettings;
  /** Who is running provisioning, for the audit log (an object id or `cli:…`). */
  actorId: string;
  clock: () => Date;
  logger: Logger;
  /** Defaults to the school's Animal+number rule with node:crypto. */
  generatePassword?: () => string;
  newRunId?: () => string;
}

export type ProvisioningAction = 'create' | 'update' | 'unchanged' | 'reject' | 'failed';

/** One line of a plan or a run: a roll row and what happens (or happened) to it. */
export interface ProvisioningRow {
  row: number;
  externalId: string;
  /** The pupil's username (userPrincipalName); empty when none could be given. */
  upn: string;
  action: ProvisioningAction;
  reason: string;
}

export interface ProvisioningSummary {
  rows: number;
  create: number;
  update: number;
  unchanged: number;
  reject: number;
  failed: number;
  /** SDS users.csv rows that are not pupils (staff, parents). */
  skipped: number;
  academicYearStart: number;
  /** False when there is no tenant (GRAPH_MODE=plan): usernames and accounts were checked against the register only. */
  tenantChecked: boolean;
  groupsToCreate: string[];
  /** Register pupils not on this roll: candidates for `leavers`. */
  notOnRoll: number;
}

export interface ProvisioningPlan {
  rows: ProvisioningRow[];
  summary: ProvisioningSummary;
  /** Why apply must not start; each says what to do. Apply changes nothing while there are any. */
  blockers: string[];
}

export interface ProvisioningRequest {
  roll: RollReadResult;
  /** The calendar year the academic year began (1 September). */
  academicYearStart: number;
  onProgress?: (progress: ProvisioningProgress) => void;
}

export type ProvisioningPhase =
  | 'register'
  | 'lookup'
  | 'usernames'
  | 'preflight'
  | 'groups'
  | 'write-ahead'
  | 'accounts'
  | 'passwords'
  | 'details'
  | 'licences'
  | 'memberships'
  | 'policies'
  | 'finish'
  | 'slips'
  | 'done';

export interface ProvisioningProgress {
  phase: ProvisioningPhase;
  /** A short sentence for a progress bar. */
  label: string;
  /** Pupils this phase works on. */
  pupils: number;
}

export interface ApplyProvisioningRequest extends ProvisioningRequest {
  /** Prints or saves the slips; they are marked as issued only once this resolves. */
  deliverSlips: (slips: CredentialSlip[]) => Promise<void>;
  /** Aborting stops the run at the next step; the register keeps each pupil's progress for the next run. */
  signal?: AbortSignal;
}

export interface ProvisioningResult extends ProvisioningPlan {
  runId: string;
  /** True when blockers stopped the run before any change. */
  blocked: boolean;
  /** Set when the run stopped part-way (aborted, Graph or storage unreachable); running apply again finishes it. */
  interrupted?: string;
  /** An earlier run that never finished, which this one completes. */
  resumedRunId?: string;
  slipsIssued: number;
}

/** apply was called without a tenant. */
export class ProvisioningModeError extends Error {
  override readonly name = 'ProvisioningModeError';
}


// ---------------------------------------------------------------- a run's working state (shared by the stages)

/** What the settings ask every pupil to have. */
export interface DesiredState {
  licence: string;
  policies: string;
  groupNames: (cohort: string) => string[];
}

export interface Needs {
  account: boolean;
  password: boolean;
  details: UserChanges | undefined;
  enable: boolean;
  licence: boolean;
  groups: boolean;
  policies: boolean;
}

/** One roll pupil on their way through a run. */
export interface PupilWork {
  pupil: RollPupil;
  previous: PupilRecord | undefined;
  record: PupilRecord;
  action: 'create' | 'update' | 'unchanged';
  reasons: string[];
  needs: Needs;
  password?: string;
  failure?: string;
  /** A group this pupil needs could not be created. */
  groupFailure?: string;
  dirty: boolean;
  finished: boolean;
}

export interface Preflight {
  sku?: LicenceSku;
  messagingPolicyId?: string;
  meetingPolicyId?: string;
  groups: Map<string, GraphGroup>;
  groupsToCreate: string[];
}

export interface Prepared {
  works: PupilWork[];
  /** Rejected and failed rows that never became work. */
  others: ProvisioningRow[];
  blockers: string[];
  preflight: Preflight;
  desired: DesiredState;
  academicYearStart: number;
  tenantChecked: boolean;
  skipped: number;
  notOnRoll: number;
}
