import type { AupDocumentSource } from '../../usecases/acknowledge-aup';
import { canManageAups } from '../../usecases/acknowledge-aup';
import { recordPaperForm, recordPaperFormsCsv, type PaperFormDependencies } from '../../usecases/aup-paper-forms';
import { bodyOf, forbidden, outcomeResponse, type JsonRoute } from './api-responses';

const WORDING = { forbidden: 'Only the e-safety coordinator, the DSL and the headteacher record paper AUP forms.', invalid: 'The form could not be recorded.' };

/**
 * Paper AUP forms in the tab (coordinator, DSL, head): the current documents, one form at a time
 * (`POST /api/aup/paper`), or a CSV of forms with the same fields (`POST /api/aup/paper/csv`, body `{ "csv": "…" }`).
 */
export function registerAupRoutes(api: JsonRoute, deps: PaperFormDependencies & { documents: AupDocumentSource }): void {
  api('get', '/api/aup/documents', async (_req, principal) => {
    if (!canManageAups(principal)) return forbidden(WORDING.forbidden);
    const documents = await deps.documents.listAupDocuments();
    return { status: 200, body: { documents: documents.map((d) => ({ id: d.id, title: d.title, version: d.version, audience: d.audience, needsParent: d.needsParent })) } };
  });
  api('post', '/api/aup/paper', async (req, principal) => {
    const outcome = await recordPaperForm(deps, principal, bodyOf(req), correlationOf(req.header('x-correlation-id')));
    if (outcome.kind === 'ok') return { status: outcome.value.duplicate ? 200 : 201, body: outcome.value };
    return outcomeResponse(outcome, undefined, WORDING);
  });
  api('post', '/api/aup/paper/csv', async (req, principal) => {
    const csv = bodyOf(req).csv;
    if (typeof csv !== 'string' || csv.trim() === '') return { status: 400, body: { error: 'Send the CSV as { "csv": "…" }, with a header row.' } };
    return outcomeResponse(await recordPaperFormsCsv(deps, principal, csv, correlationOf(req.header('x-correlation-id'))), undefined, WORDING);
  });
}

function correlationOf(header: string | undefined): string {
  return header && /^[A-Za-z0-9._-]{1,64}$/.test(header) ? header : `tab-aup-${Date.now()}`;
}
