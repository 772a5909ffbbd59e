import type { RoleDirectory } from '../identity/role-directory';
import type { RoutingInput } from '../school/incident-routing';
import type { IncidentSubmission } from '../school/incident-submission';
import { hasAnyRole } from '../school/roles';

export interface ResolvedSubject {
  /** For the routing rules: the subject's roles, or `unresolved`; undefined when no adult at the school is involved. */
  routing: RoutingInput['subject'];
  /** The subject's object id when they were found in the role directory. */
  subjectId: string | undefined;
}

/**
 * Resolves the member of staff a concern is about from the report card's staff picker. Someone the role
 * directory does not know as staff cannot be resolved: the concern is then routed as if it were about the most
 * senior plausible person (the DSL for "a member of staff"), so it can never reach its subject.
 */
export async function resolveAllegationSubject(roles: Pick<RoleDirectory, 'getPrincipal'>, subject: IncidentSubmission['subjectStaff']): Promise<ResolvedSubject> {
  if (!subject) return { routing: undefined, subjectId: undefined };
  if (subject.kind === 'unnamed') return { routing: 'unresolved', subjectId: undefined };
  try {
    const principal = await roles.getPrincipal(subject.objectId);
    if (!hasAnyRole(principal, 'staff', 'coordinator', 'dsl', 'headteacher')) return { routing: 'unresolved', subjectId: subject.objectId };
    return { routing: { roles: principal.roles }, subjectId: principal.aadObjectId };
  } catch {
    // The directory could not answer: the report is still saved, routed as if about the most senior plausible person.
    return { routing: 'unresolved', subjectId: subject.objectId };
  }
}
