import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { createStaticTokenCredential } from '../../graph/graph-credentials';
import { createGraphGateway, type CreateGraphGatewayOptions, type GraphGateway } from '../../graph/graph-gateway';

/**
 * A stateful fake Microsoft Graph tenant for tests and the benchmark.
 *
 * - Core: `handle(request) → response`, synchronous and pure apart from the tenant state it keeps.
 * - Adapters: `intercept()` (nock on a base URL, for jest) and `listen()` (a real loopback server on 127.0.0.1:0).
 * - Recording: `records` holds every HTTP request as received, $batch posts whole, in the JSONL shape
 *   check.mjs reads (`{method, url, body}`); the checker unpacks batches itself. `innerRequests()` flattens them.
 * - Faults, all deterministic from `seed`: random throttling (`throttleRate`), scripted faults (`failNext`,
 *   `failNextBatch`), replication 404s for new users (`replicationDelayRequests`), out-of-order batch answers.
 */

/** One recorded request, as check.mjs reads it. */
export interface GraphRecord {
  method: string;
  url: string;
  body?: unknown;
}

/** A request handed to the core. `url` is absolute. */
export interface FakeHttpRequest {
  method: string;
  url: string;
  headers?: IncomingHttpHeaders | Record<string, string | undefined>;
  body?: unknown;
}

/** What the core answers. */
export interface FakeHttpResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Behaviour knobs of the fake tenant. */
export interface GraphFakeOptions {
  /** Seeds ids, throttling and answer order. Default 1. */
  seed?: number;
  /** Share of inner batch requests answered with `throttleStatus` (0–1). Default 0. */
  throttleRate?: number;
  throttleStatus?: 429 | 503;
  /** Retry-After on random throttling, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** For each user created through the fake, the first N requests naming it answer 404. Default 0. */
  replicationDelayRequests?: number;
  /** Answer batches in a shuffled order, as Graph may. Default true. */
  shuffleBatchResponses?: boolean;
  /** How getPolicyId answers an unknown policy: 404 (default) or 200 with an empty collection. */
  policyNotFound?: 'notFound' | 'emptyCollection';
  /** When set, any request without `Authorization: Bearer <token>` is answered 401. */
  expectedAccessToken?: string;
  /** Delay before each HTTP answer, in both adapters. Default 0. */
  latencyMs?: number;
  /** False leaves this fake's requests out of verifyGraphContractAfterAll (for tests that send bad requests on purpose). Default true. */
  checkContract?: boolean;
}

/** A scripted fault for matching requests (inner batch requests or direct ones). */
export interface FaultRule {
  method?: string;
  /** Matched against the URL relative to /v1.0, query included. */
  url?: RegExp | string;
  status: number;
  code?: string;
  message?: string;
  retryAfterSeconds?: number;
  details?: { code: string; target?: string }[];
  /** How many requests it answers. Default 1. */
  times?: number;
}

/** A user in the fake tenant. */
export interface FakeUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mailNickname: string | null;
  employeeId: string | null;
  accountEnabled: boolean;
  usageLocation: string | null;
  department: string | null;
  jobTitle: string | null;
  passwordProfile: { password: string; forceChangePasswordNextSignIn: boolean } | null;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
  signInSessionsRevoked: number;
}

/** A subscribed SKU in the fake tenant. */
export interface FakeSku {
  skuId: string;
  skuPartNumber: string;
  servicePlans: { servicePlanId: string; servicePlanName: string }[];
  enabledUnits: number;
}

/** A group in the fake tenant. */
export interface FakeGroup {
  id: string;
  displayName: string;
  description: string | null;
  mailNickname: string;
  mailEnabled: boolean;
  securityEnabled: boolean;
  groupTypes: string[];
  members: Set<string>;
}

/** A Teams policy in the fake tenant. */
export interface FakeTeamsPolicy {
  type: string;
  name: string;
  policyId: string;
}

/** A team in the fake tenant. */
export interface FakeTeam {
  id: string;
  displayName: string;
  memberSettings: Record<string, unknown>;
  messagingSettings: Record<string, unknown>;
  funSettings: Record<string, unknown>;
}

/** An online meeting created in the fake tenant. */
export interface FakeMeeting {
  id: string;
  organizerId: string;
  body: Record<string, unknown>;
}

/** A running loopback Graph. */
export interface GraphFakeServer {
  baseUrl: string;
  close(): Promise<void>;
}

const VERSION_PREFIX = '/v1.0';
const USER_DEFAULT_PROPERTIES = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
const GROUP_DEFAULT_PROPERTIES = ['id', 'displayName', 'description', 'mailNickname', 'mailEnabled', 'securityEnabled', 'groupTypes'];
const MAX_IN_VALUES = 15;

// Kept on the test file's global, so test/support/graph-contract.ts can check every fake without loading this module (and nock).
const createdFakes: GraphFake[] = ((globalThis as Record<symbol, GraphFake[] | undefined>)[Symbol.for('esafety.test.createdGraphFakes')] ??= []);

/** Returns the fakes created since the last call whose requests should be contract-checked, and forgets them all. */
export function takeCreatedGraphFakes(): GraphFake[] {
  return createdFakes.splice(0, createdFakes.length).filter((fake) => fake.options.checkContract);
}

