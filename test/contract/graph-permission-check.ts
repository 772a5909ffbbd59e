import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which Microsoft Graph permissions an operation accepts, read from Microsoft's own permission map
 * (permissions.json beside this file: microsoftgraph/microsoft-graph-devx-content permissions/new/permissions.json,
 * the map behind Graph Explorer and the permission tables of the Graph docs; see README.md for its commit and licence).
 *
 * Only what the map lists for an operation and sign-in mode counts. Where the map has no entry for an
 * operation, DOCUMENTED_PERMISSIONS gives the least-privileged permission from the operation's docs page.
 */

/** How the caller signed in: client credentials (application permissions) or device code (delegated, work or school). */
export type GraphSignIn = 'application' | 'delegated';

/** infra/graph-permissions.json */
export interface GrantedGraphPermissions {
  application: string[];
  delegated: string[];
  operations?: Record<string, string[]>;
}

/** A permission that Microsoft lists for an operation. */
export interface ListedPermission {
  name: string;
  /** Marked least privileged for this sign-in mode. */
  leastPrivileged: boolean;
}

/** A Graph operation in the map's form: `GET /users/{id}/memberOf`. */
export interface GraphOperation {
  method: string;
  path: string;
}

/** The map's name for each sign-in mode. */
const SCHEME: Record<GraphSignIn, string> = { application: 'Application', delegated: 'DelegatedWork' };

export const PERMISSION_MAP_FILE = join(__dirname, 'permissions.json');
export const GRANTED_PERMISSIONS_FILE = join(__dirname, '..', '..', 'infra', 'graph-permissions.json');

/**
 * Operations the map leaves out, with the permissions their Microsoft Learn page lists (least privileged first).
 * Keys are `METHOD /path` in the map's form.
 */
export const DOCUMENTED_PERMISSIONS: Record<string, { docs: string; application: string[]; delegated: string[] }> = {
  // The map has DELETE /groups/{id}/members/{id} but no POST on /groups/{id}/members. The page's table gives
  // GroupMember.ReadWrite.All as least privileged for a user or group member, in both modes.
  'POST /groups/{id}/members/$ref': {
    docs: 'https://learn.microsoft.com/graph/api/group-post-members',
    application: ['GroupMember.ReadWrite.All'],
    delegated: ['GroupMember.ReadWrite.All'],
  },
};

interface PathTemplate {
  template: string;
  pattern: RegExp;
  literalSegments: number;
}

interface PermissionMapJson {
  permissions: Record<string, { pathSets?: { schemeKeys: string[]; methods: string[]; paths: Record<string, string> }[] }>;
}

export class GraphPermissionMap {
  /** "SCHEME METHOD /template" (template as the map writes it) → permissions. */
  private readonly index = new Map<string, ListedPermission[]>();
  /** Per scheme and method, the templates in the order they should be tried (most literal segments first). */
  private readonly templates = new Map<string, PathTemplate[]>();

