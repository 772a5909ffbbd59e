import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { Logger } from '../infra/logger';
import type { GraphGateway } from '../graph/graph-gateway';
import type { GraphResult } from '../graph/graph-types';
import type { AuditStore } from '../records/audit-store';
import type { ProvisioningRunStore } from '../records/provisioning-run-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import { RollFormatError, type RollReadResult } from '../school/pupil-roll';
import { describeGraphError, ProvisioningModeError } from './provision-pupils';

export type LeaversGateway = Pick<GraphGateway, 'findUsersByEmployeeId' | 'setAccountEnabled' | 'revokeSignInSessions' | 'deleteUsers'>;

export interface LeaverDependencies {
  schoolId: string;
  register: Pick<PupilRegisterStore, 'listPupils' | 'savePupils'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  runs?: Pick<ProvisioningRunStore, 'saveRun'>;
  /** Absent when GRAPH_MODE=plan: only a dry run is possible. */
  gateway?: LeaversGateway;
  /** Days a leaver stays disabled before the account is deleted (LEAVER_GRACE_DAYS). */
  graceDays: number;
  actorId: string;
  clock: () => Date;
  logger: Logger;
  newRunId?: () => string;
}

/** One entry of a leavers file: a UPN, admission number, SDS sourcedId or username. */
export interface LeaverListEntry {
  row: number;
  id: string;
}

export interface LeaversRequest {
  /** The current roll; register pupils missing from it are leavers. */
  roll: RollReadResult;
  /** Pupils the school lists as leaving, whether or not they are still on the roll. */
  leavers?: LeaverListEntry[];
  /** False (the default) lists what would happen and changes nothing. */
  apply: boolean;
  /** Lets more than half the active pupils be treated as leavers in one go. */
  allowManyLeavers?: boolean;
}

export type LeaverAction = 'disable' | 'delete' | 'unchanged' | 'reject' | 'failed';

export interface LeaverRow {
  /** The leavers file row, or null for a pupil found only by their absence from the roll. */
  row: number | null;
  externalId: string;
  upn: string;
  action: LeaverAction;
  reason: string;
}

export interface LeaversResult {
  runId?: string;
  applied: boolean;
  /** Set when nothing could be done safely; says what to check. */
  refused?: string;
  rows: LeaverRow[];
  summary: { disable: number; delete: number; unchanged: number; reject: number; failed: number; graceDays: number };
}

/** If more than this share of active pupils would leave only because they are missing from the roll, the roll is probably partial. */
const MASS_LEAVER_SHARE = 0.5;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Leavers: register pupils missing from the current roll, or listed in a leavers file, are disabled and
 * their sessions revoked; leavers disabled for longer than the grace period are deleted. Without `apply`
 * this is a dry run that changes nothing.
 */
