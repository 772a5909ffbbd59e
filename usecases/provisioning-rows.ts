import type { GraphServiceError } from '../graph/graph-errors';
import type { RollPupil } from '../school/pupil-roll';
import type { Prepared, ProvisioningAction, ProvisioningPlan, ProvisioningRow, ProvisioningSummary } from './provisioning-types';

/** A GraphServiceError as a sentence for the admin: status, code, request id and what to check. */
export function describeGraphError(error: GraphServiceError): string {
  const id = error.requestId ? `, request-id ${error.requestId}` : '';
  const hint =
    error.kind === 'forbidden' ? ' Check that the app (or the signed-in admin) has the Graph permissions listed in the "Provisioning pupils" section of the README.'
    : error.kind === 'conflict' ? ' Another account already holds this username; run apply again to pick a free one.'
    : error.kind === 'throttled' || error.kind === 'unavailable' ? ' Graph is busy; run apply again later.'
    : '';
  return `${error.status} ${error.code}${id}.${hint}`;
}

export function rejectRow(pupil: RollPupil, reason: string): ProvisioningRow {
  return { row: pupil.row, externalId: pupil.externalId, upn: '', action: 'reject', reason };
}

export function failedRow(pupil: RollPupil, upn: string, reason: string): ProvisioningRow {
  return { row: pupil.row, externalId: pupil.externalId, upn, action: 'failed', reason };
}

export function toPlan(prepared: Prepared): ProvisioningPlan {
  const rows = planRows(prepared);
  return { rows, summary: summarise(prepared, rows), blockers: prepared.blockers };
}

export function planRows(prepared: Prepared): ProvisioningRow[] {
  const rows = prepared.works.map((w): ProvisioningRow => ({
    row: w.pupil.row,
    externalId: w.pupil.externalId,
    upn: w.record.userPrincipalName,
    action: w.action,
    reason: w.action === 'unchanged' ? 'Already provisioned; nothing to do.' : w.reasons.join(' '),
  }));
  return sortRows([...rows, ...prepared.others]);
}

export function resultRows(prepared: Prepared): ProvisioningRow[] {
  const rows = prepared.works.map((w): ProvisioningRow => ({
    row: w.pupil.row,
    externalId: w.pupil.externalId,
    upn: w.record.userPrincipalName,
    action: w.failure ? 'failed' : w.action,
    reason: w.failure ?? (w.action === 'unchanged' ? 'Already provisioned; nothing to do.' : w.reasons.join(' ')),
  }));
  return sortRows([...rows, ...prepared.others]);
}

export function sortRows(rows: ProvisioningRow[]): ProvisioningRow[] {
  return rows.sort((a, b) => a.row - b.row || a.externalId.localeCompare(b.externalId));
}

export function countActions(rows: readonly ProvisioningRow[]): Record<ProvisioningAction, number> {
  const counts: Record<ProvisioningAction, number> = { create: 0, update: 0, unchanged: 0, reject: 0, failed: 0 };
  for (const row of rows) counts[row.action] += 1;
  return counts;
}

export function summarise(prepared: Prepared, rows: readonly ProvisioningRow[]): ProvisioningSummary {
  return {
    rows: rows.length,
    ...countActions(rows),
    skipped: prepared.skipped,
    academicYearStart: prepared.academicYearStart,
    tenantChecked: prepared.tenantChecked,
    groupsToCreate: [...prepared.preflight.groupsToCreate],
    notOnRoll: prepared.notOnRoll,
  };
}
