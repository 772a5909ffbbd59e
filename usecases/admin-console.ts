import { randomUUID } from 'node:crypto';
import type { ComplianceStore } from '../records/compliance-store';
import type { ProvisioningRun, ProvisioningRunStore } from '../records/provisioning-run-store';
import type { PupilRegisterStore } from '../records/pupil-register-store';
import type { Drift } from '../school/pupil-policy-drift';
import { readRollCsv, readSdsRoll, RollFormatError, type RollReadResult } from '../school/pupil-roll';
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

/**
 * The Admin tab's work: provisioning from an uploaded roll and the latest enforcement audit. It drives the
 * same engines as `npm run provision` and `npm run enforce`; there is no second implementation here, only
 * the role check, reading the upload, and the lease that keeps two runs from overlapping.
 */
export interface AdminConsoleDependencies {
  schoolId: string;
  /** Everything but the actor, who is the signed-in admin. */
  provisioning: Omit<ProvisioningDependencies, 'actorId' | 'runs'>;
  runs: Pick<ProvisioningRunStore, 'saveRun' | 'listRuns' | 'acquireLease' | 'releaseLease'>;
  compliance: Pick<ComplianceStore, 'getLatestRun' | 'listPupilResults'>;
  register: Pick<PupilRegisterStore, 'listPupils'>;
  /** How long a run may hold the lease before another may take it over (a run whose process died). */
  leaseMs: number;
  clock: () => Date;
}

export type AdminOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'busy'; message: string };

/** The roll as the Admin page uploads it: one MIS CSV, or an SDS v2.1 users.csv + roles.csv pair. */
export interface RollUpload {
  csv?: unknown;
  sdsUsers?: unknown;
  sdsRoles?: unknown;
  academicYear?: unknown;
}

/** A provisioning run of a whole school takes minutes; a lease this old belongs to a process that died. */
export const PROVISIONING_LEASE_MS = 2 * 60 * 60_000;

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
export async function planUploadedRoll(deps: AdminConsoleDependencies, principal: Principal, upload: RollUpload): Promise<AdminOutcome<ProvisioningPlan>> {
  if (!canAdminister(principal)) return { kind: 'forbidden' };
  const read = readRollUpload(upload, deps.clock());
  if (!read.ok) return { kind: 'invalid', problems: read.problems };
  const plan = await planProvisioning({ ...deps.provisioning, runs: deps.runs, actorId: principal.aadObjectId }, { roll: read.roll, academicYearStart: read.academicYearStart });
  return { kind: 'ok', value: plan };
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
  const runId = randomUUID();
  const busy = await claimLease(deps, runId, principal.aadObjectId);
  if (busy) return busy;
  try {
    const result = await applyProvisioning(
      { ...deps.provisioning, runs: deps.runs, actorId: principal.aadObjectId, newRunId: () => runId },
      { roll: read.roll, academicYearStart: read.academicYearStart, onProgress: io.onProgress, deliverSlips: io.deliverSlips, ...(io.signal ? { signal: io.signal } : {}) },
    );
    return { kind: 'ok', value: result };
  } finally {
    await deps.runs.releaseLease(deps.schoolId, runId);
  }
}

/** Takes the lease for `runId`, or says who holds it. Shared with the CLI. */
export async function claimLease(deps: Pick<AdminConsoleDependencies, 'schoolId' | 'runs' | 'leaseMs' | 'clock'>, runId: string, actorId: string): Promise<{ kind: 'busy'; message: string } | undefined> {
  const lease = await deps.runs.acquireLease(deps.schoolId, { runId, actorId }, deps.clock(), deps.leaseMs);
  if (lease.acquired) return undefined;
  const since = new Date(lease.heldBy.since).toLocaleString('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'short' });
  return { kind: 'busy', message: `Another provisioning run (${lease.heldBy.runId}) has been running since ${since}. Wait for it to finish, then apply again: it will only do what is left.` };
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
