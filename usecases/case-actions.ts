import { randomUUID } from 'node:crypto';
import type { GraphGateway } from '../graph/graph-gateway';
import type { IncidentStore, NewAlert, Referral, ReferralTarget, StoredIncident } from '../records/incident-store';
import { sanctionRow, type SanctionRecord, type SanctionStore } from '../records/sanction-store';
import type { PupilRecord } from '../records/pupil-register-store';
import { audienceChange, audienceOf, isChildProtection, isSubject, type IncidentAudience } from '../school/incident-routing';
import { CHILD_PROTECTION_TYPES, fourCOf, incidentTypeLabel, isIncidentType } from '../school/incident-types';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { formatUkDate, isCalendarDate, londonDate } from '../school/uk-dates';
import { countForEscalation, countForReclassification, newEscalation, storeCount } from './summarise-incidents';
import { auditExtras, text, updateIncident, withCount, type IncidentDetail, type SavedNotice, type TriageDependencies, type TriageOutcome } from './triage-incidents';

/** Where a referral can go, with what the chronology calls it. */
export const REFERRAL_TARGETS: Readonly<Record<ReferralTarget, string>> = {
  dsl: 'the Designated Safeguarding Lead',
  headteacher: 'the headteacher',
  chair: 'the chair of governors',
  lado: 'the LADO',
  'childrens-social-care': "children's social care",
  police: 'the police',
  ceop: 'CEOP',
  iwf: 'the Internet Watch Foundation',
  prevent: 'Prevent',
  'local-authority': 'the local authority',
  trust: 'the trust',
};

/** Referrals inside the school: the person is alerted and given access to the incident. */
const INTERNAL_TARGETS: Partial<Record<ReferralTarget, Role>> = { dsl: 'dsl', headteacher: 'headteacher', chair: 'chair' };

/**
 * Referrals live on the incident row as one JSON property, and a string property holds at most 64 KiB (32K UTF-16
 * characters): https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model.
 * A referral is at most about 2,400 characters (reasons and outcomes of up to 1,000), so 12 fit with room to spare;
 * further referrals are recorded as actions.
 */
export const MAX_REFERRALS = 12;
const MAX_REFERRAL_TEXT = 1000;

export interface CaseActionDependencies extends TriageDependencies {
  incidents: TriageDependencies['incidents'] & Pick<IncidentStore, 'listSanctions'>;
  /** Pupils' access suspensions (records/sanction-store.ts). */
  sanctions: Pick<SanctionStore, 'listSanctions' | 'setSanctionState'>;
  roles: { listRoleMembers(role: Role): Promise<string[]> };
  /** The pupil register: sanctions name a pupil by UPN. */
  register: { findPupilByUserPrincipalName(schoolId: string, upn: string): Promise<PupilRecord | undefined> };
  /** Undefined in Graph plan mode: sanctions then record what they would do. */
  graph: Pick<GraphGateway, 'setAccountEnabled' | 'revokeSignInSessions'> | undefined;
}

type Outcome = Promise<TriageOutcome<IncidentDetail | SavedNotice>>;

const isTarget = (value: string): value is ReferralTarget => Object.hasOwn(REFERRAL_TARGETS, value);

/** Alerts for the members of some roles: never the subject, never the person acting. Content-free, like every alert. */
async function alertsForRoles(deps: CaseActionDependencies, roles: readonly Role[], incident: StoredIncident, actorId: string): Promise<NewAlert[]> {
  const alerts = new Map<string, NewAlert>();
  for (const role of roles) {
    for (const id of await deps.roles.listRoleMembers(role)) {
      if (id === actorId || id === incident.subjectId || alerts.has(id)) continue;
      alerts.set(id, { recipientId: id, role, type: incident.type, urgent: incident.childProtection });
    }
  }
  return [...alerts.values()];
}

export interface ReferralInput {
  etag?: string;
  to?: unknown;
  why?: unknown;
  externalReference?: unknown;
  on?: unknown;
}

/**
 * Records a referral. To the DSL, the head or the chair it alerts them and gives them access; outside the
 * school it records the date and the other agency's reference, and the outcome later.
 */
