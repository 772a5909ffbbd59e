import { isRole, ROLES, type Principal, type Role } from '../school/roles';
import type { RoleCacheStore } from '../records/role-cache-store';

/** Answers "what may this person do" and "who holds this role", always on the server. */
export interface RoleDirectory {
  getPrincipal(aadObjectId: string): Promise<Principal>;
  listRoleMembers(role: Role): Promise<string[]>;
}

/** The roles file used without a tenant: a JSON object of role -> list of Entra object ids. */
export type RolesFile = Partial<Record<Role, string[]>>;

export function parseRolesFile(input: unknown, source: string): RolesFile {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`${source} must be a JSON object of role -> list of Entra object ids.`);
  }
  const roles: RolesFile = {};
  for (const [role, ids] of Object.entries(input)) {
    if (!isRole(role)) problems.push(`"${role}" is not a role (use ${ROLES.join(', ')})`);
    else if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id.length === 0)) problems.push(`"${role}" must be a list of object ids`);
    else roles[role] = ids.map((id) => id.toLowerCase());
  }
  if (problems.length > 0) throw new Error(`${source} has problems: ${problems.join('; ')}.`);
  return roles;
}

/** Roles from a static file; for local use and tests. */
export class FileRoleDirectory implements RoleDirectory {
  constructor(private readonly roles: RolesFile) {}

  async getPrincipal(aadObjectId: string): Promise<Principal> {
    const id = aadObjectId.toLowerCase();
    const held = ROLES.filter((role) => this.roles[role]?.includes(id));
    return { aadObjectId: id, roles: new Set(held) };
  }

  async listRoleMembers(role: Role): Promise<string[]> {
    return [...(this.roles[role] ?? [])];
  }
}

/** Reads the members of an Entra security group by its display name. */
export interface GroupMembersReader {
  listGroupMemberIdsByName(displayName: string): Promise<string[]>;
}

/**
 * Roles from the Entra security groups named in configuration, looked up through Graph and cached in
 * Azure Tables so that every instance agrees and Graph is asked once per role per cache period.
 */
export class GraphRoleDirectory implements RoleDirectory {
  constructor(
    private readonly options: {
      schoolId: string;
      groups: Partial<Record<Role, string>>;
      reader: GroupMembersReader;
      cache: RoleCacheStore;
      cacheMinutes: number;
      clock: () => Date;
    },
  ) {}

  async getPrincipal(aadObjectId: string): Promise<Principal> {
    const id = aadObjectId.toLowerCase();
    const held: Role[] = [];
    for (const role of ROLES) {
      if ((await this.listRoleMembers(role)).includes(id)) held.push(role);
    }
    return { aadObjectId: id, roles: new Set(held) };
  }

  async listRoleMembers(role: Role): Promise<string[]> {
    const group = this.options.groups[role];
    if (!group) return [];
    const now = this.options.clock();
    const cached = await this.options.cache.getRoleMembers(this.options.schoolId, role);
    if (cached && now.getTime() - cached.fetchedAt.getTime() < this.options.cacheMinutes * 60_000) return cached.memberIds;
    const members = (await this.options.reader.listGroupMemberIdsByName(group)).map((id) => id.toLowerCase());
    await this.options.cache.setRoleMembers(this.options.schoolId, role, members, now);
    return members;
  }
}
