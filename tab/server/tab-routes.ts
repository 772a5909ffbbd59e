import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../infra/logger';
import type { RoleDirectory } from '../../identity/role-directory';
import type { AuditStore } from '../../records/audit-store';
import { StorageUnavailableError } from '../../records/tables';
import { ROLES, type Principal } from '../../school/roles';
import { getSchoolAudit, saveSchoolAudit, type SchoolAuditDependencies, type SchoolAuditOutcome } from '../../usecases/school-audit';
import { getIncidentSummary, type SummaryDependencies } from '../../usecases/summarise-incidents';
import {
  getIncidentForTriage,
  listIncidentsForTriage,
  parseFilters,
  recordParentsInformed,
  recordTriageAction,
  type TriageDependencies,
} from '../../usecases/triage-incidents';
import { bodyOf, etagOf, forbidden, InvalidEtagError, outcomeResponse, queryOf, referenceOf, type ApiResult, type JsonRoute } from './api-responses';
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
  /** More JSON routes behind the same sign-in (the case actions in case-routes.ts). */
  extraRoutes?: ((api: JsonRoute) => void)[];
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

/**
 * The Teams JavaScript SDK, from the installed @microsoft/teams-js package (the UMD build, which defines
 * `window.microsoftTeams`). Read once per process; a failure is logged and answered without any path.
 */
let teamsJs: Promise<Buffer> | undefined;
function teamsJsBundle(): Promise<Buffer> {
  teamsJs ??= Promise.resolve()
    .then(() => readFile(require.resolve('@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js')))
    .catch((error: unknown) => {
      teamsJs = undefined;
      throw error;
    });
  return teamsJs;
}


/** The tab's pages, its local stand-in identity, and its JSON API. */
export function registerTabRoutes(server: Server, deps: TabRouteDependencies): void {
  const dir = publicDir();
  const security = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

  server.get('/tab/teams-js.js', async (req, res) => {
    let body: Buffer;
    try {
      body = await teamsJsBundle();
    } catch (error) {
      deps.logger.error('tab.teams-js-unavailable', { correlationId: req.id(), errorName: (error as Error).name });
      res.header('cache-control', 'no-store');
      return void res.json(503, { error: 'The Teams SDK is not installed on this server; ask IT to redeploy the app.', correlationId: req.id() });
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES.js!, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' });
    res.end(body);
  });

  // The local sign-in ("open as") exists only in local development: deployed, the composition root never
  // passes the key, so these routes are not registered at all and answer 404 like any unknown path.
  const localSecret = deps.localIdentitySecret;
  if (localSecret) registerLocalIdentityRoutes(server, localSecret, deps);

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

  const api: JsonRoute = (method, path, handler) => {
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
        if (result.file) return void sendFile(res, result.status, result.file);
        res.json(result.status, result.body);
      } catch (error) {
        if (error instanceof InvalidEtagError) return void res.json(400, { error: error.message });
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
    const parsed = parseFilters(Object.fromEntries(queryOf(req)));
    if (!parsed.ok) return { status: 400, body: { error: 'The filters are not valid.', problems: parsed.problems } };
    return outcomeResponse(await listIncidentsForTriage(deps.triage, principal, parsed.filters), (incidents) => ({ incidents }));
  });

  api('get', '/api/incidents/:reference', async (req, principal) => outcomeResponse(await getIncidentForTriage(deps.triage, principal, referenceOf(req))));

  api('get', '/api/school-audit', async (_req, principal) => auditResponse(await getSchoolAudit(deps.schoolAudit, principal)));
  api('put', '/api/school-audit', async (req, principal) => auditResponse(await saveSchoolAudit(deps.schoolAudit, principal, bodyOf(req), etagOf(req))));

  api('post', '/api/incidents/:reference/actions', async (req, principal) =>
    outcomeResponse(await recordTriageAction(deps.triage, principal, referenceOf(req), { ...bodyOf(req), etag: etagOf(req) })),
  );
  api('post', '/api/incidents/:reference/parents-informed', async (req, principal) =>
    outcomeResponse(await recordParentsInformed(deps.triage, principal, referenceOf(req), { ...bodyOf(req), etag: etagOf(req) })),
  );
  // Closing (with second sign-off), referrals, reclassification, CPOMS, sanctions, pupil history: tab/server/case-routes.ts.
  for (const register of deps.extraRoutes ?? []) register(api);

  if (deps.transfer) registerTransferRoutes(api, deps.transfer);
  if (deps.retention) registerRetentionRoutes(api, deps.retention);
  if (deps.admin) registerAdminRoutes(server, api, (req, logger) => authenticate(req, deps, logger), deps.admin);
}

/** `/tab/dev-login` and `/tab/dev-roles`: the stand-in identity and the people it can stand in for. */
function registerLocalIdentityRoutes(server: Server, secret: string, deps: TabRouteDependencies): void {
  server.get('/tab/dev-login', async (req, res) => {
    const as = queryOf(req).get('as') ?? '';
    if (!/^[0-9a-f-]{36}$/i.test(as)) return void res.json(400, { error: 'as must be an Entra object id.' });
    // Wall-clock time, not the app clock: token expiry is checked against real time, as Entra's are.
    const token = await issueLocalIdentity(secret, as.toLowerCase(), new Date());
    deps.logger.info('tab.local-identity-issued', { objectId: as.toLowerCase() });
    res.header('cache-control', 'no-store');
    res.json(200, { token });
  });

  server.get('/tab/dev-roles', async (_req, res) => {
    const people: { role: string; objectId: string }[] = [];
    for (const role of ROLES) for (const id of await deps.roles.listRoleMembers(role)) people.push({ role, objectId: id });
    res.header('cache-control', 'no-store');
    res.json(200, { people });
  });
}

/** A file answer: always a download (Content-Disposition: attachment), never rendered or sniffed by the browser. */
function sendFile(res: Response, status: number, file: NonNullable<ApiResult['file']>): void {
  res.writeHead(status, {
    'content-type': file.contentType,
    'content-length': String(file.data.length),
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'no-store',
  });
  res.end(file.data);
}

function auditResponse(outcome: SchoolAuditOutcome): ApiResult {
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, body: outcome.value, ...(outcome.value.etag ? { headers: { etag: outcome.value.etag } } : {}) };
    case 'forbidden':
      return forbidden();
    case 'invalid':
      return { status: 400, body: { error: 'Some answers need attention.', problems: outcome.problems } };
    case 'conflict':
      return { status: 409, body: { error: outcome.message } };
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

