import { listTraining, recordTraining, recordTrainingCsv, type TrainingDependencies } from '../../usecases/training';
import { bodyOf, outcomeResponse, type JsonRoute } from './api-responses';

const WORDING = { forbidden: 'The training register is kept by the e-safety coordinator, the DSL and the headteacher.', invalid: 'The training record needs attention.' };

/** The online-safety training register: one record, a CSV of records, and the list with who is due. */
export function registerTrainingRoutes(api: JsonRoute, deps: TrainingDependencies): void {
  api('get', '/api/training', async (_req, principal) => outcomeResponse(await listTraining(deps, principal), undefined, WORDING));
  api('post', '/api/training', async (req, principal) => {
    const outcome = await recordTraining(deps, principal, bodyOf(req));
    if (outcome.kind === 'ok') return { status: outcome.value.duplicate ? 200 : 201, body: outcome.value };
    return outcomeResponse(outcome, undefined, WORDING);
  });
  api('post', '/api/training/csv', async (req, principal) => {
    const csv = bodyOf(req).csv;
    if (typeof csv !== 'string' || csv.trim() === '') return { status: 400, body: { error: 'Send the CSV as { "csv": "…" }, with a header row.' } };
    return outcomeResponse(await recordTrainingCsv(deps, principal, csv), undefined, WORDING);
  });
}
