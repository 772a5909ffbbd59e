import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../app/logger';
import type { RoleDirectory } from '../../identity/role-directory';
import type { AuditStore } from '../../records/audit-store';
import { StorageUnavailableError } from '../../records/tables';
import { ROLES, type Principal } from '../../school/roles';
import { getSchoolAudit, saveSchoolAudit, type SchoolAuditDependencies, type SchoolAuditOutcome } from '../../usecases/school-audit';
import { getIncidentSummary, type SummaryDependencies } from '../../usecases/summarise-incidents';
import {
  closeIncident,
  getIncidentForTriage,
  listIncidentsForTriage,
  parseFilters,
  recordParentsInformed,
  recordTriageAction,
  type TriageDependencies,
  type TriageOutcome,
} from '../../usecases/triage-incidents';
import { registerAdminRoutes, type AdminRouteDependencies } from './admin-routes';
import { issueLocalIdentity, type TabTokenValidator } from './tab-tokens';
import { registerRetentionRoutes } from './retention-routes';
import { registerTransferRoutes, type TransferRouteDependencies } from './transfer-routes';
import type { RetentionDependencies } from '../../usecases/incident-retention';

export interface TabRouteDependencies {
  schoolId: string;
  validator: Pick<TabTokenValidator, 'validate'>;
  roles: RoleDirectory;
  audit: Pick<AuditStore, 'appendAudit'>;
  summary: SummaryDependencies;
  triage: TriageDependencies;
  schoolAudit: SchoolAuditDependencies;
  /** The Admin page's API; absent in tests that do not need it. */
  admin?: AdminRouteDependencies;
  /** The child-protection transfer pack's API; absent in tests that do not need it. */
  transfer?: TransferRouteDependencies;
  /** Retention review and legal hold; absent in tests that do not need them. */
  retention?: RetentionDependencies;
  logger: Logger;
  clock: () => Date;
  localIdentitySecret: string | undefined;
}

const PAGE_FILE = /^[a-z][a-z0-9-]*\.(html|css|js)$/;
const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };

/** tab/public, whether running from the sources (ts-jest, tsx) or from dist/. */
function publicDir(): string {
  const candidates = [join(__dirname, '..', 'public'), join(__dirname, '..', '..', '..', 'tab', 'public'), resolve('tab', 'public')];
  return candidates.find((c) => existsSync(join(c, 'summary.html'))) ?? candidates[0]!;
}

function teamsJsBundle(): string {
  return require.resolve('@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js');
}

type Handler = (req: Request, principal: Principal) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;

