/** The people the app knows, by what they may do (product.md, "People and roles"). */
export const ROLES = ['staff', 'coordinator', 'dsl', 'headteacher', 'chair', 'governor', 'admin', 'pupil'] as const;
export type Role = (typeof ROLES)[number];

/** Each role as a school names it, for packs and pages. */
export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  dsl: 'Designated Safeguarding Lead',
  headteacher: 'Headteacher',
  coordinator: 'E-safety coordinator',
  chair: 'Chair of governors',
  governor: 'Governor',
  admin: 'IT administrator',
  staff: 'Member of staff',
  pupil: 'Pupil',
};

/** Someone the server has identified from their Entra object id; roles never come from the client. */
export interface Principal {
  aadObjectId: string;
  roles: ReadonlySet<Role>;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function hasAnyRole(principal: Principal, ...roles: Role[]): boolean {
  return roles.some((role) => principal.roles.has(role));
}

/** Adults who may report a concern: every member of staff, and the leaders who are staff too. */
export function canReportIncidents(principal: Principal): boolean {
  return hasAnyRole(principal, 'staff', 'coordinator', 'dsl', 'headteacher');
}
