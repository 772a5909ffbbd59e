import { approveRetentionDeletion, listRetentionReview, setLegalHold, type RetentionDependencies } from '../../usecases/incident-retention';
import { bodyOf, etagOf, outcomeResponse, referenceOf, type JsonRoute } from './api-responses';

const WORDING = { forbidden: 'Only the DSL and the headteacher may review retention and legal holds.' };

/**
 * Retention (DSL and head): the incidents the daily review found past their retention date, approving one's
 * deletion, and legal hold. Nothing is deleted without an approval here; every call is audited.
 */
export function registerRetentionRoutes(api: JsonRoute, deps: RetentionDependencies): void {
  api('get', '/api/retention', async (_req, principal) => outcomeResponse(await listRetentionReview(deps, principal), (items) => ({ items }), WORDING));
  api('post', '/api/retention/:reference/approve', async (req, principal) =>
    outcomeResponse(await approveRetentionDeletion(deps, principal, referenceOf(req), { rationale: bodyOf(req).rationale, ...etagField(etagOf(req)) }), undefined, WORDING),
  );
  api('post', '/api/incidents/:reference/legal-hold', async (req, principal) =>
    outcomeResponse(await setLegalHold(deps, principal, referenceOf(req), { hold: bodyOf(req).hold, reason: bodyOf(req).reason, ...etagField(etagOf(req)) }), undefined, WORDING),
  );
}

function etagField(etag: string | undefined): { etag?: string } {
  return etag ? { etag } : {};
}