/** The tab's pages, its local stand-in identity, and its JSON API. */
export function registerTabRoutes(server: Server, deps: TabRouteDependencies): void {
  const dir = publicDir();
  const security = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

  server.get('/tab/teams-js.js', async (_req, res) => {
    const body = await readFile(teamsJsBundle());
    res.writeHead(200, { 'content-type': CONTENT_TYPES.js!, 'cache-control': 'public, max-age=3600' });
    res.end(body);
  });

  server.get('/tab/dev-login', async (req, res) => {
    const as = query(req).get('as') ?? '';
    if (!deps.localIdentitySecret) return void res.json(404, { error: 'The local identity is only available in local development (SECRET_LOCAL_IDENTITY_KEY).' });
    if (!/^[0-9a-f-]{36}$/i.test(as)) return void res.json(400, { error: 'as must be an Entra object id.' });
    // Wall-clock time, not the app clock: token expiry is checked against real time, as Entra's are.
    const token = await issueLocalIdentity(deps.localIdentitySecret, as.toLowerCase(), new Date());
    deps.logger.info('tab.local-identity-issued', { objectId: as.toLowerCase() });
    res.header('cache-control', 'no-store');
    res.json(200, { token });
  });

  server.get('/tab/dev-roles', async (_req, res) => {
    if (!deps.localIdentitySecret) return void res.json(404, { error: 'The local identity is only available in local development.' });
    const people: { role: string; objectId: string }[] = [];
    for (const role of ROLES) for (const id of await deps.roles.listRoleMembers(role)) people.push({ role, objectId: id });
    res.json(200, { people });
  });

  server.get('/tab/:file', async (req, res) => {
    const file = String(req.params.file ?? '');
    if (!PAGE_FILE.test(file)) return void res.json(404, { error: 'Not found.' });
    try {
      const body = await readFile(join(dir, file));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[file.split('.').pop()!]!, ...security });
      res.end(body);
    } catch {
      res.json(404, { error: 'Not found.' });
    }
  });

  const api = (method: 'get' | 'post' | 'put', path: string, handler: Handler): void => {
    server[method](path, async (req: Request, res: Response) => {
      // restify's request id: in every log line of this request and in the answer, so a reported problem can be found.
      const correlationId = req.id();
      const logger = deps.logger.child({ correlationId });
      res.header('x-correlation-id', correlationId);
      const principal = await authenticate(req, deps, logger);
      res.header('cache-control', 'no-store');
      if (!principal) {
        res.header('www-authenticate', 'Bearer');
        return void res.json(401, { error: 'Sign in through Teams: this request had no valid sign-in token.' });
      }
      try {
        const result = await handler(req, principal);
        for (const [k, v] of Object.entries(result.headers ?? {})) res.header(k, v);
        res.json(result.status, result.body);
      } catch (error) {
        if (error instanceof StorageUnavailableError) return void res.json(503, { error: 'Storage is unavailable; nothing was saved. Try again shortly.' });
        logger.error('tab.api-failed', { path, errorName: (error as Error).name });
        res.json(500, { error: 'Something went wrong; nothing was saved.' });
      }
    });
  };

  api('get', '/api/me', async (_req, principal) => ({ status: 200, body: { roles: [...principal.roles].sort() } }));

  api('get', '/api/summary', async (_req, principal) => {
    const result = await getIncidentSummary(deps.summary, principal);
    return result.kind === 'ok' ? { status: 200, body: result.summary } : forbidden();
  });

  api('get', '/api/incidents', async (req, principal) => {
    const parsed = parseFilters(Object.fromEntries(query(req)));
    if (!parsed.ok) return { status: 400, body: { error: 'The filters are not valid.', problems: parsed.problems } };
    return toResponse(await listIncidentsForTriage(deps.triage, principal, parsed.filters), (incidents) => ({ incidents }));
  });

  api('get', '/api/incidents/:reference', async (req, principal) => toResponse(await getIncidentForTriage(deps.triage, principal, reference(req)), withEtag));

  api('get', '/api/school-audit', async (_req, principal) => auditResponse(await getSchoolAudit(deps.schoolAudit, principal)));
  api('put', '/api/school-audit', async (req, principal) => auditResponse(await saveSchoolAudit(deps.schoolAudit, principal, body(req), etagOf(req))));

  api('post', '/api/incidents/:reference/actions', async (req, principal) =>
    toResponse(await recordTriageAction(deps.triage, principal, reference(req), { ...body(req), etag: etagOf(req) }), withEtag),
  );
  api('post', '/api/incidents/:reference/parents-informed', async (req, principal) =>
    toResponse(await recordParentsInformed(deps.triage, principal, reference(req), { ...body(req), etag: etagOf(req) }), withEtag),
  );
  api('post', '/api/incidents/:reference/close', async (req, principal) =>
    toResponse(await closeIncident(deps.triage, principal, reference(req), { ...body(req), etag: etagOf(req) }), withEtag),
  );

  if (deps.transfer) registerTransferRoutes(api, deps.transfer);
  if (deps.retention) registerRetentionRoutes(api, deps.retention);
  if (deps.admin) registerAdminRoutes(server, api, (req, logger) => authenticate(req, deps, logger), deps.admin);
}

function auditResponse(outcome: SchoolAuditOutcome): { status: number; body: unknown } {
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, body: outcome.value };
    case 'forbidden':
      return forbidden();
    case 'invalid':
      return { status: 400, body: { error: 'Some answers need attention.', problems: outcome.problems } };
    case 'conflict':
      return { status: 409, body: { error: outcome.message } };
  }
}

function withEtag<T extends { etag: string }>(value: T): T {
  return value;
}

function forbidden(): { status: number; body: unknown } {
  return { status: 403, body: { error: 'Your role does not allow this. Ask the headteacher if you think it should.' } };
}

function toResponse<T>(outcome: TriageOutcome<T>, shape: (value: T) => unknown): { status: number; body: unknown; headers?: Record<string, string> } {
  switch (outcome.kind) {
    case 'ok': {
      const etag = (outcome.value as { etag?: unknown }).etag;
      return { status: 200, body: shape(outcome.value), ...(typeof etag === 'string' ? { headers: { etag } } : {}) };
    }
    case 'forbidden':
      return forbidden();
    case 'not-found':
      return { status: 404, body: { error: 'There is no incident with that reference.' } };
    case 'invalid':
      return { status: 400, body: { error: 'Some fields need attention.', problems: outcome.problems } };
    case 'precondition-required':
      return { status: 428, body: { error: 'Send the etag you read (If-Match header or "etag" field) so that no one else\'s change is overwritten.' } };
    case 'conflict':
      return { status: 409, body: { error: outcome.message, currentEtag: outcome.etag ?? null } };
  }
}

async function authenticate(req: Request, deps: TabRouteDependencies, logger: Logger = deps.logger): Promise<Principal | undefined> {
  const header = req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return undefined;
  const check = await deps.validator.validate(match[1]!);
  if (!check.ok) {
    logger.info('tab.token-refused', { reason: check.reason });
    return undefined;
  }
  return deps.roles.getPrincipal(check.objectId);
}

function query(req: Request): URLSearchParams {
  return new URL(req.url ?? '/', 'http://localhost').searchParams;
}

function reference(req: Request): string {
  return String(req.params.reference ?? '');
}

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function etagOf(req: Request): string | undefined {
  const header = req.header('if-match');
  if (header) return header;
  const field = body(req).etag;
  return typeof field === 'string' && field ? field : undefined;
}
