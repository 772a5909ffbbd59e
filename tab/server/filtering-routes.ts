import { decideFilteringChange, listFilteringChanges, requestFilteringChange, type FilteringDependencies } from '../../usecases/filtering-changes';
import { bodyOf, outcomeResponse, type JsonRoute } from './api-responses';

const WORDING = {
  forbidden: 'Filtering changes are decided by the headteacher or the e-safety coordinator, and never by the person who asked.',
  notFound: 'There is no filtering change request with that id.',
  invalid: 'The request needs attention.',
};

/** Filtering change and exception requests: any staff member asks; the head or the coordinator decides. */
export function registerFilteringRoutes(api: JsonRoute, deps: FilteringDependencies): void {
  api('get', '/api/filtering/changes', async (_req, principal) => outcomeResponse(await listFilteringChanges(deps, principal), undefined, WORDING));
  api('post', '/api/filtering/changes', async (req, principal) => {
    const outcome = await requestFilteringChange(deps, principal, bodyOf(req));
    if (outcome.kind === 'ok') return { status: outcome.value.duplicate ? 200 : 201, body: outcome.value };
    return outcomeResponse(outcome, undefined, { ...WORDING, forbidden: 'Filtering changes are requested by members of staff.' });
  });
  api('post', '/api/filtering/changes/:id/decision', async (req, principal) =>
    outcomeResponse(await decideFilteringChange(deps, principal, String(req.params.id ?? ''), bodyOf(req)), undefined, WORDING),
  );
}
