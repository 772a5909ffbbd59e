import type { RoleDirectory } from './role-directory';
import type { Role } from '../school/roles';

/** Display names for staff by Entra object id. Names are shown to permitted people only and never logged. */
export interface PeopleNameSource {
  displayNames(objectIds: readonly string[]): Promise<Map<string, string>>;
}

const ROLE_TITLES: [Role, string][] = [
  ['headteacher', 'Headteacher'],
  ['dsl', 'Designated Safeguarding Lead'],
  ['coordinator', 'E-safety coordinator'],
  ['chair', 'Chair of governors'],
  ['governor', 'Governor'],
  ['admin', 'IT administrator'],
  ['staff', 'Member of staff'],
];

/**
 * Without a tenant there is no directory of names: people are shown by their most senior role and the end
 * of their object id ("Designated Safeguarding Lead (…0103)"), which is enough to tell local test users apart.
 */
export class RoleTitleNames implements PeopleNameSource {
  constructor(private readonly roles: Pick<RoleDirectory, 'getPrincipal'>) {}

  async displayNames(objectIds: readonly string[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const id of objectIds) {
      if (id === 'system') {
        names.set(id, 'E-Safety for Teams');
        continue;
      }
      const principal = await this.roles.getPrincipal(id);
      const title = ROLE_TITLES.find(([role]) => principal.roles.has(role))?.[1] ?? 'Former member of staff';
      names.set(id, `${title} (…${id.slice(-4)})`);
    }
    return names;
  }
}
