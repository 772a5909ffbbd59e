import { isRole, ROLES, type Principal, type Role } from '../school/roles';
import type { RoleCacheStore } from '../records/role-cache-store';

/** Where a person holds a role: the schools of a trust, from the membership index the role directories keep. */
export interface MembershipIndex {
  schoolsOf(aadObjectId: string): Promise<string[]>;
}

/** The membership index in Tables (person → schools), kept current by each school's GraphRoleDirectory: one read per lookup. */
export class CachedMembershipIndex implements MembershipIndex {
  constructor(private readonly cache: Pick<RoleCacheStore, 'getMemberships'>) {}

  async schoolsOf(aadObjectId: string): Promise<string[]> {
    return [...new Set((await this.cache.getMemberships(aadObjectId.toLowerCase())).map((m) => m.schoolId))];
  }
}

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
      cache: Pick<RoleCacheStore, 'getRoleMembers' | 'setRoleMembers' | 'listFetchedAt' | 'getMemberships'>;
      cacheMinutes: number;
      clock: () => Date;
    },
  ) {}

  /** Until when (ms) this instance last found every role's cache fresh; a hint only, never shared state. */
  private freshUntil = 0;

  /**
   * The person's roles here from the membership index (one read), after making sure no role's cache is older than
   * the cache period (one more read, at most once per period per instance, plus Graph for any stale role).
   */
  async getPrincipal(aadObjectId: string): Promise<Principal> {
    const id = aadObjectId.toLowerCase();
    await this.refreshStaleRoles();
    const memberships = await this.options.cache.getMemberships(id);
    const held = ROLES.filter((role) => this.options.groups[role] && memberships.some((m) => m.schoolId === this.options.schoolId && m.role === role));
    return { aadObjectId: id, roles: new Set(held) };
  }

  private async refreshStaleRoles(): Promise<void> {
    const now = this.options.clock().getTime();
    if (now < this.freshUntil) return;
    const period = this.options.cacheMinutes * 60_000;
    const fetched = await this.options.cache.listFetchedAt(this.options.schoolId);
    let until = Number.POSITIVE_INFINITY;
    for (const role of ROLES) {
      if (!this.options.groups[role]) continue;
      const at = fetched.get(role)?.getTime();
      if (at === undefined || now - at >= period) {
        await this.listRoleMembers(role);
        until = Math.min(until, now + period);
      } else {
        until = Math.min(until, at + period);
      }
    }
    this.freshUntil = until === Number.POSITIVE_INFINITY ? now + period : until;
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