export async function recordReferral(deps: CaseActionDependencies, principal: Principal, reference: string, input: ReferralInput): Outcome {
  const to = text(input.to);
  const why = text(input.why);
  const externalReference = text(input.externalReference);
  const today = londonDate(deps.clock());
  const on = text(input.on) || today;
  const problems = [
    ...(isTarget(to) ? [] : [`Say who the referral is to (to): one of ${Object.keys(REFERRAL_TARGETS).join(', ')}.`]),
    ...(why ? [] : ['Say why (why).']),
    ...(why.length > MAX_REFERRAL_TEXT ? ['Keep why to 1,000 characters.'] : []),
    ...(externalReference.length > 100 ? ['Keep the other agency’s reference to 100 characters.'] : []),
    ...(!isCalendarDate(on) ? ['Give the date of the referral as YYYY-MM-DD (on).'] : on > today ? ['The referral cannot be dated in the future.'] : []),
  ];
  return updateIncident(deps, principal, reference, 'incident.referral', input.etag, problems, async (incident, chronology) => {
    const target = to as ReferralTarget;
    const referrals = incident.referrals ?? [];
    if (referrals.length >= MAX_REFERRALS) return { invalid: [`An incident can hold ${MAX_REFERRALS} referrals; record further ones as actions.`] };
    const at = deps.clock().toISOString();
    const role = INTERNAL_TARGETS[target];
    let alerts: NewAlert[] = [];
    let granted = incident.grantedViewerIds ?? [];
    if (role) {
      alerts = await alertsForRoles(deps, [role], incident, principal.aadObjectId);
      const members = (await deps.roles.listRoleMembers(role)).filter((id) => id !== incident.subjectId);
      if (members.length === 0) return { invalid: [`Nobody who may be told holds the role ${REFERRAL_TARGETS[target]}: refer to someone else.`] };
      granted = [...new Set([...granted, ...members])];
    }
    const count = countForEscalation(incident, newEscalation(incident, chronology, { referralTo: target }));
    const referral: Referral = { id: randomUUID().slice(0, 8), to: target, why: why.slice(0, MAX_REFERRAL_TEXT), on, externalReference: externalReference || undefined, byId: principal.aadObjectId, at };
    const updated = await deps.incidents.appendEvent(
      incident,
      {
        at,
        actorId: principal.aadObjectId,
        kind: 'referral',
        what: `Referred to ${REFERRAL_TARGETS[target]} on ${formatUkDate(on)}${externalReference ? ` (their reference ${externalReference})` : ''}`,
        why: referral.why,
      },
      { referrals: [...referrals, referral], grantedViewerIds: granted, ...(incident.status === 'open' ? { status: 'in-progress' as const } : {}) },
      withCount(auditExtras(deps, principal, 'incident.referral', reference, { to: target, alerted: alerts.length }, { alerts }), count),
    );
    return { updated, afterwards: count ? () => storeCount(deps.aggregates, deps.schoolId, count) : undefined };
  });
}

/** Records the outcome of a referral, once. */
export async function recordReferralOutcome(deps: CaseActionDependencies, principal: Principal, reference: string, referralId: string, input: { etag?: string; outcome?: unknown }): Outcome {
  const outcome = text(input.outcome);
  const problems = [...(outcome ? [] : ['Say what the outcome was (outcome).']), ...(outcome.length > MAX_REFERRAL_TEXT ? ['Keep the outcome to 1,000 characters.'] : [])];
  return updateIncident(deps, principal, reference, 'incident.referral-outcome', input.etag, problems, async (incident) => {
    const referrals = incident.referrals ?? [];
    const referral = referrals.find((r) => r.id === referralId);
    if (!referral) return { invalid: ['There is no referral with that id on this incident.'] };
    if (referral.outcome) return { conflict: 'This referral already has an outcome; record anything further as an action.' };
    const at = deps.clock().toISOString();
    const updated = await deps.incidents.appendEvent(
      incident,
      { at, actorId: principal.aadObjectId, kind: 'referral-outcome', what: `Outcome of the referral to ${REFERRAL_TARGETS[referral.to]}`, why: outcome },
      { referrals: referrals.map((r) => (r.id === referralId ? { ...r, outcome, outcomeAt: at, outcomeById: principal.aadObjectId } : r)) },
      auditExtras(deps, principal, 'incident.referral-outcome', reference, { to: referral.to }),
    );
    return { updated };
  });
}

