import { randomUUID } from 'node:crypto';
import type { ComplianceStore } from '../records/compliance-store';
import type { ProvisioningRun, ProvisioningRunStore } from '../records/provisioning-run-store';
import type { PupilRegisterStore } from '../records/pupil-register-store';
import type { Drift } from '../school/pupil-policy-drift';
import { readRollCsv, readSdsRoll, RollFormatError, type RollReadResult, type RollRejection } from '../school/pupil-roll';
import { academicYearStarting } from '../school/pupil-usernames';
import { hasAnyRole, type Principal } from '../school/roles';
import type { CredentialSlip } from './credential-slips';
import {
  applyProvisioning,
  planProvisioning,
  type ProvisioningDependencies,
  type ProvisioningPlan,
  type ProvisioningProgress,
  type ProvisioningResult,
} from './provision-pupils';
import { withProvisioningLease } from './provisioning-lease';

/**
 * The Admin tab's work: provisioning from an uploaded roll and the latest enforcement audit. It drives the
 * same engines as `npm run provision` and `npm run enforce`; there is no second implementation here, only
 * the role check, reading the upload, and the lease that keeps two runs from overlapping.
 */
export interface AdminConsoleDependencies {
  schoolId: string;
  /** Everything but the actor, who is the signed-in admin. */
  provisioning: Omit<ProvisioningDependencies, 'actorId' | 'runs'>;
  runs: Pick<ProvisioningRunStore, 'saveRun' | 'listRuns' | 'acquireLease' | 'releaseLease' | 'renewLease' | 'takeOverLease'>;
  compliance: Pick<ComplianceStore, 'getLatestRun' | 'listPupilResults'>;
  register: Pick<PupilRegisterStore, 'listPupils'>;
  /** How long the lease lasts without its heartbeat (LEASE_SECONDS): a run whose process died frees the school after this. */
  leaseMs: number;
  clock: () => Date;
}

export type AdminOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'busy'; message: string; heldByRunId?: string };

/** The roll as the Admin page uploads it: one MIS CSV, or an SDS v2.1 users.csv + roles.csv pair. */
export interface RollUpload {
  csv?: unknown;
  sdsUsers?: unknown;
  sdsRoles?: unknown;
  academicYear?: unknown;
  /** The run id of a run whose lease the admin takes over explicitly (audited); only that run's lease is taken. */
  takeOverRunId?: unknown;
}

export { PROVISIONING_LEASE_MS } from './provisioning-lease';

/** Who may provision and see the enforcement audit: IT, and the head (who may do everything). */
export function canAdminister(principal: Principal): boolean {
  return hasAnyRole(principal, 'admin', 'headteacher');
}

/** Reads an upload into a roll, or says what is wrong with it. Nothing is kept. */
export function readRollUpload(upload: RollUpload, now: Date): { ok: true; roll: RollReadResult; academicYearStart: number } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  const csv = text(upload.csv);
  const users = text(upload.sdsUsers);
  const roles = text(upload.sdsRoles);
  if (csv && (users || roles)) problems.push('Upload either the MIS roll or the SDS users.csv and roles.csv pair, not both.');
  if (!csv && !(users && roles)) problems.push(users || roles ? 'An SDS export needs both users.csv and roles.csv.' : 'Choose the roll exported from the MIS (a CSV file).');
  let academicYearStart = academicYearStarting(now);
  if (upload.academicYear !== undefined && upload.academicYear !== '') {
    const year = Number(upload.academicYear);
    if (!Number.isInteger(year) || year < 2000 || year > 2100) problems.push(`The academic year is the year it starts, such as ${academicYearStart} for ${academicYearStart}/${String(academicYearStart + 1).slice(2)}.`);
    else academicYearStart = year;
  }
  if (problems.length > 0) return { ok: false, problems };
  try {
    // The academic year also lets the roll flag a date of birth implausible for the pupil's year group.
    const options = { academicYearStart, today: now };
    return { ok: true, roll: csv ? readRollCsv(csv, options) : readSdsRoll(users!, roles!, options), academicYearStart };
  } catch (error) {
    if (error instanceof RollFormatError) return { ok: false, problems: [error.message] };
    throw error;
  }
}

/** What `apply` would do for each row of the uploaded roll, changing nothing. */
export async function planUploadedRoll(
  deps: AdminConsoleDependencies,
  principal: Principal,
  upload: RollUpload,
): Promise<AdminOutcome<ProvisioningPlan & { flaggedDatesOfBirth: RollRejection[] }>> {
  if (!canAdminister(principal)) return { kind: 'forbidden' };
  const read = readRollUpload(upload, deps.clock());
  if (!read.ok) return { kind: 'invalid', problems: read.problems };
  const plan = await planProvisioning({ ...deps.provisioning, runs: deps.runs, actorId: principal.aadObjectId }, { roll: read.roll, academicYearStart: read.academicYearStart });
  // Pupils provisioned without the date of birth the roll gave, because it is implausible for their year group.
  return { kind: 'ok', value: { ...plan, flaggedDatesOfBirth: read.roll.flagged ?? [] } };
}

