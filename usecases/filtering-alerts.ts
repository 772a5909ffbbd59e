import type { Logger } from '../infra/logger';
import type { RoleDirectory } from '../identity/role-directory';
import type { AuditStore } from '../records/audit-store';
import type { ConversationStore } from '../records/conversation-store';
import type { FilteringStore } from '../records/filtering-store';
import type { PupilRegisterStore } from '../records/pupil-register-store';
import { digestOf, digestText, parseFilteringAlerts, type AlertTriage, type FilteringAlert } from '../school/filtering-alerts';
import { INCIDENT_TYPES, isIncidentType, type IncidentType } from '../school/incident-types';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { londonToday } from './aup-paper-forms';
import type { ProactiveMessenger } from './deliver-alerts';
import { reportIncident, type ReportIncidentDependencies } from './report-incident';
import type { AlertRecord } from '../records/incident-store';
import { StorageUnavailableError } from '../records/tables';

export interface FilteringAlertDependencies {
  schoolId: string;
  store: Pick<FilteringStore, 'addAlerts' | 'listAlerts' | 'addTriage' | 'getTriage' | 'listTriage'>;
  register: Pick<PupilRegisterStore, 'listPupils'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
  /** The /report use case's dependencies: a triage "incident" opens the incident through them. */
  report?: ReportIncidentDependencies;
  /** Sends the alerts a report claimed at once (deliverClaimedAlerts); without it they wait for the retry job. */
  deliverAlerts?: (alerts: readonly AlertRecord[]) => Promise<unknown>;
}

/** Who uploads and triages the provider's alerts. */
export const ALERT_ROLES: readonly Role[] = ['coordinator', 'dsl', 'headteacher'];
/** How far back the triage list looks. */
export const ALERT_WINDOW_DAYS = 30;

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'forbidden' } | { kind: 'not-found' } | { kind: 'invalid'; problems: string[] } | { kind: 'conflict'; message: string };

function daysBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

async function denied(deps: FilteringAlertDependencies, principal: Principal, action: string): Promise<{ kind: 'forbidden' }> {
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action, target: 'filtering-alerts', outcome: 'denied' });
  return { kind: 'forbidden' };
}

/** Takes the provider's CSV export: each alert stored once, its user matched to the register by username. */
export async function uploadFilteringAlerts(deps: FilteringAlertDependencies, principal: Principal, csv: string): Promise<Outcome<{ stored: number; alreadyStored: number; matchedPupils: number; problems: { row: number; message: string }[] }>> {
  if (!hasAnyRole(principal, ...ALERT_ROLES)) return denied(deps, principal, 'filtering.alerts.upload');
  const { alerts, problems } = parseFilteringAlerts(csv);
  if (alerts.length === 0 && problems.length > 0 && problems[0]!.row === 1) return { kind: 'invalid', problems: problems.map((p) => p.message) };
  const byUpn = new Map((await deps.register.listPupils(deps.schoolId)).map((p) => [p.userPrincipalName.toLowerCase(), p.externalId]));
  const matched: FilteringAlert[] = alerts.map((a) => (byUpn.has(a.user) ? { ...a, pupilId: byUpn.get(a.user)! } : a));
  const stored = await deps.store.addAlerts(deps.schoolId, matched);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'filtering.alerts.upload', target: 'filtering-alerts', outcome: 'succeeded', details: { stored, rejected: problems.length } });
  return { kind: 'ok', value: { stored, alreadyStored: matched.length - stored, matchedPupils: matched.filter((a) => a.pupilId).length, problems } };
}

/** The last 30 days' alerts with how each was triaged, untriaged first. */
export async function listFilteringAlerts(deps: FilteringAlertDependencies, principal: Principal): Promise<Outcome<{ alerts: (FilteringAlert & { triage: AlertTriage | null })[]; incidentTypes: { id: IncidentType; label: string }[] }>> {
  if (!hasAnyRole(principal, ...ALERT_ROLES)) return denied(deps, principal, 'filtering.alerts.read');
  const today = londonToday(deps.clock());
  const [alerts, triage] = await Promise.all([deps.store.listAlerts(deps.schoolId, daysBefore(today, ALERT_WINDOW_DAYS), today), deps.store.listTriage(deps.schoolId)]);
  const byId = new Map(triage.map((t) => [t.alertId, t]));
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'filtering.alerts.read', target: 'filtering-alerts', outcome: 'succeeded' });
  const rows = alerts.map((a) => ({ ...a, triage: byId.get(a.id) ?? null }));
  // The page's type select for "create incident": the school's incident types.
  const incidentTypes = INCIDENT_TYPES.map((t) => ({ id: t.id, label: t.label }));
  return { kind: 'ok', value: { alerts: [...rows.filter((r) => !r.triage), ...rows.filter((r) => r.triage)], incidentTypes } };
}