/**
 * The audience after a change of type: an allegation against staff stays one (its audience comes from who it is
 * about, not its type); otherwise it follows the new type and the child-protection flag.
 */
export function audienceAfterReclassification(incident: Pick<StoredIncident, 'audience' | 'involved'>, type: StoredIncident['type'], childProtection: boolean): IncidentAudience {
  if (incident.audience === 'staff-concern' || incident.audience === 'headteacher-concern') return incident.audience;
  return audienceOf({ type, childProtection, involved: incident.involved });
}

/**
 * Changes an incident's type, and with it its four Cs and who may see it. Those who lose access lose it at
 * once (access is checked on every request); those who gain it are alerted.
 */
export async function reclassifyIncident(deps: CaseActionDependencies, principal: Principal, reference: string, input: { etag?: string; type?: unknown; why?: unknown; childProtection?: unknown }): Outcome {
  const type = text(input.type);
  const why = text(input.why);
  const problems = [
    ...(isIncidentType(type) ? [] : ['Choose the new type (type) from the incident types.']),
    ...(why ? [] : ['Say why the incident is reclassified (why).']),
    ...(input.childProtection !== undefined && typeof input.childProtection !== 'boolean' ? ['childProtection must be true or false.'] : []),
  ];
  return updateIncident(deps, principal, reference, 'incident.reclassify', input.etag, problems, async (incident, chronology) => {
    if (!isIncidentType(type)) return { invalid: problems };
    // The reporter's tick is kept unless the DSL says otherwise: inferred as ticked when the old type was not child protection by itself.
    const ticked = typeof input.childProtection === 'boolean' ? input.childProtection : incident.childProtection && !CHILD_PROTECTION_TYPES.has(incident.type);
    const childProtection = isChildProtection({ type, childProtection: ticked });
    if (type === incident.type && childProtection === incident.childProtection) return { invalid: ['That is the incident’s type already.'] };
    const audience = audienceAfterReclassification(incident, type, childProtection);
    const change = audienceChange(incident, { audience, dslExcluded: incident.dslExcluded });
    const at = deps.clock().toISOString();
    // Alerted: whoever gains access, and the DSL when the concern becomes child protection (as a new one would alert them).
    const newlyResponsible: Role[] = childProtection && !incident.childProtection && !incident.dslExcluded && audience !== 'headteacher-concern' ? ['dsl'] : [];
    const alerts = await alertsForRoles(deps, [...new Set([...change.gaining, ...newlyResponsible])], { ...incident, type, childProtection }, principal.aadObjectId);
    const moved = change.losing.length || change.gaining.length ? ` Access: ${change.losing.length ? `no longer ${change.losing.join(', ')}` : ''}${change.losing.length && change.gaining.length ? '; ' : ''}${change.gaining.length ? `now also ${change.gaining.join(', ')} (alerted)` : ''}.` : '';
    const count = countForReclassification(incident, { ...incident, type, audience }, chronology);
    const updated = await deps.incidents.appendEvent(
      incident,
      {
        at,
        actorId: principal.aadObjectId,
        kind: 'reclassified',
        what: `Reclassified from "${incidentTypeLabel(incident.type)}"${incident.childProtection ? ' (child protection)' : ''} to "${incidentTypeLabel(type)}"${childProtection ? ' (child protection)' : ''}.${moved}`,
        why: why.slice(0, 2000),
      },
      { type, fourC: fourCOf(type), childProtection, audience },
      withCount(auditExtras(deps, principal, 'incident.reclassify', reference, { from: incident.type, to: type, fromAudience: incident.audience, toAudience: audience }, { alerts }), count),
    );
    // The governors' figures move with it at once, counted once for this chronology line.
    return { updated, afterwards: () => storeCount(deps.aggregates, deps.schoolId, count), warnings: alerts.length ? [] : undefined };
  });
}

