import type { Role } from '../../school/roles';
import type { TestIdentityProvider } from './tab-auth';
import { newUser, type TeamsUser } from './teams-activities';

/** One person per role (the leaders are staff too), as the tab API tests sign in. */
export function tabRoleUsers() {
  return {
    staff: newUser('Staff Member'),
    coordinator: newUser('Coordinator'),
    dsl: newUser('Dsl'),
    headteacher: newUser('Head'),
    chair: newUser('Chair'),
    governor: newUser('Governor'),
    admin: newUser('Admin'),
  };
}

export type TabRoleUsers = ReturnType<typeof tabRoleUsers>;
export type Who = keyof TabRoleUsers;

/** The roles file for `tabRoleUsers`: the coordinator, DSL and head are staff as well; the chair is a governor. */
export function rolesOf(users: TabRoleUsers): Partial<Record<Role, TeamsUser[]>> {
  return {
    staff: [users.staff, users.coordinator, users.dsl, users.headteacher],
    coordinator: [users.coordinator],
    dsl: [users.dsl],
    headteacher: [users.headteacher],
    chair: [users.chair],
    governor: [users.governor, users.chair],
    admin: [users.admin],
  };
}

export interface TabApiAnswer {
  status: number;
  text: string;
  body: Record<string, unknown>;
  etag: string | null;
}

/** Calls the tab API as one of `users` (signed by the test identity provider), or with no token when `who` is undefined. */
export function tabApiCaller<U extends Record<string, TeamsUser>>(target: { url: string }, idp: TestIdentityProvider, users: U) {
  return async (who: keyof U | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TabApiAnswer> => {
    const auth: Record<string, string> = who ? { authorization: `Bearer ${await idp.token(users[who]!.aadObjectId)}` } : {};
    const response = await fetch(`${target.url}${path}`, {
      method,
      headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, etag: response.headers.get('etag') };
  };
}
