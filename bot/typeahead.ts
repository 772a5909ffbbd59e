import type { AdaptiveCardInvokeResponse, SearchInvokeValue } from 'botbuilder';
import type { Principal } from '../school/roles';

/**
 * Dynamic typeahead for an Input.ChoiceSet: the card names a dataset in `choices.data` (`Data.Query`), and as
 * the user types Teams sends the bot an `application/search` invoke with `{ queryText, queryOptions: { skip, top },
 * dataset }`; the bot answers `{ type: "application/vnd.microsoft.search.searchResponse", value: { results:
 * [{ title, value }] } }`. https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search
 */

/** One option offered in the dropdown; `value` is what the input submits. */
export interface TypeaheadResult {
  title: string;
  value: string;
}

/** A query as the invoke carried it, before any dataset applies its own limits. */
export interface TypeaheadQuery {
  text: string;
  top?: number;
  skip?: number;
}

export type TypeaheadOutcome = { kind: 'results'; results: TypeaheadResult[] } | { kind: 'forbidden' } | { kind: 'invalid'; message: string };

/** A searchable dataset (pupils, staff, …). It checks the caller's roles and audits the search itself. */
export interface TypeaheadDataset {
  name: string;
  search(principal: Principal, query: TypeaheadQuery, correlationId: string): Promise<TypeaheadOutcome>;
}

/** Teams shows at most 15 options (the dynamic-search doc above); no dataset answers with more. */
export const TYPEAHEAD_MAX_RESULTS = 15;
/** Longer than any query a person types into a name picker; anything longer is refused unread. */
const MAX_QUERY_CHARS = 200;

/** The `choices.data` that makes an Input.ChoiceSet ask the bot for `dataset` as the user types. */
export function dataQuery(dataset: string): { type: 'Data.Query'; dataset: string } {
  return { type: 'Data.Query', dataset };
}

/**
 * Turns an input of `card` into a dynamic typeahead on `dataset`, keeping its static choices (Teams shows both).
 * Returns the card unchanged when it has no such Input.ChoiceSet.
 */
export function withTypeahead(card: Record<string, unknown>, inputId: string, dataset: string, placeholder?: string): Record<string, unknown> {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (typeof node !== 'object' || node === null) return node;
    const element = node as Record<string, unknown>;
    if (element.type === 'Input.ChoiceSet' && element.id === inputId) {
      return { ...element, style: 'filtered', 'choices.data': dataQuery(dataset), ...(placeholder ? { placeholder } : {}) };
    }
    return Object.fromEntries(Object.entries(element).map(([k, v]) => [k, visit(v)]));
  };
  return visit(card) as Record<string, unknown>;
}

/** The search response Teams expects, with results trimmed to what the dropdown shows. */
export function searchResponse(results: readonly TypeaheadResult[]): AdaptiveCardInvokeResponse {
  return {
    statusCode: 200,
    type: 'application/vnd.microsoft.search.searchResponse',
    value: { results: results.slice(0, TYPEAHEAD_MAX_RESULTS).map((r) => ({ title: r.title, value: r.value })) },
  };
}

/** An error invoke response (`application/vnd.microsoft.error`), as botbuilder builds them for Universal Actions. */
export function searchError(statusCode: 400 | 403 | 404 | 500, code: string, message: string): AdaptiveCardInvokeResponse {
  return { statusCode, type: 'application/vnd.microsoft.error', value: { code, message } };
}

/** Reads an `application/search` invoke value; anything malformed is a query to refuse, never an exception. */
export function readTypeaheadQuery(value: Partial<SearchInvokeValue> | undefined): { ok: true; dataset: string; query: TypeaheadQuery } | { ok: false; message: string } {
  const dataset = typeof value?.dataset === 'string' ? value.dataset : '';
  const text = typeof value?.queryText === 'string' ? value.queryText : '';
  if (!dataset) return { ok: false, message: 'The search names no dataset.' };
  if (text.length > MAX_QUERY_CHARS) return { ok: false, message: 'That search is too long: type part of the name.' };
  const options = (value?.queryOptions ?? {}) as Partial<SearchInvokeValue['queryOptions']>;
  const number = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined);
  const top = number(options.top);
  const skip = number(options.skip);
  return { ok: true, dataset, query: { text, ...(top !== undefined ? { top } : {}), ...(skip !== undefined ? { skip } : {}) } };
}

/** Answers one search invoke from the datasets given; an unknown dataset gets 404, a refused caller 403. */
export async function answerTypeahead(
  datasets: readonly TypeaheadDataset[],
  principal: Principal | undefined,
  value: Partial<SearchInvokeValue> | undefined,
  correlationId: string,
): Promise<AdaptiveCardInvokeResponse> {
  if (!principal) return searchError(403, 'Forbidden', 'I could not tell who you are. Please use Microsoft Teams with your school account.');
  const read = readTypeaheadQuery(value);
  if (!read.ok) return searchError(400, 'BadRequest', read.message);
  const dataset = datasets.find((d) => d.name === read.dataset);
  if (!dataset) return searchError(404, 'NotFound', 'This search is not supported any more: send /report to get a new card.');
  const outcome = await dataset.search(principal, read.query, correlationId);
  switch (outcome.kind) {
    case 'results':
      return searchResponse(outcome.results);
    case 'forbidden':
      return searchError(403, 'Forbidden', 'Only members of staff can search here. Please talk to the e-safety coordinator or the DSL.');
    case 'invalid':
      return searchError(400, 'BadRequest', outcome.message);
  }
}