export async function manageLeavers(deps: LeaverDependencies, request: LeaversRequest): Promise<LeaversResult> {
  if (request.apply && !deps.gateway) throw new ProvisioningModeError('Leavers can only be applied with a tenant: GRAPH_MODE=plan changes nothing. Run without --apply to see the list.');
  const now = deps.clock();
  const register = await deps.register.listPupils(deps.schoolId);
  const rows: LeaverRow[] = [];

  const onRoll = new Set(request.roll.pupils.map((p) => p.externalId));
  for (const rejected of request.roll.rejected) if (rejected.externalId) onRoll.add(rejected.externalId);
  const listed = new Map<string, number>();
  for (const entry of request.leavers ?? []) {
    const pupil = findListedPupil(register, entry.id);
    if (!pupil) rows.push({ row: entry.row, externalId: entry.id, upn: '', action: 'reject', reason: `Leavers file row ${entry.row}: ${entry.id} is not in the pupil register.` });
    else if (!listed.has(pupil.externalId)) listed.set(pupil.externalId, entry.row);
  }

  // A row left pending without a user id may belong to an account created by a run that was killed.
  const unrecorded = register.filter((p) => (p.status === 'active' || p.status === 'pending') && !p.userId);
  if (deps.gateway && unrecorded.length > 0) {
    const found = await deps.gateway.findUsersByEmployeeId(unrecorded.map((p) => p.externalId));
    unrecorded.forEach((pupil, i) => {
      const result = found[i];
      if (result?.ok && result.value.length === 1) pupil.userId = result.value[0]?.id;
    });
  }

  const current = register.filter((p) => p.status === 'active' || p.status === 'pending');
  const missing = current.filter((p) => !onRoll.has(p.externalId) && !listed.has(p.externalId));
  if (onRoll.size === 0 && listed.size === 0) {
    return refuse(deps, request, rows, 'The roll has no pupils in it, so every pupil would count as a leaver. Check the file and export it again from the MIS.');
  }
  if (!request.allowManyLeavers && current.length > 0 && missing.length > Math.max(2, current.length * MASS_LEAVER_SHARE)) {
    return refuse(
      deps,
      request,
      rows,
      `${missing.length} of the ${current.length} pupils in the register are missing from this roll, which looks like a partial export (one class or year group). ` +
        'Nothing has been changed. Export the whole school roll, or add --allow-many-leavers if they really are all leaving.',
    );
  }

  const toDisable: { pupil: PupilRecord; row: LeaverRow; reason: 'not-on-roll' | 'leavers-file' }[] = [];
  const toClose: { pupil: PupilRecord; row: LeaverRow }[] = [];
  const toDelete: { pupil: PupilRecord; row: LeaverRow }[] = [];
  for (const pupil of register) {
    const listedRow = listed.get(pupil.externalId);
    const leaving = listedRow !== undefined || !onRoll.has(pupil.externalId);
    const base = { row: listedRow ?? null, externalId: pupil.externalId, upn: pupil.userPrincipalName };
    const why = listedRow !== undefined ? (onRoll.has(pupil.externalId) ? 'Listed in the leavers file (though still on the roll)' : 'Listed in the leavers file') : 'Not on the current roll';
    if (pupil.status === 'deleted' || !leaving) {
      if (pupil.status === 'leaver-disabled' && !leaving) rows.push({ ...base, action: 'unchanged', reason: 'Back on the roll: run apply to enable the account again.' });
      else if (pupil.status === 'deleted' && listedRow !== undefined) rows.push({ ...base, action: 'unchanged', reason: `The account was already deleted on ${day(pupil.deletedAt)}.` });
      continue;
    }
    if (pupil.status === 'active' || pupil.status === 'pending') {
      if (!pupil.userId) {
        const row: LeaverRow = { ...base, action: 'delete', reason: `${why}. No account was ever created, so only the register row is closed.` };
        toClose.push({ pupil, row });
        rows.push(row);
        continue;
      }
      const deleteOn = new Date(now.getTime() + deps.graceDays * DAY_MS);
      const row: LeaverRow = { ...base, action: 'disable', reason: `${why}: sign-in will be disabled and sessions revoked; the account will be deleted after ${deps.graceDays} days (from ${day(deleteOn.toISOString())}).` };
      toDisable.push({ pupil, row, reason: listedRow !== undefined ? 'leavers-file' : 'not-on-roll' });
      rows.push(row);
      continue;
    }
    // leaver-disabled
    const disabledAt = Date.parse(pupil.disabledAt ?? '');
    const dueAt = (Number.isNaN(disabledAt) ? now.getTime() : disabledAt) + deps.graceDays * DAY_MS;
    if (now.getTime() > dueAt) {
      const row: LeaverRow = { ...base, action: 'delete', reason: `Disabled on ${day(pupil.disabledAt)}, more than ${deps.graceDays} days ago: the account will be deleted.` };
      toDelete.push({ pupil, row });
      rows.push(row);
    } else {
      rows.push({ ...base, action: 'unchanged', reason: `Disabled on ${day(pupil.disabledAt)}; the account will be deleted after ${day(new Date(dueAt).toISOString())}.` });
    }
  }

  if (!request.apply) return { applied: false, rows: sortLeaverRows(rows), summary: summarise(rows, deps.graceDays) };

  const gateway = deps.gateway as LeaversGateway;
  const runId = (deps.newRunId ?? randomUUID)();
  const startedAt = now.toISOString();
  const audit = (action: string, pupil: PupilRecord, outcome: 'succeeded' | 'failed', details: Record<string, string | number | boolean> = {}): Promise<void> =>
    deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action, target: `pupil:${pupil.externalId}`, outcome, correlationId: runId, details: { ...(pupil.userId ? { userId: pupil.userId } : {}), ...details } });
  await deps.runs?.saveRun(deps.schoolId, { runId, kind: 'leavers', status: 'running', actorId: deps.actorId, startedAt, counts: counts(rows) });
  await deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action: 'provisioning.leavers', target: `run:${runId}`, outcome: 'attempted', correlationId: runId, details: counts(rows) });
  const changed: PupilRecord[] = [];
  const stamp = (pupil: PupilRecord, changes: Partial<PupilRecord>): void => {
    changed.push({ ...pupil, ...changes, updatedAt: deps.clock().toISOString(), lastRunId: runId });
  };

  if (toDisable.length > 0) {
    const disabled = await gateway.setAccountEnabled(toDisable.map(({ pupil }) => ({ userId: pupil.userId as string, accountEnabled: false })));
    const revokable = toDisable.filter((_, i) => (disabled[i] as GraphResult<void>).ok);
    const revoked = await gateway.revokeSignInSessions(revokable.map(({ pupil }) => pupil.userId as string));
    for (const [i, item] of toDisable.entries()) {
      const result = disabled[i] as GraphResult<void>;
      if (!result.ok) {
        markFailed(item.row, 'disable the account', result);
        await audit('pupil.disable', item.pupil, 'failed', { status: result.error.status, code: result.error.code });
        continue;
      }
      await audit('pupil.disable', item.pupil, 'succeeded', { reason: item.reason });
      const revoke = revoked[revokable.indexOf(item)] as GraphResult<void>;
      await audit('pupil.revoke-sessions', item.pupil, revoke.ok ? 'succeeded' : 'failed', revoke.ok ? {} : { status: revoke.error.status, code: revoke.error.code });
      if (!revoke.ok) markFailed(item.row, 'revoke the sign-in sessions (the account is disabled; run leavers --apply again to retry)', revoke);
      // A failed revoke leaves the pupil active in the register, so the next run disables and revokes again.
      if (revoke.ok) stamp(item.pupil, { status: 'leaver-disabled', disabledAt: startedAt, leaverReason: item.reason });
    }
  }
  for (const { pupil } of toClose) {
    stamp(pupil, { status: 'deleted', deletedAt: startedAt });
    await audit('pupil.delete', pupil, 'succeeded', { registerOnly: true });
  }
  if (toDelete.length > 0) {
    const deleted = await gateway.deleteUsers(toDelete.map(({ pupil }) => pupil.userId as string));
    for (const [i, item] of toDelete.entries()) {
      const result = deleted[i] as GraphResult<void>;
      if (!result.ok) {
        markFailed(item.row, 'delete the account', result);
        await audit('pupil.delete', item.pupil, 'failed', { status: result.error.status, code: result.error.code });
        continue;
      }
      stamp(item.pupil, { status: 'deleted', deletedAt: startedAt });
      await audit('pupil.delete', item.pupil, 'succeeded', {});
    }
  }
  await deps.register.savePupils(deps.schoolId, changed);
  const finalCounts = counts(rows);
  await deps.runs?.saveRun(deps.schoolId, { runId, kind: 'leavers', status: 'completed', actorId: deps.actorId, startedAt, finishedAt: deps.clock().toISOString(), counts: finalCounts });
  await deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action: 'provisioning.leavers', target: `run:${runId}`, outcome: finalCounts.failed ? 'failed' : 'succeeded', correlationId: runId, details: finalCounts });
  deps.logger.info('leavers.finished', { runId, ...finalCounts });
  return { runId, applied: true, rows: sortLeaverRows(rows), summary: summarise(rows, deps.graceDays) };
}

