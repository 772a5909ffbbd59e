import type { Request } from 'restify';
import type { Principal } from '../../school/roles';
import { approveRetentionDeletion, listRetentionReview, setLegalHold, type RetentionDependencies, type RetentionOutcome } from '../../usecases/incident-retention';

type ApiResult = { status: number; body: unknown; headers?: Record<string, string> };
type JsonRoute = (method: 'get' | 'post', path: string, handler: (req: Request, principal: Principal) => Promise<ApiResult>) => void;

/**
 * Retention (DSL and head): the incidents the daily review found past their retention date, approving one's
 * deletion, and legal hold. Nothing is deleted without an approval here; every call is audited.
 */
export function registerRetentionRoutes(api: JsonRoute, deps: RetentionDependencies): void {
  api('get', '/api/retention', async (_req, principal) => respond(await listRetentionReview(deps, principal), (items) => ({ items })));
  api('post', '/api/retention/:reference/approve', async (req, principal) => {
    const input = body(req);
    return respond(await approveRetentionDeletion(deps, principal, reference(req), { rationale: input.rationale, ...etagOf(req) }), (deleted) => deleted);
  });
  api('post', '/api/incidents/:reference/legal-hold', async (req, principal) => {
    const input = body(req);
    return respond(await setLegalHold(deps, principal, reference(req), { hold: input.hold, reason: input.reason, ...etagOf(req) }), (state) => state);
  });
}

function respond<T>(outcome: RetentionOutcome<T>, shape: (value: T) => unknown): ApiResult {
  switch (outcome.kind) {
    case 'ok': {
      const etag = (outcome.value as { etag?: unknown }).etag;
      return { status: 200, body: shape(outcome.value), ...(typeof etag === 'string' ? { headers: { etag } } : {}) };
    }
    case 'forbidden':
      return { status: 403, body: { error: 'Only the DSL and the headteacher may review retention and legal holds.' } };
    case 'not-found':
      return { status: 404, body: { error: 'There is no incident with that reference.' } };
    case 'invalid':
      return { status: 400, body: { error: 'Some fields need attention.', problems: outcome.problems } };
    case 'precondition-required':
      return { status: 428, body: { error: 'Send the etag you read (If-Match header or "etag" field) so that no one else\'s change is overwritten.' } };
    case 'conflict':
      return { status: 409, body: { error: outcome.message, reason: outcome.reason, currentEtag: outcome.etag ?? null } };
  }
}

function reference(req: Request): string {
  return String(req.params.reference ?? '');
}

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function etagOf(req: Request): { etag?: string } {
  const etag = req.header('if-match') || (typeof body(req).etag === 'string' ? (body(req).etag as string) : '');
  return etag ? { etag } : {};
}