/** The fake tenant. */
export class GraphFake {
  readonly users = new Map<string, FakeUser>();
  readonly skus = new Map<string, FakeSku>();
  readonly groups = new Map<string, FakeGroup>();
  readonly teamsPolicies: FakeTeamsPolicy[] = [];
  readonly teams = new Map<string, FakeTeam>();
  readonly meetings: FakeMeeting[] = [];
  /** Direct policy assignments: userId → policy type → policyId. */
  readonly directPolicyAssignments = new Map<string, Map<string, string>>();
  /** Group policy assignments, in rank order. */
  readonly groupPolicyAssignments: { type: string; policyId: string; groupId: string }[] = [];
  /** Global (org-wide default) policy per type. */
  readonly globalPolicies = new Map<string, string>();

  /** Every HTTP request received, $batch posts whole: feed these to checkGraphContract. */
  readonly records: GraphRecord[] = [];
  /** The Authorization header of each HTTP request, in order. */
  readonly authorizations: (string | undefined)[] = [];
  /** Size of every $batch received. */
  readonly batchSizes: number[] = [];
  /** Most HTTP requests in flight at once (with `latencyMs` > 0). */
  maxInFlight = 0;

  readonly options: Readonly<Required<Omit<GraphFakeOptions, 'expectedAccessToken'>> & { expectedAccessToken?: string }>;
  private readonly random: () => number;
  private readonly faults: (FaultRule & { remaining: number })[] = [];
  private readonly batchFaults: { status: number; retryAfterSeconds?: number; remaining: number }[] = [];
  private readonly replicationPending = new Map<string, number>();
  private inFlight = 0;

  constructor(options: GraphFakeOptions = {}) {
    this.options = {
      seed: 1,
      throttleRate: 0,
      throttleStatus: 429,
      retryAfterSeconds: 1,
      replicationDelayRequests: 0,
      shuffleBatchResponses: true,
      policyNotFound: 'notFound',
      latencyMs: 0,
      checkContract: true,
      ...options,
    };
    this.random = mulberry32(this.options.seed);
    createdFakes.push(this);
  }

  // ---------------------------------------------------------------- seeding

  /** Adds a subscribed SKU with named service plans; ids are generated unless given. */
  addSku(skuPartNumber: string, servicePlanNames: string[], options: { skuId?: string; enabledUnits?: number } = {}): FakeSku {
    const sku: FakeSku = {
      skuId: options.skuId ?? this.newId(),
      skuPartNumber,
      servicePlans: servicePlanNames.map((servicePlanName) => ({ servicePlanId: this.newId(), servicePlanName })),
      enabledUnits: options.enabledUnits ?? 1000,
    };
    this.skus.set(sku.skuId, sku);
    return sku;
  }

  /** Adds an existing user. */
  addUser(user: Partial<FakeUser> & { userPrincipalName: string }): FakeUser {
    const stored: FakeUser = {
      id: this.newId(),
      displayName: user.userPrincipalName.split('@')[0] as string,
      givenName: null,
      surname: null,
      mailNickname: user.userPrincipalName.split('@')[0] as string,
      employeeId: null,
      accountEnabled: true,
      usageLocation: 'GB',
      department: null,
      jobTitle: null,
      passwordProfile: null,
      assignedLicenses: [],
      signInSessionsRevoked: 0,
      ...user,
    };
    this.users.set(stored.id, stored);
    return stored;
  }

  /** Adds a group (a security group unless told otherwise). */
  addGroup(group: { displayName: string; securityEnabled?: boolean; mailEnabled?: boolean; groupTypes?: string[]; members?: string[] }): FakeGroup {
    const stored: FakeGroup = {
      id: this.newId(),
      displayName: group.displayName,
      description: null,
      mailNickname: group.displayName.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      mailEnabled: group.mailEnabled ?? false,
      securityEnabled: group.securityEnabled ?? true,
      groupTypes: group.groupTypes ?? [],
      members: new Set(group.members ?? []),
    };
    this.groups.set(stored.id, stored);
    return stored;
  }

  /** Adds a Teams policy; `global` makes it the org-wide default for its type. Returns its id. */
  addTeamsPolicy(type: string, name: string, options: { global?: boolean } = {}): string {
    const policyId = this.newId();
    this.teamsPolicies.push({ type, name, policyId });
    if (options.global) this.globalPolicies.set(type, policyId);
    return policyId;
  }

  /** Assigns a policy to a group (used by userConfigurations when no direct assignment exists). */
  assignTeamsPolicyToGroup(type: string, policyId: string, groupId: string): void {
    this.groupPolicyAssignments.push({ type, policyId, groupId });
  }

  /** Adds a team with settings. */
  addTeam(team: { displayName: string } & Partial<Pick<FakeTeam, 'memberSettings' | 'messagingSettings' | 'funSettings'>>): FakeTeam {
    const stored: FakeTeam = {
      id: this.newId(),
      memberSettings: { allowCreateUpdateChannels: true, allowDeleteChannels: true, allowAddRemoveApps: true, allowCreatePrivateChannels: true },
      messagingSettings: { allowUserEditMessages: true, allowUserDeleteMessages: true, allowOwnerDeleteMessages: true },
      funSettings: { allowGiphy: true, giphyContentRating: 'moderate', allowStickersAndMemes: true, allowCustomMemes: true },
      ...team,
    };
    this.teams.set(stored.id, stored);
    return stored;
  }

