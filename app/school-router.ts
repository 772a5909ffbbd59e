import type { Request } from 'restify';
import type { AppServices } from './compose';
import type { MembershipIndex } from '../identity/role-directory';

/** Checks a tab sign-in token and gives the caller's Entra object id; the tab's validator. */
export interface TokenIdentifier {
  validate(token: string): Promise<{ ok: true; objectId: string } | { ok: false; reason: string }>;
}

/**
 * Picks which school of a trust a request belongs to, from who is asking: the schools whose roles include
 * the caller, in SCHOOLS_FILE order, preferring the one the page asked for (`x-school-id`). Someone with
 * no role anywhere goes to the first school, whose handlers refuse them as they would anyone unknown.
 *
 * The school's own handlers still check the caller's roles against that school's directory, so routing
 * can never widen access: a person is only ever served by a school that lists them.
 */
export class SchoolRouter {
  private readonly byId: ReadonlyMap<string, AppServices>;

  constructor(
    readonly schools: readonly AppServices[],
    private readonly tokens: TokenIdentifier,
    /** Person → schools in one read (roles from Entra groups); without it every school's directory is asked (roles files, in memory). */
    private readonly index?: MembershipIndex,
  ) {
    this.byId = new Map(schools.map((s) => [s.config.school.id, s]));
  }

  get primary(): AppServices {
    return this.schools[0]!;
  }

  /**
   * The schools in which this person holds any role, in SCHOOLS_FILE order. With the membership index this is one
   * storage read whatever the number of schools; each school's handlers still check the person's roles there.
   */
  async membershipsOf(objectId: string | undefined): Promise<AppServices[]> {
    if (!objectId) return [];
    if (this.index) {
      const ids = new Set(await this.index.schoolsOf(objectId));
      return this.schools.filter((s) => ids.has(s.config.school.id));
    }
    const roles = await Promise.all(this.schools.map((s) => s.report.roles.getPrincipal(objectId)));
    return this.schools.filter((_, i) => roles[i]!.roles.size > 0);
  }

  /** The school for a person, preferring `preferredId` when they belong to it. */
  async forPerson(objectId: string | undefined, preferredId?: string): Promise<{ school: AppServices; memberships: AppServices[] }> {
    const memberships = await this.membershipsOf(objectId);
    const preferred = preferredId ? memberships.find((s) => s.config.school.id === preferredId) : undefined;
    return { school: preferred ?? memberships[0] ?? this.primary, memberships };
  }

  /** The school for an HTTP request to the tab or its API, from its Bearer token. */
  async forRequest(req: Request): Promise<{ school: AppServices; memberships: AppServices[] }> {
    const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
    const check = match ? await this.tokens.validate(match[1]!) : undefined;
    const preferred = req.header('x-school-id') || undefined;
    return this.forPerson(check?.ok ? check.objectId : undefined, preferred);
  }

  byIdOrUndefined(id: string): AppServices | undefined {
    return this.byId.get(id);
  }
}
