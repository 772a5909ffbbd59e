import { decideFilteringChange, listFilteringChanges, requestFilteringChange, type FilteringDependencies } from '../../usecases/filtering-changes';
import { listFilteringAlerts, triageFilteringAlert, uploadFilteringAlerts, type FilteringAlertDependencies } from '../../usecases/filtering-alerts';
import { bodyOf, declareRouteBody, outcomeResponse, type JsonRoute } from './api-responses';

/** The provider's export, as the page sends it (`{ "csv": "…" }`): the roll's limit of 4 MB (tab/server/admin-routes.ts). */
const ALERT_UPLOAD_PATH = '/api/filtering/alerts';
const ALERT_WORDING = { forbidden: 'Filtering alerts are for the e-safety coordinator, the DSL and the headteacher.', notFound: 'There is no alert with that id in the last 30 days.', invalid: 'The alerts need attention.' };

const WORDING = {
  forbidden: 'Filtering changes are decided by the headteacher or the e-safety coordinator, and never by the person who asked.',
  notFound: 'There is no filtering change request with that id.',
  invalid: 'The request needs attention.',
};

/** Filtering change and exception requests: any staff member asks; the head or the coordinator decides. */
export function registerFilteringRoutes(api: JsonRoute, deps: FilteringDependencies, alerts?: FilteringAlertDependencies): void {
  if (alerts) {
    declareRouteBody(ALERT_UPLOAD_PATH, { maxBytes: 4 * 1024 * 1024, accept: ['json'] });
    api('post', ALERT_UPLOAD_PATH, async (req, principal) => {
      const csv = bodyOf(req).csv;
      if (typeof csv !== 'string' || csv.trim() === '') return { status: 400, body: { error: 'Send the provider\'s export as { "csv": "…" }, with a header row.' } };
      return outcomeResponse(await uploadFilteringAlerts(alerts, principal, csv), undefined, ALERT_WORDING);
    });
    api('get', ALERT_UPLOAD_PATH, async (_req, principal) => outcomeResponse(await listFilteringAlerts(alerts, principal), undefined, ALERT_WORDING));
    api('post', '/api/filtering/alerts/:id/triage', async (req, principal) =>
      outcomeResponse(await triageFilteringAlert(alerts, principal, String(req.params.id ?? ''), bodyOf(req)), undefined, ALERT_WORDING),
    );
  }
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
