import type { RoleDirectory } from './role-directory';
import { ROLE_LABELS, type Role } from '../school/roles';

/** Display names for staff by Entra object id. Names are shown to permitted people only and never logged. */
export interface PeopleNameSource {
  displayNames(objectIds: readonly string[]): Promise<Map<string, string>>;
}

/** Most senior first: a person is named by the first of their roles in this list. */
const ROLE_PRIORITY: readonly Role[] = ['headteacher', 'dsl', 'coordinator', 'chair', 'governor', 'admin', 'staff', 'pupil'];
const ROLE_TITLES: [Role, string][] = ROLE_PRIORITY.map((role) => [role, ROLE_LABELS[role]]);

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

/** What GraphPeopleNames needs from the gateway: `GET /users/{id}` (Graph takes an object id where it takes a UPN). */
export interface UserLookup {
  getUsersByUserPrincipalName(idsOrNames: readonly string[]): Promise<({ ok: true; value: { displayName?: string | null } | undefined } | { ok: false; error: unknown })[]>;
}

/**
 * Staff names from Microsoft Graph (`GET /users/{id}?$select=…displayName`, in `$batch`es; User.ReadWrite.All, which
 * the app holds, covers reading them). Names are cached in this process for a few minutes: a cache, not state, so
 * every instance may hold its own. Anyone Graph does not know keeps their role title.
 */
export class GraphPeopleNames implements PeopleNameSource {
  private readonly cache = new Map<string, { name: string; at: number }>();

  constructor(
    private readonly users: UserLookup,
    private readonly fallback: PeopleNameSource,
    private readonly options: { clock: () => Date; ttlMs?: number; maxEntries?: number } = { clock: () => new Date() },
  ) {}

  async displayNames(objectIds: readonly string[]): Promise<Map<string, string>> {
    const now = this.options.clock().getTime();
    const ttl = this.options.ttlMs ?? 5 * 60_000;
    const names = new Map<string, string>();
    const missing: string[] = [];
    for (const id of new Set(objectIds)) {
      const hit = this.cache.get(id);
      if (hit && now - hit.at < ttl) names.set(id, hit.name);
      else if (/^[0-9a-f-]{36}$/i.test(id)) missing.push(id);
    }
    if (missing.length > 0) {
      const found = await this.users.getUsersByUserPrincipalName(missing).catch(() => []);
      missing.forEach((id, i) => {
        const result = found[i];
        const name = result?.ok ? result.value?.displayName : undefined;
        if (!name) return;
        names.set(id, name);
        if (this.cache.size >= (this.options.maxEntries ?? 5000)) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(id, { name, at: now });
      });
    }
    const rest = objectIds.filter((id) => !names.has(id));
    if (rest.length > 0) for (const [id, name] of await this.fallback.displayNames(rest)) names.set(id, name);
    return names;
  }
}