/**
 * Provisions the uploaded roll while holding the school's provisioning lease, so that a second admin, a
 * second instance or the CLI gets "busy" instead of a second run over the same pupils.
 */
export async function applyUploadedRoll(
  deps: AdminConsoleDependencies,
  principal: Principal,
  upload: RollUpload,
  io: { onProgress: (progress: ProvisioningProgress) => void; deliverSlips: (slips: CredentialSlip[]) => Promise<void>; signal?: AbortSignal },
): Promise<AdminOutcome<ProvisioningResult>> {
  if (!canAdminister(principal)) return { kind: 'forbidden' };
  const read = readRollUpload(upload, deps.clock());
  if (!read.ok) return { kind: 'invalid', problems: read.problems };
  const takeOverRunId = typeof upload.takeOverRunId === 'string' && upload.takeOverRunId.trim() ? upload.takeOverRunId.trim() : undefined;
  if (takeOverRunId !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(takeOverRunId)) return { kind: 'invalid', problems: ['The run to take over is named by its run id, as the busy message shows it.'] };
  const runId = randomUUID();
  const outcome = await withProvisioningLease(
    { schoolId: deps.schoolId, runs: deps.runs, audit: deps.provisioning.audit, leaseMs: deps.leaseMs, clock: deps.clock },
    { runId, actorId: principal.aadObjectId, ...(takeOverRunId ? { takeOverRunId } : {}) },
    (signal) =>
      applyProvisioning(
        { ...deps.provisioning, runs: deps.runs, actorId: principal.aadObjectId, newRunId: () => runId },
        { roll: read.roll, academicYearStart: read.academicYearStart, onProgress: io.onProgress, deliverSlips: io.deliverSlips, signal },
      ),
    io.signal,
  );
  if (outcome.kind === 'busy') return { kind: 'busy', message: outcome.message, heldByRunId: outcome.heldBy.runId };
  return { kind: 'ok', value: outcome.value };
}

/** One pupil who drifted in the latest audit, named by username (the admin manages these accounts). */
export interface DriftedPupil {
  userPrincipalName: string;
  yearGroup?: string;
  registrationGroup?: string;
  drift: Drift[];
}

export interface EnforcementOverview {
  latest?: {
    runId: string;
    kind: string;
    finishedAt: string;
    total: number;
    compliant: number;
    compliantShare: number;
    driftByKind: Record<string, number>;
    teams: { total: number; compliant: number; drifted: { teamId: string; drift: Drift[] }[] };
    pupils: DriftedPupil[];
  };
  recentProvisioningRuns: Pick<ProvisioningRun, 'runId' | 'kind' | 'status' | 'startedAt' | 'finishedAt' | 'counts'>[];
}

/** The latest enforcement audit (daily, `enforce audit` or `enforce fix`) with each drifted pupil, and recent provisioning runs. */
export async function getEnforcementOverview(deps: AdminConsoleDependencies, principal: Principal): Promise<AdminOutcome<EnforcementOverview>> {
  if (!canAdminister(principal)) return { kind: 'forbidden' };
  const [run, runs] = await Promise.all([deps.compliance.getLatestRun(deps.schoolId), deps.runs.listRuns(deps.schoolId, { limit: 5 })]);
  const recentProvisioningRuns = runs.map(({ runId, kind, status, startedAt, finishedAt, counts }) => ({ runId, kind, status, startedAt, counts, ...(finishedAt ? { finishedAt } : {}) }));
  if (!run) return { kind: 'ok', value: { recentProvisioningRuns } };
  const [results, register] = await Promise.all([deps.compliance.listPupilResults(deps.schoolId, run.runId), deps.register.listPupils(deps.schoolId)]);
  const byUserId = new Map(register.filter((p) => p.userId).map((p) => [p.userId!, p]));
  const pupils = results
    .filter((r) => !r.compliant)
    .map((r): DriftedPupil => {
      const known = byUserId.get(r.userId);
      return {
        userPrincipalName: known?.userPrincipalName ?? `(not in the register: ${r.externalId || r.userId})`,
        ...(known?.yearGroup ? { yearGroup: known.yearGroup } : {}),
        ...(known?.registrationGroup ? { registrationGroup: known.registrationGroup } : {}),
        drift: r.drift,
      };
    })
    .sort((a, b) => a.userPrincipalName.localeCompare(b.userPrincipalName));
  const { summary } = run;
  return {
    kind: 'ok',
    value: {
      latest: {
        runId: run.runId,
        kind: run.kind,
        finishedAt: run.finishedAt,
        total: summary.total,
        compliant: summary.compliant,
        compliantShare: summary.compliantShare,
        driftByKind: { ...summary.driftByKind } as Record<string, number>,
        teams: { ...summary.teams, drifted: run.teams.filter((t) => !t.compliant).map((t) => ({ teamId: t.teamId, drift: t.drift })) },
        pupils,
      },
      recentProvisioningRuns,
    },
  };
}
