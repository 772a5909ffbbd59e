import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../infra/logger';
import type { RoleDirectory } from '../../identity/role-directory';
import { StorageUnavailableError } from '../../records/tables';
import { exportSubjectAccessPack, type SubjectAccessDependencies } from '../../usecases/subject-access';
import { bodyOf, outcomeResponse, type JsonRoute } from './api-responses';
import type { TabTokenValidator } from './tab-tokens';

const WORDING = {
  forbidden: 'Only the DSL and the headteacher may export a subject access pack.',
  notFound: 'There is no such pupil in this school\'s register or records.',
  invalid: 'The request needs attention.',
};

/**
 * `POST /api/subject-access` (DSL and head): body `{ "aadObjectId": "…" }` for a member of staff or
 * `{ "upn": "…" }` for a pupil, with optional `requestReceivedOn` (YYYY-MM-DD) and `requestedBy`
 * (`self`, `parent-or-carer`, `representative`). Answers `{ packId, html, references }`; refusals and
 * exports are audited by `usecases/subject-access.ts`.
 */
export function registerSubjectAccessRoutes(api: JsonRoute, deps: SubjectAccessDependencies): void {
  api('post', '/api/subject-access', async (req, principal) => outcomeResponse(await exportSubjectAccessPack(deps, principal, bodyOf(req)), undefined, WORDING));
}

export interface SignedInApiDependencies {
  validator: Pick<TabTokenValidator, 'validate'>;
  roles: Pick<RoleDirectory, 'getPrincipal'>;
  logger: Logger;
}

/**
 * JSON routes behind the tab's Teams SSO, for a feature outside the tab's own route table: the caller is
 * identified from the Bearer token and their roles from the directory, as in tab-routes.ts; no token is 401,
 * a storage outage 503, and anything else a 500 that names nothing.
 */
export function signedInApi(server: Server, deps: SignedInApiDependencies): JsonRoute {
  return (method, path, handler) => {
    server[method](path, async (req: Request, res: Response) => {
      const correlationId = req.id();
      const logger = deps.logger.child({ correlationId });
      res.header('x-correlation-id', correlationId);
      res.header('cache-control', 'no-store');
      const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
      const check = match ? await deps.validator.validate(match[1]!) : undefined;
      if (!check?.ok) {
        if (check) logger.info('tab.token-refused', { reason: check.reason });
        res.header('www-authenticate', 'Bearer');
        return void res.json(401, { error: 'Sign in through Teams: this request had no valid sign-in token.' });
      }
      try {
        const result = await handler(req, await deps.roles.getPrincipal(check.objectId));
        for (const [k, v] of Object.entries(result.headers ?? {})) res.header(k, v);
        res.json(result.status, result.body);
      } catch (error) {
        if (error instanceof StorageUnavailableError) return void res.json(503, { error: 'Storage is unavailable; nothing was saved. Try again shortly.' });
        logger.error('tab.api-failed', { path, errorName: (error as Error).name });
        res.json(500, { error: 'Something went wrong; nothing was saved.' });
      }
    });
  };
}