  /** A school tenant as the defaults expect: the A1 student SKU and the two pupil Teams policies. */
  seedSchool(): { sku: FakeSku; messagingPolicyId: string; meetingPolicyId: string } {
    const sku = this.addSku('STANDARDWOFFPACK_STUDENT', ['EXCHANGE_S_STANDARD', 'TEAMS1', 'SHAREPOINTSTANDARD_EDU', 'OFFICE_FORMS_PLAN_2', 'SWAY', 'WHITEBOARD_PLAN1', 'YAMMER_EDU'], {
      skuId: '314c4481-f395-4525-be8b-2ec4bb1e9d91',
    });
    this.addTeamsPolicy('TeamsMessagingPolicy', 'Global', { global: true });
    this.addTeamsPolicy('TeamsMeetingPolicy', 'Global', { global: true });
    return {
      sku,
      messagingPolicyId: this.addTeamsPolicy('TeamsMessagingPolicy', 'EduStudent-ChatOff'),
      meetingPolicyId: this.addTeamsPolicy('TeamsMeetingPolicy', 'EduStudent-NoMeetings'),
    };
  }

  // ---------------------------------------------------------------- faults and inspection

  /** Answers the next matching request(s) with an error, e.g. `{ url: /assignLicense/, status: 429, retryAfterSeconds: 3 }`. */
  failNext(rule: FaultRule): void {
    this.faults.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /** Answers the next $batch post(s) as a whole with an error, e.g. 503 with Retry-After. */
  failNextBatch(fault: { status: number; retryAfterSeconds?: number; times?: number }): void {
    this.batchFaults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Every request, batches unpacked, with URLs relative to /v1.0 as sent in the batch. */
  innerRequests(): GraphRecord[] {
    return this.records.flatMap((record) => {
      const path = new URL(record.url).pathname;
      if (path !== `${VERSION_PREFIX}/$batch`) return [{ ...record, url: record.url.replace(/^https?:\/\/[^/]+\/v1\.0/, '') }];
      const requests = (record.body as { requests?: { method: string; url: string; body?: unknown }[] } | undefined)?.requests ?? [];
      return requests.map((r) => ({ method: r.method, url: r.url, ...(r.body !== undefined ? { body: r.body } : {}) }));
    });
  }

  /** The records as JSONL, ready for check.mjs. */
  toJsonl(): string {
    return this.records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  }

  /** Finds a user by userPrincipalName, case-insensitively. */
  userByPrincipalName(userPrincipalName: string): FakeUser | undefined {
    return [...this.users.values()].find((u) => u.userPrincipalName.toLowerCase() === userPrincipalName.toLowerCase());
  }

  // ---------------------------------------------------------------- adapters

  /** Routes every request to `baseUrl` (scheme and host) through the fake with nock. Call nock.cleanAll() to stop. */
  intercept(baseUrl = 'https://graph.microsoft.com'): nock.Scope {
    const origin = baseUrl.replace(/\/+$/, '');
    const respond = (request: FakeHttpRequest): Promise<FakeHttpResponse> => this.respond(request);
    const scope = nock(origin).persist();
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
      scope.intercept(/.*/, method).reply(async function (uri, body) {
        const response = await respond({ method, url: origin + uri, headers: this.req.headers, body: parseBody(body) });
        return [response.status, response.body === undefined ? '' : JSON.stringify(response.body), response.headers];
      });
    }
    return scope;
  }

  /** Serves the fake on a real loopback port (127.0.0.1:0), with `latencyMs` per answer. */
  async listen(): Promise<GraphFakeServer> {
    let origin = '';
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        void this.respond({ method: req.method ?? 'GET', url: origin + (req.url ?? '/'), headers: req.headers, body: parseBody(text) }).then((response) => {
          res.writeHead(response.status, response.headers);
          res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      baseUrl: origin,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  /** The core plus latency and in-flight accounting, as both adapters use it. */
  async respond(request: FakeHttpRequest): Promise<FakeHttpResponse> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.options.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
      return this.handle(request);
    } finally {
      this.inFlight -= 1;
    }
  }

  // ---------------------------------------------------------------- core

  /** Answers one HTTP request against the tenant state. */
  handle(request: FakeHttpRequest): FakeHttpResponse {
    const method = request.method.toUpperCase();
    const url = new URL(request.url);
    this.records.push({ method, url: url.href, ...(request.body !== undefined ? { body: request.body } : {}) });
    const authorization = header(request.headers, 'authorization');
    this.authorizations.push(authorization);
    const clientRequestId = header(request.headers, 'client-request-id');
    if (this.options.expectedAccessToken !== undefined && authorization !== `Bearer ${this.options.expectedAccessToken}`) {
      return this.error(401, 'InvalidAuthenticationToken', authorization ? 'Access token validation failure. Invalid audience.' : 'Access token is empty.', { clientRequestId });
    }
    if (!url.pathname.startsWith(`${VERSION_PREFIX}/`)) return this.error(400, 'BadRequest', `Invalid version: ${url.pathname.split('/')[1] ?? ''}`);
    const relative = url.pathname.slice(VERSION_PREFIX.length) + url.search;
    if (url.pathname === `${VERSION_PREFIX}/$batch`) {
      return method === 'POST' ? this.handleBatch(request.body, url.origin, clientRequestId) : this.error(405, 'BadRequest', 'Only POST is supported on $batch.');
    }
    return this.withIds(this.answer(method, relative, request.body, url.origin), clientRequestId);
  }

  private handleBatch(body: unknown, origin: string, clientRequestId: string | undefined): FakeHttpResponse {
    const fault = this.batchFaults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining -= 1;
      return this.error(fault.status, fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'The batch was throttled.', {
        retryAfterSeconds: fault.retryAfterSeconds,
        clientRequestId,
      });
    }
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) return this.error(400, 'BadRequest', 'Invalid batch payload format.');
    this.batchSizes.push(requests.length);
    if (requests.length > 20) return this.error(400, 'BadRequest', 'The number of batch requests exceeds the limit of 20.');
    const responses = requests.map((raw) => {
      const inner = raw as { id?: unknown; method?: unknown; url?: unknown; headers?: Record<string, string>; body?: unknown };
      const id = String(inner.id);
      const innerUrl = String(inner.url ?? '');
      const method = String(inner.method ?? 'GET').toUpperCase();
      let response: FakeHttpResponse;
      if (/^https?:/i.test(innerUrl) || /^\/?(v1\.0|beta)\//i.test(innerUrl)) response = this.error(400, 'BadRequest', 'Invalid request URL; batch URLs are relative to the batch endpoint.');
      else if (inner.body !== undefined && header(inner.headers, 'content-type') === undefined) response = this.error(400, 'BadRequest', 'Content-Type header is required for requests with a body.');
      else if (this.options.throttleRate > 0 && this.random() < this.options.throttleRate) {
        response = this.error(this.options.throttleStatus, this.options.throttleStatus === 429 ? 'TooManyRequests' : 'ServiceUnavailable', 'Too many requests.', {
          retryAfterSeconds: this.options.retryAfterSeconds,
        });
      } else response = this.answer(method, innerUrl.startsWith('/') ? innerUrl : `/${innerUrl}`, inner.body, origin);
      return { id, status: response.status, headers: response.headers, ...(response.body !== undefined ? { body: response.body } : {}) };
    });
    if (this.options.shuffleBatchResponses) shuffle(responses, this.random);
    return this.withIds({ status: 200, headers: { 'content-type': 'application/json' }, body: { responses } }, clientRequestId);
  }

  /** One request (direct or inside a batch), URL relative to /v1.0. */
  private answer(method: string, relativeUrl: string, body: unknown, origin: string): FakeHttpResponse {
    const url = new URL(relativeUrl, 'http://graph.invalid');
    const fault = this.faults.find((f) => f.remaining > 0 && (!f.method || f.method.toUpperCase() === method) && matches(f.url, relativeUrl));
    if (fault) {
      fault.remaining -= 1;
      return this.error(fault.status, fault.code ?? defaultCode(fault.status), fault.message ?? 'Injected fault.', { retryAfterSeconds: fault.retryAfterSeconds, details: fault.details });
    }
    const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const lagging = this.touchedUserIds(segments, body).find((id) => (this.replicationPending.get(id) ?? 0) > 0);
    if (lagging) {
      for (const id of this.touchedUserIds(segments, body)) {
        const left = this.replicationPending.get(id) ?? 0;
        if (left > 0) this.replicationPending.set(id, left - 1);
      }
      return this.notFound(lagging);
    }
    const query = url.searchParams;
    const ctx: Ctx = { method, segments, query, body, origin, path: url.pathname };
    const [first, second, third, fourth] = segments;
    const alternateKey = first ? /^users\(userPrincipalName='(.*)'\)$/.exec(first) : null;
    if (alternateKey) return this.routeUser({ ...ctx, segments: ['users', (alternateKey[1] as string).replace(/''/g, "'"), ...segments.slice(1)] });
    switch (first) {
      case 'users':
        return this.routeUser(ctx);
      case 'subscribedSkus':
        if (method === 'GET' && segments.length === 1) return this.collection(ctx, [...this.skus.values()].map(toSkuJson), undefined);
        break;
      case 'groups':
        return this.routeGroup(ctx);
      case 'admin':
        if (second === 'teams' && third === 'policy') return this.routePolicy(ctx, segments.slice(3));
        if (second === 'teams' && third === 'userConfigurations' && fourth && segments.length === 4 && method === 'GET') return this.getUserConfiguration(fourth);
        break;
      case 'teams':
        if (second && segments.length === 2) return this.routeTeam(ctx, second);
        break;
    }
    return this.error(400, 'BadRequest', `Resource not found for the segment '${segments[segments.length - 1] ?? ''}'.`);
  }

  // ---------------------------------------------------------------- users

  private routeUser(ctx: Ctx): FakeHttpResponse {
    const { method, segments, body } = ctx;
    if (segments.length === 1) {
      if (method === 'GET') return this.listUsers(ctx);
      if (method === 'POST') return this.createUser(body);
      return this.methodNotAllowed();
    }
    const user = this.findUser(segments[1] as string);
    if (!user) return this.notFound(segments[1] as string);
    const action = segments[2];
    if (segments.length === 2) {
      if (method === 'GET') return this.ok(project(userJson(user), ctx.query, USER_DEFAULT_PROPERTIES));
      if (method === 'PATCH') return this.updateUser(user, body);
      if (method === 'DELETE') return this.deleteUser(user);
    } else if (segments.length === 3 && method === 'POST' && action === 'assignLicense') return this.assignLicense(user, body);
    else if (segments.length === 3 && method === 'POST' && action === 'revokeSignInSessions') {
      user.signInSessionsRevoked += 1;
      return this.ok({ '@odata.context': `${ctx.origin}/v1.0/$metadata#Edm.Boolean`, value: true });
    } else if (segments.length === 3 && method === 'GET' && action === 'memberOf') {
      const groups = [...this.groups.values()].filter((g) => g.members.has(user.id)).map((g) => ({ '@odata.type': '#microsoft.graph.group', ...groupJson(g) }));
      return this.collection(ctx, groups, GROUP_DEFAULT_PROPERTIES);
    } else if (segments.length === 3 && method === 'POST' && action === 'onlineMeetings') return this.createMeeting(user, body);
    return this.methodNotAllowed();
  }

  private listUsers(ctx: Ctx): FakeHttpResponse {
    const filter = ctx.query.get('$filter');
    let users = [...this.users.values()];
    if (filter) {
      const predicate = parseFilter(filter);
      if ('error' in predicate) return this.error(400, predicate.code, predicate.error);
      users = users.filter((u) => predicate.test(userJson(u)));
    }
    return this.collection(ctx, users.map(userJson), USER_DEFAULT_PROPERTIES);
  }

  private createUser(body: unknown): FakeHttpResponse {
    const b = asRecord(body);
    const password = asRecord(b.passwordProfile).password;
    const missing = ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName'].filter((k) => b[k] === undefined || b[k] === '');
    if (typeof password !== 'string' || !password) missing.push('passwordProfile');
    if (missing.length > 0) return this.error(400, 'Request_BadRequest', `Invalid value specified for property '${missing[0]}' of resource 'User'.`);
    const upn = String(b.userPrincipalName);
    if (this.userByPrincipalName(upn)) {
      return this.error(400, 'Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.', {
        details: [{ target: 'userPrincipalName', code: 'ObjectConflict' }],
      });
    }
    const user = this.addUser({
      userPrincipalName: upn,
      displayName: String(b.displayName),
      givenName: optionalText(b.givenName),
      surname: optionalText(b.surname),
      mailNickname: String(b.mailNickname),
      employeeId: optionalText(b.employeeId),
      accountEnabled: b.accountEnabled === true,
      usageLocation: optionalText(b.usageLocation),
      department: optionalText(b.department),
      jobTitle: optionalText(b.jobTitle),
      passwordProfile: { password: String(password), forceChangePasswordNextSignIn: asRecord(b.passwordProfile).forceChangePasswordNextSignIn === true },
    });
    if (this.options.replicationDelayRequests > 0) this.replicationPending.set(user.id, this.options.replicationDelayRequests);
    return { status: 201, headers: { 'content-type': 'application/json' }, body: project(userJson(user), new URLSearchParams(), USER_DEFAULT_PROPERTIES) };
  }

  private updateUser(user: FakeUser, body: unknown): FakeHttpResponse {
    const b = asRecord(body);
    for (const key of ['displayName', 'givenName', 'surname', 'employeeId', 'department', 'jobTitle', 'usageLocation'] as const) {
      if (key in b) (user as unknown as Record<string, unknown>)[key] = b[key] === null ? null : String(b[key]);
    }
    if (typeof b.accountEnabled === 'boolean') user.accountEnabled = b.accountEnabled;
    if ('passwordProfile' in b) {
      const profile = asRecord(b.passwordProfile);
      if (typeof profile.password !== 'string' || !profile.password) return this.error(400, 'Request_BadRequest', "Invalid value specified for property 'passwordProfile' of resource 'User'.");
      user.passwordProfile = { password: profile.password, forceChangePasswordNextSignIn: profile.forceChangePasswordNextSignIn === true };
    }
    return noContent();
  }

  private deleteUser(user: FakeUser): FakeHttpResponse {
    this.users.delete(user.id);
    for (const group of this.groups.values()) group.members.delete(user.id);
    this.directPolicyAssignments.delete(user.id);
    return noContent();
  }

  private assignLicense(user: FakeUser, body: unknown): FakeHttpResponse {
    const b = asRecord(body);
    if (!Array.isArray(b.addLicenses) || !Array.isArray(b.removeLicenses)) return this.error(400, 'Request_BadRequest', 'addLicenses and removeLicenses are required.');
    if (!user.usageLocation) return this.error(400, 'Request_BadRequest', 'License assignment cannot be done for user with invalid usage location.');
    for (const raw of b.addLicenses) {
      const add = asRecord(raw);
      const sku = this.skus.get(String(add.skuId));
      if (!sku) return this.error(400, 'Request_BadRequest', `License ${String(add.skuId)} does not correspond to a valid company License.`);
      const disabled = Array.isArray(add.disabledPlans) ? add.disabledPlans.map(String) : [];
      const unknown = disabled.filter((id) => !sku.servicePlans.some((p) => p.servicePlanId === id));
      if (unknown.length > 0) return this.error(400, 'Request_BadRequest', `Invalid disabled service plans: ${unknown.join(', ')}.`);
    }
    user.assignedLicenses = user.assignedLicenses.filter((l) => !(b.removeLicenses as unknown[]).map(String).includes(l.skuId));
    for (const raw of b.addLicenses) {
      const add = asRecord(raw);
      const skuId = String(add.skuId);
      const disabledPlans = Array.isArray(add.disabledPlans) ? add.disabledPlans.map(String) : [];
      user.assignedLicenses = [...user.assignedLicenses.filter((l) => l.skuId !== skuId), { skuId, disabledPlans }];
    }
    return this.ok(project(userJson(user), new URLSearchParams(), USER_DEFAULT_PROPERTIES));
  }

  private createMeeting(user: FakeUser, body: unknown): FakeHttpResponse {
    const b = asRecord(body);
    const id = `MSo${Buffer.from(this.newId()).toString('base64url')}`;
    this.meetings.push({ id, organizerId: user.id, body: b });
    return {
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: {
        id,
        joinWebUrl: `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(id)}`,
        participants: { organizer: { identity: { user: { id: user.id } } } },
        ...b,
      },
    };
  }

  // ---------------------------------------------------------------- groups

  private routeGroup(ctx: Ctx): FakeHttpResponse {
    const { method, segments, body } = ctx;
    if (segments.length === 1) {
      if (method === 'GET') {
        const filter = ctx.query.get('$filter');
        let groups = [...this.groups.values()].map(groupJson);
        if (filter) {
          const predicate = parseFilter(filter);
          if ('error' in predicate) return this.error(400, predicate.code, predicate.error);
          groups = groups.filter((g) => predicate.test(g));
        }
        return this.collection(ctx, groups, GROUP_DEFAULT_PROPERTIES);
      }
      if (method === 'POST') return this.createGroup(body);
      return this.methodNotAllowed();
    }
    const group = this.groups.get(segments[1] as string);
    if (!group) return this.notFound(segments[1] as string);
    if (segments.length === 2 && method === 'GET') return this.ok(project(groupJson(group), ctx.query, GROUP_DEFAULT_PROPERTIES));
    if (segments[2] !== 'members') return this.methodNotAllowed();
    if (segments.length === 3 && method === 'GET') {
      const members = [...group.members].map((id) => this.users.get(id)).filter((u): u is FakeUser => !!u);
      return this.collection(ctx, members.map((u) => ({ '@odata.type': '#microsoft.graph.user', ...userJson(u) })), USER_DEFAULT_PROPERTIES);
    }
    if (segments.length === 4 && segments[3] === '$ref' && method === 'POST') {
      const ref = asRecord(body)['@odata.id'];
      if (typeof ref !== 'string') return this.error(400, 'Request_BadRequest', 'The request body must contain @odata.id.');
      const memberId = safeDecode(new URL(ref, 'http://graph.invalid').pathname.split('/').filter(Boolean).pop() ?? '');
      if (!this.users.has(memberId) && !this.groups.has(memberId)) return this.notFound(memberId);
      if (group.members.has(memberId)) {
        return this.error(400, 'Request_BadRequest', "One or more added object references already exist for the following modified properties: 'members'.");
      }
      group.members.add(memberId);
      return noContent();
    }
    if (segments.length === 5 && segments[4] === '$ref' && method === 'DELETE') {
      const memberId = segments[3] as string;
      if (!group.members.delete(memberId)) return this.notFound(memberId);
      return noContent();
    }
    return this.methodNotAllowed();
  }

  private createGroup(body: unknown): FakeHttpResponse {
    const b = asRecord(body);
    const missing = ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'].filter((k) => b[k] === undefined);
    if (missing.length > 0) return this.error(400, 'Request_BadRequest', `Invalid value specified for property '${missing[0]}' of resource 'Group'.`);
    const group = this.addGroup({
      displayName: String(b.displayName),
      securityEnabled: b.securityEnabled === true,
      mailEnabled: b.mailEnabled === true,
      groupTypes: Array.isArray(b.groupTypes) ? b.groupTypes.map(String) : [],
    });
    group.mailNickname = String(b.mailNickname);
    group.description = optionalText(b.description);
    return { status: 201, headers: { 'content-type': 'application/json' }, body: groupJson(group) };
  }

  // ---------------------------------------------------------------- Teams policies and teams

  private routePolicy(ctx: Ctx, rest: string[]): FakeHttpResponse {
    const [first, second] = rest;
    const getPolicy = first ? /^(?:microsoft\.graph\.teamsAdministration\.)?getPolicyId\(type='((?:[^']|'')*)',name='((?:[^']|'')*)'\)$/.exec(first) : null;
    if (getPolicy && rest.length === 1 && ctx.method === 'GET') {
      const type = (getPolicy[1] as string).replace(/''/g, "'");
      const name = (getPolicy[2] as string).replace(/''/g, "'");
      const policy = this.teamsPolicies.find((p) => p.type.toLowerCase() === type.toLowerCase() && p.name.toLowerCase() === name.toLowerCase());
      if (!policy) {
        return this.options.policyNotFound === 'emptyCollection'
          ? this.ok({ '@odata.context': `${ctx.origin}/v1.0/$metadata#Collection(microsoft.graph.teamsAdministration.policyIdentifierDetail)`, value: [] })
          : this.error(404, 'NotFound', `Policy '${name}' of type '${type}' was not found.`);
      }
      return this.ok({
        '@odata.context': `${ctx.origin}/v1.0/$metadata#Collection(microsoft.graph.teamsAdministration.policyIdentifierDetail)`,
        value: [{ '@odata.type': '#microsoft.graph.teamsAdministration.policyIdentifierDetail', name: `Tag:${policy.name}`, policyId: policy.policyId }],
      });
    }
    if (first === 'userAssignments' && rest.length === 2 && /^(microsoft\.graph\.teamsAdministration\.)?assign$/.test(second ?? '') && ctx.method === 'POST') {
      const value = asRecord(ctx.body).value;
      if (!Array.isArray(value) || value.length === 0) return this.error(400, 'BadRequest', 'The value parameter is required.');
      for (const raw of value) {
        const a = asRecord(raw);
        if (!this.users.has(String(a.userId))) return this.error(404, 'NotFound', `User '${String(a.userId)}' was not found.`);
        if (!this.teamsPolicies.some((p) => p.type.toLowerCase() === String(a.policyType).toLowerCase() && p.policyId === a.policyId)) {
          return this.error(400, 'BadRequest', `Policy '${String(a.policyId)}' of type '${String(a.policyType)}' does not exist.`);
        }
      }
      for (const raw of value) {
        const a = asRecord(raw);
        const forUser = this.directPolicyAssignments.get(String(a.userId)) ?? new Map<string, string>();
        forUser.set(String(a.policyType), String(a.policyId));
        this.directPolicyAssignments.set(String(a.userId), forUser);
      }
      return noContent();
    }
    return this.error(400, 'BadRequest', `Resource not found for the segment '${rest.join('/')}'.`);
  }

  /** Answers in the shape Microsoft's example shows: the entity wrapped in `value`. */
  private getUserConfiguration(userId: string): FakeHttpResponse {
    const user = this.users.get(userId);
    if (!user) return this.error(404, 'NotFound', `User '${userId}' was not found.`);
    const types = new Set([...this.globalPolicies.keys(), ...this.groupPolicyAssignments.map((a) => a.type), ...(this.directPolicyAssignments.get(userId)?.keys() ?? [])]);
    const effective = [...types].flatMap((type) => {
      const direct = this.directPolicyAssignments.get(userId)?.get(type);
      const group = this.groupPolicyAssignments.find((a) => a.type === type && this.groups.get(a.groupId)?.members.has(userId));
      const policyId = direct ?? group?.policyId ?? this.globalPolicies.get(type);
      if (!policyId) return [];
      const policy = this.teamsPolicies.find((p) => p.policyId === policyId);
      return [{
        policyType: type,
        policyAssignment: {
          displayName: policy?.name ?? '',
          assignmentType: direct ? 'direct' : 'group',
          policyId,
          ...(group && !direct ? { groupId: group.groupId } : {}),
        },
      }];
    });
    return this.ok({
      value: {
        id: user.id,
        userPrincipalName: user.userPrincipalName,
        tenantId: '00000000-0000-4000-8000-000000000001',
        effectivePolicyAssignments: effective,
        featureTypes: ['Teams'],
        accountType: 'user',
      },
    });
  }

  private routeTeam(ctx: Ctx, teamId: string): FakeHttpResponse {
    const team = this.teams.get(teamId);
    if (!team) return this.error(404, 'NotFound', `No team found with Group Id ${teamId}`);
    if (ctx.method === 'GET') return this.ok(project({ ...team }, ctx.query, ['id', 'displayName', 'memberSettings', 'messagingSettings', 'funSettings']));
    if (ctx.method === 'PATCH') {
      const b = asRecord(ctx.body);
      for (const key of ['memberSettings', 'messagingSettings', 'funSettings'] as const) {
        if (b[key] !== undefined) team[key] = { ...team[key], ...asRecord(b[key]) };
      }
      if (typeof b.displayName === 'string') team.displayName = b.displayName;
      return { status: 204, headers: {} };
    }
    return this.methodNotAllowed();
  }

  // ---------------------------------------------------------------- helpers

  private findUser(key: string): FakeUser | undefined {
    return this.users.get(key) ?? (key.includes('@') ? this.userByPrincipalName(key) : undefined);
  }

  private touchedUserIds(segments: string[], body: unknown): string[] {
    const ids: string[] = [];
    const [first, second, third, fourth] = segments;
    if (first === 'users' && second) ids.push(this.findUser(second)?.id ?? second);
    if (first === 'admin' && second === 'teams' && third === 'userConfigurations' && fourth) ids.push(fourth);
    const b = asRecord(body);
    if (typeof b['@odata.id'] === 'string') ids.push(b['@odata.id'].split('/').pop() ?? '');
    if (Array.isArray(b.value)) for (const v of b.value) if (typeof asRecord(v).userId === 'string') ids.push(String(asRecord(v).userId));
    return ids;
  }

  private collection(ctx: Ctx, items: Record<string, unknown>[], defaults: string[] | undefined): FakeHttpResponse {
    const top = Math.min(Number(ctx.query.get('$top') ?? 100) || 100, 999);
    const skip = Number(ctx.query.get('$skiptoken') ?? 0) || 0;
    const page = items.slice(skip, skip + top).map((item) => project(item, ctx.query, defaults));
    const body: Record<string, unknown> = { '@odata.context': `${ctx.origin}/v1.0/$metadata#${ctx.segments[0] ?? ''}`, value: page };
    if (skip + top < items.length) {
      const next = new URLSearchParams(ctx.query);
      next.set('$skiptoken', String(skip + top));
      body['@odata.nextLink'] = `${ctx.origin}/v1.0${ctx.path}?${next.toString().replace(/%24/g, '$')}`;
    }
    return this.ok(body);
  }

  private ok(body: unknown): FakeHttpResponse {
    return { status: 200, headers: { 'content-type': 'application/json' }, body };
  }

  private notFound(id: string): FakeHttpResponse {
    return this.error(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
  }

  private methodNotAllowed(): FakeHttpResponse {
    return this.error(405, 'Request_BadRequest', 'The requested method is not supported on this resource.');
  }

  private error(
    status: number,
    code: string,
    message: string,
    extra: { retryAfterSeconds?: number; details?: { code: string; target?: string }[]; clientRequestId?: string } = {},
  ): FakeHttpResponse {
    const requestId = this.newId();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (extra.retryAfterSeconds !== undefined) headers['retry-after'] = String(extra.retryAfterSeconds);
    return {
      status,
      headers,
      body: {
        error: {
          code,
          message,
          innerError: { date: '2026-09-01T08:00:00', 'request-id': requestId, 'client-request-id': extra.clientRequestId ?? requestId },
          ...(extra.details ? { details: extra.details } : {}),
        },
      },
    };
  }

  private withIds(response: FakeHttpResponse, clientRequestId: string | undefined): FakeHttpResponse {
    const requestId = this.newId();
    return { ...response, headers: { ...response.headers, 'request-id': requestId, 'client-request-id': clientRequestId ?? requestId } };
  }

  private newId(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

/** For a test file: no real network (loopback allowed on request), nock interceptors cleared after each test, nock removed after the file. */
export function useOfflineNetwork(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.disableNetConnect();
  });
  afterAll(() => {
    nock.enableNetConnect();
    nock.restore();
  });
}

/** A clock that only moves when the code under test sleeps; `sleeps` lists every wait it asked for. */
export interface FakeClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  sleeps: number[];
}

/** Starts at 2026-09-01T08:00:00Z; each sleep advances it at once. */
export function createFakeClock(start = Date.UTC(2026, 8, 1, 8)): FakeClock {
  let time = start;
  const sleeps: number[] = [];
  return {
    now: () => time,
    sleep: async (ms) => {
      sleeps.push(ms);
      time += ms;
    },
    sleeps,
  };
}

/** A gateway wired to a fake (intercepted or listening) with a static token and a fake clock. */
export function createGatewayForFake(
  options: Partial<Omit<CreateGraphGatewayOptions, 'authProvider'>> & { clock?: FakeClock; accessToken?: string } = {},
): { gateway: GraphGateway; clock: FakeClock } {
  const clock = options.clock ?? createFakeClock();
  const gateway = createGraphGateway({
    authProvider: createStaticTokenCredential(options.accessToken ?? 'test-token'),
    now: clock.now,
    sleep: clock.sleep,
    ...options,
  });
  return { gateway, clock };
}

interface Ctx {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: unknown;
  origin: string;
  path: string;
}

function userJson(user: FakeUser): Record<string, unknown> {
  const { signInSessionsRevoked: _revoked, passwordProfile: _password, ...rest } = user;
  return { ...rest, businessPhones: [], mail: null, mobilePhone: null, officeLocation: null, preferredLanguage: null };
}

function groupJson(group: FakeGroup): Record<string, unknown> {
  const { members: _members, ...rest } = group;
  return rest;
}

function toSkuJson(sku: FakeSku): Record<string, unknown> {
  return {
    id: `tenant_${sku.skuId}`,
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber,
    capabilityStatus: 'Enabled',
    appliesTo: 'User',
    consumedUnits: 0,
    prepaidUnits: { enabled: sku.enabledUnits, suspended: 0, warning: 0, lockedOut: 0 },
    servicePlans: sku.servicePlans.map((p) => ({ ...p, provisioningStatus: 'Success', appliesTo: 'User' })),
  };
}

/** Applies $select (id and annotations always kept) or the type's default property set. */
function project(item: Record<string, unknown>, query: URLSearchParams, defaults: string[] | undefined): Record<string, unknown> {
  const select = query.get('$select');
  const keys = select ? [...select.split(',').map((s) => s.trim()), 'id'] : defaults;
  if (!keys) return item;
  return Object.fromEntries(Object.entries(item).filter(([k]) => k.startsWith('@') || keys.includes(k)));
}

/** Supports what the gateway sends: `prop eq 'v'` and `prop in ('a','b')`, case-insensitive like the directory. */
function parseFilter(filter: string): { test: (item: Record<string, unknown>) => boolean } | { error: string; code: string } {
  const eq = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
  const inList = /^\s*(\w+)\s+in\s+\((.*)\)\s*$/i.exec(filter);
  let property: string;
  let values: string[];
  if (eq) {
    property = eq[1] as string;
    values = [(eq[2] as string).replace(/''/g, "'")];
  } else if (inList) {
    property = inList[1] as string;
    const literals = (inList[2] as string).match(/'(?:[^']|'')*'/g) ?? [];
    values = literals.map((l) => l.slice(1, -1).replace(/''/g, "'"));
    if (values.length > MAX_IN_VALUES) {
      return { code: 'Request_UnsupportedQuery', error: `Too many child clauses specified in search filter expression containing 'OR' operators: ${values.length}. Max allowed: ${MAX_IN_VALUES}.` };
    }
  } else {
    return { code: 'Request_UnsupportedQuery', error: `Unsupported or invalid query filter clause specified: ${filter}` };
  }
  const wanted = new Set(values.map((v) => v.toLowerCase()));
  return { test: (item) => typeof item[property] === 'string' && wanted.has((item[property] as string).toLowerCase()) };
}

function noContent(): FakeHttpResponse {
  return { status: 204, headers: {} };
}

function defaultCode(status: number): string {
  if (status === 429) return 'TooManyRequests';
  if (status === 503) return 'ServiceUnavailable';
  if (status === 404) return 'Request_ResourceNotFound';
  return 'Request_BadRequest';
}

function matches(pattern: RegExp | string | undefined, url: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? url.includes(pattern) : pattern.test(url);
}

function header(headers: FakeHttpRequest['headers'] | Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  if (key === undefined) return undefined;
  const value = (headers as Record<string, unknown>)[key];
  return Array.isArray(value) ? String(value[0]) : value === undefined ? undefined : String(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