/** What the incident opened from an alert is prefilled with. */
export interface IncidentPrefill {
  type: IncidentType;
  occurredOn: string;
  /** UK time of the alert, HH:MM. */
  occurredAt: string;
  involved: ({ kind: 'pupil'; pupilId: string } | { kind: 'pupil-unlisted' })[];
  description: string;
}


/** The alert's submission id for the report path: one incident per alert, however often it is triaged. */
export function alertSubmissionId(alertId: string): string {
  return `filtering-alert-${alertId}`;
}

function londonTime(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Europe/London' }).format(new Date(iso));
}

/** The prefill from what the provider gave: site, category, action and time, nothing more. */
export function prefillFromAlert(alert: FilteringAlert, type?: IncidentType): IncidentPrefill {
  const at = londonTime(alert.occurredAt);
  return {
    // Blocked: someone tried to reach unsuitable content. Allowed or flagged: the filter let it through.
    type: type ?? (alert.action === 'blocked' ? 'inappropriate-website' : 'filtering-breach'),
    occurredOn: alert.day,
    occurredAt: at,
    involved: [alert.pupilId ? { kind: 'pupil', pupilId: alert.pupilId } : { kind: 'pupil-unlisted' }],
    description: `Filtering alert: ${alert.site} (${alert.category}, ${alert.action}) at ${at}. Source: filtering alert ${alert.id}.`,
  };
}

type TriageValue = { triage: AlertTriage; prefill: IncidentPrefill | null; incident: { reference: string; duplicate: boolean } | null };

/**
 * Triage of one alert, once: "no action" with a reason, or "incident", which opens the incident through the
 * /report use case (same validation, alerts and audit), prefilled from the alert, with the person triaging as
 * reporter. The alert id is the submission id, so a double click or a retry opens one incident, not two.
 */
export async function triageFilteringAlert(deps: FilteringAlertDependencies, principal: Principal, alertId: string, body: Record<string, unknown>): Promise<Outcome<TriageValue>> {
  if (!hasAnyRole(principal, ...ALERT_ROLES)) return denied(deps, principal, 'filtering.alerts.triage');
  const outcome = body.outcome;
  const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
  const problems: string[] = [];
  if (outcome !== 'no-action' && outcome !== 'incident') problems.push('outcome must be "no-action" or "incident"');
  if (outcome === 'no-action' && (reason.length < 3 || reason.length > 1000)) problems.push('a "no action" decision needs a reason, in 3 to 1,000 characters');
  if (outcome === 'incident' && body.incidentType !== undefined && (typeof body.incidentType !== 'string' || !isIncidentType(body.incidentType))) {
    problems.push("incidentType must be one of the school's incident types");
  }
  if (outcome === 'incident' && reason.length > 1000) problems.push('keep the reason to 1,000 characters');
  if (problems.length > 0) return { kind: 'invalid', problems };
  const today = londonToday(deps.clock());
  const alert = (await deps.store.listAlerts(deps.schoolId, daysBefore(today, ALERT_WINDOW_DAYS), today)).find((a) => a.id === alertId);
  if (!alert) return { kind: 'not-found' };

  const already = await deps.store.getTriage(deps.schoolId, alertId);
  if (already) return repeatOf(already, outcome, principal);

  let incident: TriageValue['incident'] = null;
  let prefill: IncidentPrefill | null = null;
  if (outcome === 'incident') {
    if (!deps.report) throw new Error('Filtering triage needs the report dependencies to open an incident.');
    prefill = prefillFromAlert(alert, body.incidentType as IncidentType | undefined);
    const opened = await openIncident(deps, deps.report, principal, alert, prefill);
    if (opened.kind !== 'ok') return opened;
    incident = opened.value;
  }
  const triage: AlertTriage = {
    alertId,
    outcome: outcome as AlertTriage['outcome'],
    reason: outcome === 'incident' ? reason || 'Incident opened from the alert' : reason,
    by: principal.aadObjectId,
    at: deps.clock().toISOString(),
    ...(incident ? { incidentReference: incident.reference } : {}),
  };
  if (!(await deps.store.addTriage(deps.schoolId, triage))) {
    // Two clicks at once: the other one wrote the triage; the incident is the same one (same submission id).
    const first = await deps.store.getTriage(deps.schoolId, alertId);
    if (first) return repeatOf(first, outcome, principal);
    return { kind: 'conflict', message: 'Someone has already triaged this alert. Reload to see their decision.' };
  }
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: principal.aadObjectId,
    action: 'filtering.alerts.triage',
    target: `filtering-alert:${alertId}`,
    outcome: 'succeeded',
    details: { outcome: triage.outcome, ...(incident ? { incident: incident.reference } : {}) },
  });
  return { kind: 'ok', value: { triage, prefill, incident } };
}