/** Records (or corrects) the incident's CPOMS or MyConcern reference. */
export async function recordCpomsReference(deps: CaseActionDependencies, principal: Principal, reference: string, input: { etag?: string; reference?: unknown }): Outcome {
  const cpoms = text(input.reference);
  const problems = /^[A-Za-z0-9][A-Za-z0-9 ./_#-]{0,63}$/.test(cpoms) ? [] : ['Give the CPOMS or MyConcern reference (reference): up to 64 letters, digits, spaces and . / _ # -.'];
  return updateIncident(deps, principal, reference, 'incident.cpoms', input.etag, problems, async (incident) => {
    if (incident.cpomsReference === cpoms) return { invalid: ['That CPOMS reference is recorded already.'] };
    const updated = await deps.incidents.appendEvent(
      incident,
      {
        at: deps.clock().toISOString(),
        actorId: principal.aadObjectId,
        kind: 'cpoms',
        what: incident.cpomsReference ? `CPOMS reference corrected from ${incident.cpomsReference} to ${cpoms}` : `Recorded in CPOMS as ${cpoms}`,
        why: '',
      },
      { cpomsReference: cpoms },
      auditExtras(deps, principal, 'incident.cpoms', reference),
    );
    return { updated };
  });
}

export const INFORM_PARENTS_PROMPT = 'Inform the pupil’s parents or carers of the suspension, and record it with "Parents informed".';

/** Longest suspension the tab allows; longer needs the behaviour policy's exclusion process, not this. */
export const MAX_SUSPENSION_DAYS = 366;

/**
 * Suspends a pupil's sign-in as the matrix's "removal of network or internet access": Graph sets
 * `accountEnabled` false (PATCH /users/{id}) and revokes the pupil's sessions (POST /users/{id}/revokeSignInSessions);
 * the restore job turns it back on at the date, once across instances. DSL or head only. In Graph plan mode
 * nothing is changed and the chronology records what would have been done.
 */
export async function suspendPupilAccess(
  deps: CaseActionDependencies,
  principal: Principal,
  reference: string,
  input: { etag?: string; upn?: unknown; kind?: unknown; until?: unknown; why?: unknown },
): Promise<TriageOutcome<(IncidentDetail | SavedNotice) & { prompt: string; sanction: Pick<SanctionRecord, 'until' | 'state'> }>> {
  const upn = text(input.upn).toLowerCase();
  const until = text(input.until);
  const why = text(input.why);
  const today = londonDate(deps.clock());
  const last = new Date(Date.parse(`${today}T00:00:00Z`) + MAX_SUSPENSION_DAYS * 86_400_000).toISOString().slice(0, 10);
  const problems = [
    ...(input.kind === 'suspend-access' ? [] : ['kind must be "suspend-access".']),
    ...(upn && upn.length <= 256 ? [] : ['Give the pupil’s username (upn).']),
    ...(!isCalendarDate(until) ? ['Give the date access comes back (until) as YYYY-MM-DD.'] : until <= today ? ['The date access comes back must be after today.'] : until > last ? [`Suspend access for at most ${MAX_SUSPENSION_DAYS} days.`] : []),
    ...(why ? [] : ['Say why (why).']),
  ];
  let sanction: Pick<SanctionRecord, 'until' | 'state'> = { until, state: 'applying' };
  let pupil: PupilRecord | undefined;
  const dslOrHead = (who: Principal): boolean => hasAnyRole(who, 'dsl', 'headteacher');
  const saved = await updateIncident(deps, principal, reference, 'incident.sanction', input.etag, problems, async (incident) => {
    pupil = await deps.register.findPupilByUserPrincipalName(deps.schoolId, upn);
    if (!pupil || !incident.involved.some((p) => p.kind === 'pupil' && p.pupilId === pupil!.externalId)) {
      return { invalid: ['That pupil is not one of the pupils involved in this incident.'] };
    }
    if (isSubject(principal, incident)) return 'forbidden';
    const at = deps.clock().toISOString();
    const state: SanctionRecord['state'] = deps.graph && pupil.userId ? 'applying' : 'planned';
    sanction = { until, state };
    const row = sanctionRow({ schoolId: deps.schoolId, reference, pupilId: pupil.externalId, userPrincipalName: upn, userId: pupil.userId, kind: 'suspend-access', until, byId: principal.aadObjectId, at, state });
    const updated = await deps.incidents.appendEvent(
      incident,
      {
        at,
        actorId: principal.aadObjectId,
        kind: 'sanction',
        what:
          state === 'planned'
            ? `Plan mode: would suspend the pupil’s sign-in (account disabled, sessions revoked) until ${formatUkDate(until)}; nothing was changed in Microsoft 365.`
            : `Sign-in suspended (account disabled, sessions revoked) until ${formatUkDate(until)}.`,
        why: why.slice(0, 2000),
      },
      incident.status === 'open' ? { status: 'in-progress' } : {},
      auditExtras(deps, principal, 'incident.sanction', reference, { pupilId: pupil.externalId, until, mode: state === 'planned' ? 'plan' : 'live' }, { rows: [row] }),
    );
    return { updated };
  }, dslOrHead);
  if (saved.kind !== 'ok') return saved;
  const warnings = [...(('warnings' in saved.value && saved.value.warnings) || [])];
  if (sanction.state === 'applying' && deps.graph && pupil?.userId) {
    const applied = await applySuspension(deps, pupil.userId);
    const [stored] = await deps.sanctions.listSanctions(deps.schoolId, { reference, pupilId: pupil.externalId }).then((rows) => rows.filter((r) => r.until === until));
    const state = applied ? 'active' : 'failed';
    if (stored) await deps.sanctions.setSanctionState(stored, state, deps.clock()).catch(() => undefined);
    sanction = { until, state };
    if (!applied) warnings.push('Recorded, but Microsoft 365 refused the change: the pupil can still sign in. Ask IT to check the app’s permissions, then suspend again.');
  }
  return { kind: 'ok', value: { ...saved.value, ...(warnings.length ? { warnings } : {}), prompt: INFORM_PARENTS_PROMPT, sanction } };
}

async function applySuspension(deps: CaseActionDependencies, userId: string): Promise<boolean> {
  try {
    const [disabled] = await deps.graph!.setAccountEnabled([{ userId, accountEnabled: false }]);
    if (!disabled?.ok) return false;
    const [revoked] = await deps.graph!.revokeSignInSessions([userId]);
    return revoked?.ok === true;
  } catch {
    return false;
  }
}

/** A claim on a due sanction expires after this long, so a restore whose instance died is picked up again. */
export const SANCTION_CLAIM_MS = 60_000;

/**
 * Restores access for sanctions whose date has come, once each across instances: each is claimed with its
 * etag (a claim expires after SANCTION_CLAIM_MS), Graph turns sign-in back on, and the incident's chronology
 * and the audit log record it. Returns how many were restored.
 */
export interface SanctionRestoreDependencies {
  schoolId: string;
  incidents: Pick<IncidentStore, 'getIncident' | 'appendEvent'>;
  sanctions: Pick<SanctionStore, 'listDueSanctions' | 'setSanctionState'>;
  graph: Pick<GraphGateway, 'setAccountEnabled'> | undefined;
  audit: TriageDependencies['audit'];
  clock: () => Date;
}

export async function restoreDueSanctions(deps: SanctionRestoreDependencies): Promise<number> {
  const now = deps.clock();
  const due = await deps.sanctions.listDueSanctions(deps.schoolId, londonDate(now), now, SANCTION_CLAIM_MS);
  let restored = 0;
  for (const sanction of due) {
    const claimed = await deps.sanctions.setSanctionState(sanction, 'restoring', now);
    if (!claimed) continue;
    const live = sanction.state !== 'planned' && deps.graph && sanction.userId;
    if (live) {
      const [result] = await deps.graph!.setAccountEnabled([{ userId: sanction.userId!, accountEnabled: true }]);
      // Left claimed: the claim expires and the next run tries again.
      if (!result?.ok) continue;
    }
    const done = await deps.sanctions.setSanctionState(claimed, 'restored', deps.clock());
    if (!done) continue;
    restored++;
    const what = live ? 'Sign-in restored at the end of the suspension.' : 'Plan mode: the suspension ended; nothing was changed in Microsoft 365.';
    await deps.audit.appendAudit(deps.schoolId, { actorId: 'system', action: 'incident.sanction.restored', target: sanction.reference, outcome: 'succeeded', details: { pupilId: sanction.pupilId } });
    for (let attempt = 0; attempt < 3; attempt++) {
      const incident = await deps.incidents.getIncident(deps.schoolId, sanction.reference);
      if (!incident) break;
      try {
        await deps.incidents.appendEvent(incident, { at: deps.clock().toISOString(), actorId: 'system', kind: 'sanction', what, why: `The suspension set until ${formatUkDate(sanction.until)} ended.` });
        break;
      } catch {
        // Someone changed the incident meanwhile: read it again and add the line.
      }
    }
  }
  return restored;
}