/**
 * Reads a leavers file: a CSV whose header names one identifier column (UPN, admission number, sourcedId,
 * externalId or username), such as a leavers report exported from the MIS.
 */
export function readLeaversCsv(csv: string | Buffer): { leavers: LeaverListEntry[] } {
  const text = (Buffer.isBuffer(csv) ? csv.toString('utf8') : csv).replace(/^\uFEFF/, '');
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (error) {
    throw new RollFormatError(`The leavers file is not a CSV file that can be read (${(error as { code?: string }).code ?? 'parse error'}).`);
  }
  const header = (records[0] ?? []).map((h) => h.toLowerCase().replace(/[^a-z0-9]/g, ''));
  const aliases = ['upn', 'uniquepupilnumber', 'externalid', 'sourcedid', 'admissionnumber', 'admissionno', 'adno', 'admno', 'misid', 'pupilid', 'studentid', 'username', 'userprincipalname', 'email'];
  const column = aliases.map((alias) => header.indexOf(alias)).find((index) => index >= 0);
  if (column === undefined) {
    throw new RollFormatError(`The leavers file needs a header row with a UPN, Admission number, sourcedId or Username column; the headers found were: ${(records[0] ?? []).join(', ') || '(none)'}.`);
  }
  const leavers: LeaverListEntry[] = [];
  records.slice(1).forEach((record, i) => {
    const id = (record[column] ?? '').trim();
    if (id) leavers.push({ row: i + 2, id });
  });
  return { leavers };
}

function findListedPupil(register: readonly PupilRecord[], id: string): PupilRecord | undefined {
  const value = id.trim();
  const lower = value.toLowerCase();
  return (
    register.find((p) => p.externalId === value) ??
    register.find((p) => p.uniquePupilNumber === value.toUpperCase() || (p.admissionNumber !== undefined && p.admissionNumber === value)) ??
    register.find((p) => p.userPrincipalName === lower)
  );
}

function markFailed(row: LeaverRow, what: string, result: GraphResult<void>): void {
  if (result.ok) return;
  row.action = 'failed';
  row.reason = `Microsoft Graph would not ${what}: ${describeGraphError(result.error)}`;
}

async function refuse(deps: LeaverDependencies, request: LeaversRequest, rows: LeaverRow[], reason: string): Promise<LeaversResult> {
  deps.logger.warn('leavers.refused', { apply: request.apply });
  return { applied: false, refused: reason, rows: sortLeaverRows(rows), summary: summarise(rows, deps.graceDays) };
}

function counts(rows: readonly LeaverRow[]): Record<LeaverAction, number> {
  const result: Record<LeaverAction, number> = { disable: 0, delete: 0, unchanged: 0, reject: 0, failed: 0 };
  for (const row of rows) result[row.action] += 1;
  return result;
}

function summarise(rows: readonly LeaverRow[], graceDays: number): LeaversResult['summary'] {
  return { ...counts(rows), graceDays };
}

function sortLeaverRows(rows: LeaverRow[]): LeaverRow[] {
  return rows.sort((a, b) => (a.row ?? Number.MAX_SAFE_INTEGER) - (b.row ?? Number.MAX_SAFE_INTEGER) || a.externalId.localeCompare(b.externalId));
}

function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : 'an unknown date';
}
