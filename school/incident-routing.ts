import type { Principal, Role } from './roles';
import { CHILD_PROTECTION_TYPES, type IncidentType } from './incident-types';
import type { MatrixSubject } from './response-matrix';

/** Who may be involved in an incident, as chosen on the card. Pupils are referenced by register id only. */
export type InvolvedParty =
  | { kind: 'pupil'; pupilId: string }
  | { kind: 'pupil-unlisted' }
  | { kind: 'staff' }
  | { kind: 'headteacher' }
  | { kind: 'visitor' }
  | { kind: 'unknown' };

/**
 * Who may see an incident:
 * - `standard`: coordinator, DSL and head;
 * - `child-protection`: DSL and head;
 * - `staff-concern`: head and DSL (an allegation about a member of staff);
 * - `headteacher-concern`: the chair only (an allegation about the head goes to the chair and the LADO).
 */
export type IncidentAudience = 'standard' | 'child-protection' | 'staff-concern' | 'headteacher-concern';

export interface RoutingInput {
  type: IncidentType;
  childProtection: boolean;
  involved: readonly InvolvedParty[];
  /**
   * The member of staff the concern is about, when the reporter named them: their roles as the directory
   * holds them. `unresolved` when a name was given but cannot be matched: the concern is then routed as if
   * it were about the most senior person it plausibly could be.
   */
  subject?: { roles: ReadonlySet<Role> } | 'unresolved';
}

export function isChildProtection(input: Pick<RoutingInput, 'type' | 'childProtection'>): boolean {
  return input.childProtection || CHILD_PROTECTION_TYPES.has(input.type);
}

export function audienceOf(input: RoutingInput): IncidentAudience {
  if (input.involved.some((p) => p.kind === 'headteacher')) return 'headteacher-concern';
  if (isStaffConcern(input) && typeof input.subject === 'object' && input.subject.roles.has('headteacher')) return 'headteacher-concern';
  if (input.involved.some((p) => p.kind === 'staff')) return 'staff-concern';
  if (isChildProtection(input)) return 'child-protection';
  return 'standard';
}

/** Which of the school's two matrices applies: the staff one whenever an adult at the school is the subject. */
export function matrixSubjectOf(input: Pick<RoutingInput, 'involved'>): MatrixSubject {
  return input.involved.some((p) => p.kind === 'staff' || p.kind === 'headteacher') ? 'staff' : 'pupil';
}

function isStaffConcern(input: Pick<RoutingInput, 'involved'>): boolean {
  return input.involved.some((p) => p.kind === 'staff' || p.kind === 'headteacher');
}

/**
 * True when the DSL must be kept out of a staff concern: the DSL is its subject, or the subject could not be
 * resolved (the most senior plausible member of staff below the head is the DSL).
 */
export function dslExcluded(input: Pick<RoutingInput, 'involved' | 'subject'>): boolean {
  if (!isStaffConcern(input)) return false;
  return input.subject === 'unresolved' || (typeof input.subject === 'object' && input.subject.roles.has('dsl'));
}

/**
 * Roles to alert when an incident is recorded; alerts carry the reference and category only.
 * A concern about staff goes to the head, and to the DSL unless the DSL is (or may be) its subject;
 * about the head, to the chair. The subject themself is never alerted (see `alertRecipients`).
 */
export function rolesToAlert(input: RoutingInput): Role[] {
  switch (audienceOf(input)) {
    case 'headteacher-concern':
      return ['chair'];
    case 'staff-concern':
      return dslExcluded(input) ? ['headteacher'] : ['headteacher', 'dsl'];
    case 'child-protection':
      return ['coordinator', 'dsl'];
    case 'standard':
      return ['coordinator'];
  }
}

/** Roles that may open an incident with this audience (its reporter may always see their own). */
export function rolesThatMayView(audience: IncidentAudience): Role[] {
  switch (audience) {
    case 'headteacher-concern':
      return ['chair'];
    case 'staff-concern':
      return ['headteacher', 'dsl'];
    case 'child-protection':
      return ['dsl', 'headteacher'];
    case 'standard':
      return ['coordinator', 'dsl', 'headteacher'];
  }
}

/** What the access rules read from an incident. */
export interface AccessFacts {
  audience: IncidentAudience;
  reporterId: string;
  /** The member of staff the concern is about, if named. */
  subjectId?: string | undefined;
  /** The DSL is kept out (the DSL is the subject, or the subject could not be resolved). */
  dslExcluded?: boolean | undefined;
  /** People given access by a referral. */
  grantedViewerIds?: readonly string[] | undefined;
}

/** Roles that may open this incident, after keeping the DSL out of an allegation that is (or may be) about them. */
export function rolesThatMayViewIncident(incident: Pick<AccessFacts, 'audience' | 'dslExcluded'>): Role[] {
  const roles = rolesThatMayView(incident.audience);
  return incident.dslExcluded ? roles.filter((r) => r !== 'dsl') : roles;
}

/**
 * Whether someone may work this incident in the triage view, by role or because a referral gave them access.
 * The subject of an allegation never may, whatever roles they hold.
 */
export function mayTriageIncident(principal: Principal, incident: AccessFacts): boolean {
  if (isSubject(principal, incident)) return false;
  if (incident.grantedViewerIds?.includes(principal.aadObjectId)) return true;
  return rolesThatMayViewIncident(incident).some((role) => principal.roles.has(role));
}

export function isSubject(principal: Principal, incident: Pick<AccessFacts, 'subjectId'>): boolean {
  return incident.subjectId !== undefined && incident.subjectId !== '' && incident.subjectId === principal.aadObjectId;
}

export function mayViewIncident(principal: Principal, incident: AccessFacts): boolean {
  if (isSubject(principal, incident)) return false;
  if (principal.aadObjectId === incident.reporterId) return true;
  return mayTriageIncident(principal, incident);
}

/**
 * Who is alerted, given who holds each role: never the reporter, never the subject of the concern.
 * Returns each recipient once, with the first role they were alerted for.
 */
export function alertRecipients(roles: readonly Role[], membersOf: (role: Role) => readonly string[], exclude: { reporterId: string; subjectId?: string | undefined }): { recipientId: string; role: Role }[] {
  const recipients = new Map<string, Role>();
  for (const role of roles) {
    for (const id of membersOf(role)) {
      if (id === exclude.reporterId || id === exclude.subjectId || recipients.has(id)) continue;
      recipients.set(id, role);
    }
  }
  return [...recipients].map(([recipientId, role]) => ({ recipientId, role }));
}

/**
 * Who loses and who gains access when an incident's audience changes (a reclassification). Losers lose it
 * at once (access is worked out on every request); gainers are alerted.
 */
export function audienceChange(before: Pick<AccessFacts, 'audience' | 'dslExcluded'>, after: Pick<AccessFacts, 'audience' | 'dslExcluded'>): { losing: Role[]; gaining: Role[] } {
  const was = rolesThatMayViewIncident(before);
  const will = rolesThatMayViewIncident(after);
  return { losing: was.filter((r) => !will.includes(r)), gaining: will.filter((r) => !was.includes(r)) };
}

/**
 * Senior people who may sign off the gravest cases: the DSL and the head, or the chair for a concern about
 * the head; always only people who may see the incident, and never its subject.
 */
export function maySignOff(principal: Principal, incident: AccessFacts): boolean {
  if (!mayTriageIncident(principal, incident)) return false;
  const senior: Role[] = incident.audience === 'headteacher-concern' ? ['chair', 'dsl', 'headteacher'] : ['dsl', 'headteacher', 'chair'];
  return senior.some((role) => principal.roles.has(role));
}
