import type { FeatureContext } from './feature';
import { FilteringStore } from '../records/filtering-store';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerFilteringRoutes } from '../tab/server/filtering-routes';
import { isDueForReversal } from '../school/filtering-changes';
import { academicYearOf } from '../school/incident-summary';
import { londonToday } from '../usecases/aup-paper-forms';
import type { FilteringFigures } from '../usecases/summarise-incidents';

/** The tab's filtering routes: change and exception requests and their decisions. */
export function filteringTabRoutes(context: FeatureContext): (api: JsonRoute) => void {
  return (api) => registerFilteringRoutes(api, { schoolId: context.config.school.id, store: new FilteringStore(context.tables), audit: context.audit, clock: context.clock });
}

/** The governors' summary's filtering figures: this academic year's requests by outcome, and exceptions due for reversal. */
export function filteringSummaryProvider(context: FeatureContext): (schoolId: string) => Promise<FilteringFigures> {
  const store = new FilteringStore(context.tables);
  return async (schoolId) => {
    const today = londonToday(context.clock());
    const yearStart = `${academicYearOf(today.slice(0, 7))}-09-01`;
    const all = await store.listChangeRequests(schoolId);
    const thisYear = all.filter((c) => c.requestedAt.slice(0, 10) >= yearStart);
    return {
      approved: thisYear.filter((c) => c.status === 'approved').length,
      refused: thisYear.filter((c) => c.status === 'refused').length,
      waiting: thisYear.filter((c) => c.status === 'requested').length,
      dueForReversal: all.filter((c) => isDueForReversal(c, today)).length,
    };
  };
}
