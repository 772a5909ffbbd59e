import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../infra/logger';
import { StorageUnavailableError } from '../../records/tables';
import type { Principal } from '../../school/roles';
import {
  applyUploadedRoll,
  canAdminister,
  getEnforcementOverview,
  planUploadedRoll,
  type AdminConsoleDependencies,
  type AdminOutcome,
  type RollUpload,
} from '../../usecases/admin-console';
import { renderCredentialSlips } from '../../usecases/credential-slips';
import { bodyOf, declareRouteBody, type ApiResult, type JsonRoute, type RouteBodyPolicy } from './api-responses';

export interface AdminRouteDependencies {
  console: AdminConsoleDependencies;
  schoolName: string;
  /** False in plan mode (no tenant): the page can plan but not apply. */
  graphLive: boolean;
  logger: Logger;
}

/**
 * The roll upload: the page sends JSON (the CSV text in `csv`, or `sdsUsers` and `sdsRoles`); scripts may send
 * the same fields as multipart/form-data. Only these two routes take multipart or more than 1 MB: a 1 MB roll is
 * a little over 1 MB as JSON, and an SDS pair for a large school is larger. Parsed in memory within the limit,
 * so a refused upload leaves no temporary file behind.
 */
export const ROLL_UPLOAD_PATHS = ['/api/admin/provisioning/plan', '/api/admin/provisioning/apply'] as const;
export const ROLL_UPLOAD_BODY: RouteBodyPolicy = {
  maxBytes: 4 * 1024 * 1024,
  accept: ['json', 'multipart'],
  multipartFields: ['csv', 'sdsUsers', 'sdsRoles', 'academicYear', 'takeOverRunId'],
};

/**
 * The Admin page's API: plan and apply an uploaded roll, and the latest enforcement audit.
 *
 * `POST /api/admin/provisioning/apply` answers with newline-delimited JSON so the page can show progress
 * while the run works: `{"type":"progress",…}` lines, then `{"type":"slips","html":…}` when there are new
 * passwords (the only copy: they are never stored), then `{"type":"result",…}`. Refusals that come before
 * any work (no token, wrong role, a bad file, another run in progress) are ordinary JSON errors.
 */
export function registerAdminRoutes(server: Server, api: JsonRoute, authenticate: (req: Request, logger: Logger) => Promise<Principal | undefined>, deps: AdminRouteDependencies): void {
  for (const path of ROLL_UPLOAD_PATHS) declareRouteBody(path, ROLL_UPLOAD_BODY);
  api('get', '/api/admin/status', async (_req, principal) => {
    if (!canAdminister(principal)) return adminResponse({ kind: 'forbidden' });
    return { status: 200, body: { graphMode: deps.graphLive ? 'live' : 'plan', domain: deps.console.provisioning.settings.domain } };
  });

  api('post', '/api/admin/provisioning/plan', async (req, principal) => adminResponse(await planUploadedRoll(deps.console, principal, uploadOf(req))));

  api('get', '/api/admin/enforcement', async (_req, principal) => adminResponse(await getEnforcementOverview(deps.console, principal)));

  server.post('/api/admin/provisioning/apply', async (req: Request, res: Response) => {
    res.header('cache-control', 'no-store');
    const correlationId = req.id();
    const logger = deps.logger.child({ correlationId });
    res.header('x-correlation-id', correlationId);
    const principal = await authenticate(req, logger);
    if (!principal) {
      res.header('www-authenticate', 'Bearer');
      return void res.json(401, { error: 'Sign in through Teams: this request had no valid sign-in token.' });
    }
    if (!deps.graphLive) {
      return void res.json(409, { error: 'This server has no tenant (GRAPH_MODE=plan), so it can plan but not apply. Set GRAPH_MODE=live and the Graph sign-in settings to provision accounts.' });
    }
    const stream = new NdjsonStream(res);
    const controller = new AbortController();
    // The admin closed the page: stop at the next step. Each pupil's progress is in the register for the next run.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      const outcome = await applyUploadedRoll(deps.console, principal, uploadOf(req), {
        signal: controller.signal,
        onProgress: (progress) => void stream.send({ type: 'progress', ...progress }).catch(() => undefined),
        deliverSlips: async (slips) => stream.send({ type: 'slips', count: slips.length, html: renderCredentialSlips(slips, { schoolName: deps.schoolName }) }),
      });
      if (outcome.kind !== 'ok') {
        const refusal = adminResponse(outcome);
        if (!stream.started) return void res.json(refusal.status, refusal.body);
        await stream.send({ type: 'error', ...(refusal.body as object) });
        return void res.end();
      }
      const { rows, summary, blockers, blocked, runId, interrupted, resumedRunId, slipsIssued } = outcome.value;
      await stream.send({ type: 'result', runId, blocked, blockers, summary, rows, slipsIssued, ...(interrupted ? { interrupted } : {}), ...(resumedRunId ? { resumedRunId } : {}) });
      res.end();
    } catch (error) {
      logger.error('admin.apply-failed', { errorName: (error as Error).name });
      const message =
        error instanceof StorageUnavailableError
          ? 'Storage is unavailable. Each pupil done so far is saved; apply again shortly to finish.'
          : 'Provisioning stopped. Each pupil done so far is saved; apply again to finish, or run `npm run provision -- apply` to see the details.';
      if (!stream.started) return void res.json(error instanceof StorageUnavailableError ? 503 : 500, { error: message });
      await stream.send({ type: 'error', error: message }).catch(() => undefined);
      res.end();
    }
  });
}

/** Newline-delimited JSON written as it happens; `send` resolves once the line is handed to the socket. */
class NdjsonStream {
  started = false;
  constructor(private readonly res: Response) {}

  send(message: object): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    }
    return new Promise((resolve, reject) => {
      if (this.res.destroyed) return reject(new Error('The page closed before this was delivered.'));
      this.res.write(`${JSON.stringify(message)}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }
}

function uploadOf(req: Request): RollUpload {
  return bodyOf(req) as RollUpload;
}

function adminResponse<T>(outcome: AdminOutcome<T>): ApiResult {
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, body: outcome.value };
    case 'forbidden':
      return { status: 403, body: { error: 'Only the IT coordinator (admin role) and the headteacher may use the Admin page.' } };
    case 'invalid':
      return { status: 400, body: { error: 'The upload needs attention.', problems: outcome.problems } };
    case 'busy':
      // The holder's run id, so the page can offer to take over (apply again with `takeOverRunId`, audited).
      return { status: 409, body: { error: outcome.message, ...(outcome.heldByRunId ? { heldByRunId: outcome.heldByRunId } : {}) } };
  }
}
