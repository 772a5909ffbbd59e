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
}

export function isChildProtection(input: Pick<RoutingInput, 'type' | 'childProtection'>): boolean {
  return input.childProtection || CHILD_PROTECTION_TYPES.has(input.type);
}

export function audienceOf(input: RoutingInput): IncidentAudience {
  if (input.involved.some((p) => p.kind === 'headteacher')) return 'headteacher-concern';
  if (input.involved.some((p) => p.kind === 'staff')) return 'staff-concern';
  if (isChildProtection(input)) return 'child-protection';
  return 'standard';
}

/** Which of the school's two matrices applies: the staff one whenever an adult at the school is the subject. */
export function matrixSubjectOf(input: Pick<RoutingInput, 'involved'>): MatrixSubject {
  return input.involved.some((p) => p.kind === 'staff' || p.kind === 'headteacher') ? 'staff' : 'pupil';
}

/** Roles to alert when an incident is recorded; alerts carry the reference and category only. */
export function rolesToAlert(input: RoutingInput): Role[] {
  switch (audienceOf(input)) {
    case 'headteacher-concern':
      return ['chair'];
    case 'staff-concern':
      return ['headteacher', 'dsl'];
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

export function mayViewIncident(principal: Principal, incident: { audience: IncidentAudience; reporterId: string }): boolean {
  if (principal.aadObjectId === incident.reporterId) return true;
  return rolesThatMayView(incident.audience).some((role) => principal.roles.has(role));
}
