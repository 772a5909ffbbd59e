import { CONSENT_AREAS, CONSENT_RELATIONSHIPS } from '../../school/consent';
import {
  getConsentCoverage,
  getConsentHistory,
  getPupilConsent,
  mayReadConsent,
  recordConsentCsv,
  recordConsentForm,
  withdrawConsent,
  type ConsentDependencies,
  type ConsentOutcome,
  type ConsentWriteResult,
} from '../../usecases/consent-register';
import { searchPupilsForReport, type PupilPickerDependencies } from '../../usecases/pupil-picker';
import { bodyOf, forbidden, outcomeResponse, type ApiResult, type JsonRoute } from './api-responses';

const WORDING = {
  forbidden: 'Consent forms and withdrawals are recorded by the e-safety coordinator, the DSL, the headteacher or the IT admin.',
  notFound: 'That pupil is not on this school\'s register.',
  invalid: 'The consent could not be recorded.',
};
const READ_WORDING = { ...WORDING, forbidden: 'Only members of staff can see pupils\' photo and video consent.' };

/**
 * The consent register in the tab. The pupil always travels in the body, never in the URL (a pupil's id is
 * usually their unique pupil number, and URLs reach logs):
 * - `GET /api/consent/areas`: the five areas and the relationships a signer may have;
 * - `POST /api/consent/pupils/search` `{ text }`: the roll searched by name (staff, bounded, audited);
 * - `POST /api/consent/lookup` `{ pupil }`: one pupil's consent (staff; the signer's name for recorders only);
 * - `POST /api/consent/history` `{ pupil }`: the chronology (recorders);
 * - `POST /api/consent` `{ pupil, signedOn, givenBy, relationship, areas: { "<area>": true | false } }`: a form;
 * - `POST /api/consent/withdraw` `{ pupil, area | areas, withdrawnOn?, withdrawnBy?, relationship? }`: a letter;
 * - `POST /api/consent/csv` `{ csv }`: many paper forms (the JSON body limit, 1 MB, holds a whole roll's);
 * - `GET /api/consent/coverage`: counts per area for pupils on the roll (recorders).
 */
export function registerConsentRoutes(api: JsonRoute, deps: ConsentDependencies & { picker: PupilPickerDependencies }): void {
  api('get', '/api/consent/areas', async (_req, principal) => {
    if (!mayReadConsent(principal)) return forbidden(READ_WORDING.forbidden);
    return { status: 200, body: { areas: CONSENT_AREAS, relationships: CONSENT_RELATIONSHIPS } };
  });
  api('post', '/api/consent/pupils/search', async (req, principal) => {
    const text = bodyOf(req).text;
    const found = await searchPupilsForReport(deps.picker, principal, { text: typeof text === 'string' ? text : '' }, req.id());
    if (found.kind === 'forbidden') return forbidden(READ_WORDING.forbidden);
    if (found.kind === 'invalid') return { status: 400, body: { error: found.message } };
    return { status: 200, body: { pupils: found.pupils.map((p) => ({ pupilId: p.pupilId, label: p.label })) } };
  });
  api('post', '/api/consent/lookup', async (req, principal) => outcomeResponse(await getPupilConsent(deps, principal, pupilOf(req.body), 'tab', req.id()), undefined, READ_WORDING));
  api('post', '/api/consent/history', async (req, principal) => outcomeResponse(await getConsentHistory(deps, principal, pupilOf(req.body)), undefined, WORDING));
  api('post', '/api/consent', async (req, principal) => written(await recordConsentForm(deps, principal, bodyOf(req))));
  api('post', '/api/consent/withdraw', async (req, principal) => written(await withdrawConsent(deps, principal, bodyOf(req))));
  api('post', '/api/consent/csv', async (req, principal) => {
    const csv = bodyOf(req).csv;
    if (typeof csv !== 'string' || csv.trim() === '') return { status: 400, body: { error: 'Send the CSV as { "csv": "…" }, with a header row.' } };
    return outcomeResponse(await recordConsentCsv(deps, principal, csv), undefined, WORDING);
  });
  api('get', '/api/consent/coverage', async (_req, principal) => outcomeResponse(await getConsentCoverage(deps, principal), undefined, WORDING));
}

function pupilOf(body: unknown): string {
  const pupil = (body as { pupil?: unknown } | undefined)?.pupil;
  return typeof pupil === 'string' ? pupil.slice(0, 200) : '';
}

/** 201 when the form or letter changed anything, 200 when it was already on record. */
function written(outcome: ConsentOutcome<ConsentWriteResult>): ApiResult {
  if (outcome.kind === 'ok') return { status: outcome.value.recorded.length > 0 ? 201 : 200, body: outcome.value };
  return outcomeResponse(outcome, undefined, WORDING);
}