  constructor(map: PermissionMapJson) {
    for (const [name, permission] of Object.entries(map.permissions)) {
      for (const pathSet of permission.pathSets ?? []) {
        for (const scheme of pathSet.schemeKeys) {
          for (const [template, flags] of Object.entries(pathSet.paths)) {
            const least = (/least=([^;]*)/.exec(flags)?.[1] ?? '').split(',').includes(scheme);
            for (const method of pathSet.methods) {
              const key = `${scheme} ${method.toUpperCase()} ${template.toLowerCase()}`;
              let listed = this.index.get(key);
              if (!listed) {
                listed = [];
                this.index.set(key, listed);
                const byMethod = `${scheme} ${method.toUpperCase()}`;
                if (!this.templates.has(byMethod)) this.templates.set(byMethod, []);
                (this.templates.get(byMethod) as PathTemplate[]).push(compileTemplate(template));
              }
              if (!listed.some((p) => p.name === name)) listed.push({ name, leastPrivileged: least });
            }
          }
        }
      }
    }
    for (const list of this.templates.values()) list.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  static fromFile(path = PERMISSION_MAP_FILE): GraphPermissionMap {
    return new GraphPermissionMap(JSON.parse(readFileSync(path, 'utf8')) as PermissionMapJson);
  }

  /**
   * The operation a request URL performs, in the map's form, with the permissions the map (or the docs page,
   * for an operation the map lacks) lists for it. `permissions` is empty when neither knows it.
   */
  lookup(method: string, url: string, signIn: GraphSignIn): { operation: GraphOperation; permissions: ListedPermission[]; docs?: string } {
    const scheme = SCHEME[signIn];
    const upper = method.toUpperCase();
    const candidates = candidatePaths(url);
    for (const path of candidates) {
      const template = this.templates.get(`${scheme} ${upper}`)?.find((t) => t.pattern.test(path));
      if (template) {
        return { operation: { method: upper, path: template.template }, permissions: this.index.get(`${scheme} ${upper} ${template.template.toLowerCase()}`) ?? [] };
      }
    }
    const normalised = candidates[0] as string;
    for (const path of candidates) {
      const documented = DOCUMENTED_PERMISSIONS[`${upper} ${genericPath(path)}`];
      if (documented) {
        return {
          operation: { method: upper, path: genericPath(path) },
          permissions: documented[signIn].map((name, i) => ({ name, leastPrivileged: i === 0 })),
          docs: documented.docs,
        };
      }
    }
    return { operation: { method: upper, path: genericPath(normalised) }, permissions: [] };
  }
}

/** infra/graph-permissions.json, checked for shape. */
export function readGrantedPermissions(path = GRANTED_PERMISSIONS_FILE): GrantedGraphPermissions {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<GrantedGraphPermissions>;
  for (const key of ['application', 'delegated'] as const) {
    if (!Array.isArray(parsed[key]) || !parsed[key].every((p) => typeof p === 'string')) throw new Error(`${path}: "${key}" must be a list of permission names.`);
  }
  return parsed as GrantedGraphPermissions;
}

/** One operation that runs without a granted permission Microsoft lists for it. */
export interface PermissionProblem {
  signIn: GraphSignIn;
  operation: GraphOperation;
  message: string;
}

/**
 * Checks each distinct operation among the requests (batches unpacked) against the granted permissions.
 * The message of each problem says what to add to infra/graph-permissions.json.
 */
export function checkGraphPermissions(
  requests: readonly { method: string; url: string; body?: unknown; signIn: GraphSignIn }[],
  granted: GrantedGraphPermissions,
  map: GraphPermissionMap,
): PermissionProblem[] {
  const problems = new Map<string, PermissionProblem>();
  for (const request of requests.flatMap((r) => unpackBatch(r).map((inner) => ({ ...inner, signIn: r.signIn })))) {
    const { operation, permissions, docs } = map.lookup(request.method, request.url, request.signIn);
    const key = `${request.signIn} ${operation.method} ${operation.path}`;
    if (problems.has(key)) continue;
    const mode = `"${request.signIn}"`;
    if (permissions.length === 0) {
      problems.set(key, {
        signIn: request.signIn,
        operation,
        message:
          `${operation.method} ${operation.path} (${request.signIn}): Microsoft's permission map (test/contract/permissions.json) lists no ${request.signIn} permission for it. ` +
          `Find the least-privileged permission on the operation's Microsoft Learn page, add it to DOCUMENTED_PERMISSIONS in test/contract/graph-permission-check.ts with the page's address, and to ${mode} in infra/graph-permissions.json.`,
      });
      continue;
    }
    const names = new Set(granted[request.signIn]);
    if (permissions.some((p) => names.has(p.name))) continue;
    const least = permissions.filter((p) => p.leastPrivileged).map((p) => p.name);
    const suggestion = least.length > 0 ? least : permissions.map((p) => p.name).slice(0, 1);
    problems.set(key, {
      signIn: request.signIn,
      operation,
      message:
        `${operation.method} ${operation.path} (${request.signIn}) runs without a permission Microsoft lists for it: ` +
        `add ${suggestion.map((p) => `"${p}"`).join(' or ')} to ${mode} in infra/graph-permissions.json ` +
        `(${docs ? `from ${docs}` : "least privileged in Microsoft's map"}; it lists ${permissions.map((p) => p.name).join(', ')}).`,
    });
  }
  return [...problems.values()].filter((problem) => problem.message !== '');
}

/** A $batch's inner requests, or the request itself. https://learn.microsoft.com/graph/json-batching */
export function unpackBatch(request: { method: string; url: string; body?: unknown }): { method: string; url: string }[] {
  const path = stripHostAndVersion(request.url);
  if (path.toLowerCase() !== '/$batch') return [{ method: request.method.toUpperCase(), url: request.url }];
  let body = request.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return [];
    }
  }
  const inner = (body as { requests?: unknown } | undefined)?.requests;
  return Array.isArray(inner) ? inner.filter((r): r is { method: string; url: string } => !!r && typeof r === 'object' && typeof (r as { url?: unknown }).url === 'string').map((r) => ({ method: String(r.method).toUpperCase(), url: r.url })) : [];
}

