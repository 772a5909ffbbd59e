import type { AuditStore } from '../records/audit-store';
import { canReportIncidents, type Principal } from '../school/roles';
import type { PupilChoice, PupilPicker } from './report-incident';

export interface PupilPickerDependencies {
  schoolId: string;
  pupils: PupilPicker;
  audit: Pick<AuditStore, 'appendAudit'>;
}

/**
 * The report card lists the whole roll only up to this many pupils; beyond it, staff search by name.
 * Teams refuses a card over 28 KB (https://learn.microsoft.com/microsoftteams/platform/messaging-extensions/how-to/search-commands/define-search-command).
 * The blank form is about 3 KB. A choice is about 70 bytes, and at most about 210 (an 80-character label of
 * two-byte letters), so 30 pupils take 2 to 6 KB and a blank card stays under 10 KB. A card shown again with a
 * pasted message at its longest can need 19 KB more; then the card drops the list and keeps the search
 * (buildReportCard in bot/cards/cards.ts). test/unit/incidents/cards.test.ts builds both worst cases.
 */
export const STATIC_PUPIL_LIMIT = 30;

/**
 * Bounds on every pupil search. Teams shows at most 15 options in a typeahead dropdown
 * (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search), so no search
 * returns more; two characters before anyone is offered; a query longer than any name is refused.
 */
export const PUPIL_SEARCH_LIMITS = { minQueryLength: 2, maxQueryLength: 50, maxResults: 15 } as const;

/** The audit action of a pupil search; the query text and the names found are never recorded. */
export const PUPIL_SEARCH_AUDIT_ACTION = 'pupil.search';

export type ReportCardPupils =
  | { kind: 'forbidden' }
  /** `listed`: the whole roll when it is tiny, else only the pupils already chosen (so a card shown again names them). */
  | { kind: 'ready'; listed: PupilChoice[]; wholeRoll: boolean };

/**
 * The pupils a report card may carry, for staff only: a non-staff caller gets nothing, and the refusal is audited.
 * Reads at most STATIC_PUPIL_LIMIT + 1 rows, plus one point read per pupil already chosen.
 */
export async function pupilsForReportCard(
  deps: PupilPickerDependencies,
  principal: Principal,
  chosenIds: readonly string[],
  correlationId: string,
): Promise<ReportCardPupils> {
  if (!canReportIncidents(principal)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'report-card.open', target: '', outcome: 'denied', correlationId });
    return { kind: 'forbidden' };
  }
  const roll = deps.pupils.listPupilChoicesIfAtMost
    ? await deps.pupils.listPupilChoicesIfAtMost(deps.schoolId, STATIC_PUPIL_LIMIT)
    : atMost(await deps.pupils.listPupilChoices(deps.schoolId), STATIC_PUPIL_LIMIT);
  if (roll) return { kind: 'ready', listed: roll, wholeRoll: true };
  const ids = [...new Set(chosenIds)].slice(0, 50);
  if (ids.length === 0) return { kind: 'ready', listed: [], wholeRoll: false };
  const chosen = deps.pupils.getPupilChoices
    ? await deps.pupils.getPupilChoices(deps.schoolId, ids)
    : (await deps.pupils.listPupilChoices(deps.schoolId)).filter((p) => ids.includes(p.pupilId));
  return { kind: 'ready', listed: chosen, wholeRoll: false };
}

export interface PupilSearchRequest {
  text: string;
  /** How many results the client asked for; never more than PUPIL_SEARCH_LIMITS.maxResults are returned. */
  top?: number;
  /** Paging is not offered: a later page is empty, and typing more narrows the search. */
  skip?: number;
}

export type PupilSearchOutcome = { kind: 'results'; pupils: PupilChoice[] } | { kind: 'forbidden' } | { kind: 'invalid'; message: string };

/**
 * The report card's typeahead: staff only, bounded and audited. Every call writes one audit line (who, when,
 * how long the query was, how many pupils and which register ids were offered) before any result leaves, so a
 * search that cannot be audited returns nothing.
 */
export async function searchPupilsForReport(
  deps: PupilPickerDependencies,
  principal: Principal,
  request: PupilSearchRequest,
  correlationId: string,
): Promise<PupilSearchOutcome> {
  const text = request.text.trim();
  const audit = (outcome: 'succeeded' | 'denied' | 'failed', details: Record<string, string | number>) =>
    deps.audit.appendAudit(deps.schoolId, {
      actorId: principal.aadObjectId,
      action: PUPIL_SEARCH_AUDIT_ACTION,
      target: '',
      outcome,
      correlationId,
      details: { queryLength: text.length, ...details },
    });
  if (!canReportIncidents(principal)) {
    await audit('denied', { reason: 'not-staff' });
    return { kind: 'forbidden' };
  }
  if (text.length > PUPIL_SEARCH_LIMITS.maxQueryLength) {
    await audit('failed', { reason: 'query-too-long' });
    return { kind: 'invalid', message: `Type at most ${PUPIL_SEARCH_LIMITS.maxQueryLength} characters of the pupil's name.` };
  }
  const top = Math.min(Math.max(Math.trunc(request.top ?? PUPIL_SEARCH_LIMITS.maxResults), 1), PUPIL_SEARCH_LIMITS.maxResults);
  const pupils =
    text.length < PUPIL_SEARCH_LIMITS.minQueryLength || (request.skip ?? 0) > 0
      ? []
      : deps.pupils.searchPupilChoices
        ? await deps.pupils.searchPupilChoices(deps.schoolId, text, top)
        : (await deps.pupils.listPupilChoices(deps.schoolId)).filter((p) => p.label.toLowerCase().includes(text.toLowerCase())).slice(0, top);
  await audit('succeeded', { results: pupils.length, pupilIds: pupils.map((p) => p.pupilId).join(',') });
  return { kind: 'results', pupils };
}

function atMost<T>(items: T[], limit: number): T[] | undefined {
  return items.length <= limit ? items : undefined;
}