/** The same decision again by the same person (a retry) answers as the first did; anything else is a conflict. */
function repeatOf(triage: AlertTriage, outcome: unknown, principal: Principal): Outcome<TriageValue> {
  if (triage.outcome === outcome && triage.by === principal.aadObjectId) {
    return { kind: 'ok', value: { triage, prefill: null, incident: triage.incidentReference ? { reference: triage.incidentReference, duplicate: true } : null } };
  }
  const opened = triage.incidentReference ? ` Incident ${triage.incidentReference} was opened from it.` : '';
  return { kind: 'conflict', message: `Someone has already triaged this alert.${opened} Reload to see their decision.` };
}

async function openIncident(
  deps: FilteringAlertDependencies,
  report: ReportIncidentDependencies,
  principal: Principal,
  alert: FilteringAlert,
  prefill: IncidentPrefill,
): Promise<Outcome<{ reference: string; duplicate: boolean }>> {
  const submissionId = alertSubmissionId(alert.id);
  // Someone else already opened it (their triage row was not written): reuse it rather than open a second.
  const existing = await report.incidents.findReferenceForSubmission(deps.schoolId, submissionId);
  if (existing) return { kind: 'ok', value: { reference: existing, duplicate: true } };
  const result = await reportIncident(report, {
    principal,
    submissionId,
    correlationId: submissionId,
    values: {
      occurredOn: prefill.occurredOn,
      occurredAt: prefill.occurredAt,
      involved: prefill.involved.map((p) => (p.kind === 'pupil' ? `pupil:${p.pupilId}` : p.kind)).join(','),
      location: 'Online (school filtering)',
      incidentType: prefill.type,
      description: prefill.description,
      actionTaken: '',
      childProtection: 'false',
    },
  });
  switch (result.kind) {
    case 'forbidden':
      return { kind: 'forbidden' };
    case 'invalid':
      return { kind: 'invalid', problems: result.problems.map((p) => `${p.field}: ${p.message}`) };
    case 'storage-unavailable':
      throw new StorageUnavailableError('open incident from filtering alert', undefined);
    case 'recorded':
      if (result.claimedAlerts?.length && deps.deliverAlerts) {
        // Content-free alerts to the coordinator and DSL, as for /report; a failure leaves them queued for the retry job.
        await deps.deliverAlerts(result.claimedAlerts).catch(() => undefined);
      }
      return { kind: 'ok', value: { reference: result.incident.reference, duplicate: result.duplicate } };
  }
}

export interface FilteringDigestDependencies extends FilteringAlertDependencies {
  store: FilteringAlertDependencies['store'] & Pick<FilteringStore, 'claimDigest' | 'releaseDigest'>;
  roles: Pick<RoleDirectory, 'listRoleMembers'>;
  conversations: Pick<ConversationStore, 'getConversation'>;
  messenger: ProactiveMessenger;
  logger: Logger;
}

/**
 * The coordinator's daily digest of the previous day's alerts (seed 000 §2.2), once a UK day across
 * instances: counts by action and category and how many are still to triage, never a user, site or pupil.
 */
export async function sendFilteringDigest(deps: FilteringDigestDependencies): Promise<{ sent: number } | undefined> {
  const today = londonToday(deps.clock());
  if (!(await deps.store.claimDigest(deps.schoolId, today, deps.clock().toISOString()))) return undefined;
  try {
    const yesterday = daysBefore(today, 1);
    const [alerts, triage] = await Promise.all([deps.store.listAlerts(deps.schoolId, daysBefore(today, ALERT_WINDOW_DAYS), today), deps.store.listTriage(deps.schoolId)]);
    const digest = digestOf(yesterday, alerts, new Set(triage.map((t) => t.alertId)));
    const ukDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' }).format(new Date(`${yesterday}T12:00:00Z`));
    let sent = 0;
    for (const id of new Set(await deps.roles.listRoleMembers('coordinator'))) {
      const reference = await deps.conversations.getConversation(deps.schoolId, id);
      if (!reference) continue;
      await deps.messenger.sendText(reference, digestText(digest, ukDate));
      sent++;
    }
    deps.logger.info('filtering.digest.sent', { day: yesterday, alerts: digest.total, recipients: sent });
    return { sent };
  } catch (error) {
    await deps.store.releaseDigest(deps.schoolId, today).catch(() => undefined);
    throw error;
  }
}