function stripHostAndVersion(url: string): string {
  const path = ((url.replace(/^https?:\/\/[^/]+/i, '').split('#')[0] as string).split('?')[0] as string) || '/';
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.replace(/^\/(v1\.0|beta)(?=\/|$)/i, '') || '/';
}

/**
 * The forms of a request path to look up, best first: segments decoded, namespaces dropped from actions and
 * functions (`microsoft.graph.teamsAdministration.assign` → `assign`), a function's arguments dropped
 * (`getPolicyId(type='x',name='y')` → `getPolicyId`), a key in parentheses (`users('x')`) as its own segment,
 * and finally without a trailing `/$ref`, which the map files under the navigation property.
 */
function candidatePaths(url: string): string[] {
  const segments = stripHostAndVersion(url)
    .split('/')
    .filter((s) => s !== '')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .map((segment) => segment.replace(/^microsoft\.graph\.(?:[A-Za-z]+\.)?(?=[A-Za-z]+(\(|$))/, ''));
  const asFunction = segments.map((s) => s.replace(/^([A-Za-z]+)\(.*\)$/, '$1'));
  const asKey = segments.flatMap((s) => {
    const keyed = /^([A-Za-z]+)\((.*)\)$/.exec(s);
    return keyed ? [keyed[1] as string, keyed[2] as string] : [s];
  });
  const paths = [asFunction, asKey].map((s) => `/${s.join('/')}`);
  const withoutRef = paths.filter((p) => p.endsWith('/$ref')).map((p) => p.slice(0, -'/$ref'.length));
  return [...new Set([...paths, ...withoutRef])];
}

/** A request path with its ids written `{id}`, for a message about an operation the map lacks. */
function genericPath(path: string): string {
  return path
    .split('/')
    .map((segment, i, all) => (i > 0 && /^(users|groups|teams|members|installedApps|onlineMeetings|userConfigurations|memberOf)$/i.test(all[i - 1] as string) && !segment.startsWith('$') ? '{id}' : segment))
    .join('/');
}

/** A map template (`/users/{id}/memberOf`) as a case-insensitive pattern; `{…}` is one segment. */
function compileTemplate(template: string): PathTemplate {
  const segments = template.split('/').filter((s) => s !== '');
  const pattern = segments.map((s) => (/^\{[^}]*\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
  return { template, pattern: new RegExp(`^/${pattern}$`, 'i'), literalSegments: segments.filter((s) => !/^\{[^}]*\}$/.test(s)).length };
}
