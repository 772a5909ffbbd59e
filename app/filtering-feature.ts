import type { FeatureContext } from './feature';
import { FilteringStore } from '../records/filtering-store';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerFilteringRoutes } from '../tab/server/filtering-routes';

/** The tab's filtering routes: change and exception requests and their decisions. */
export function filteringTabRoutes(context: FeatureContext): (api: JsonRoute) => void {
  return (api) => registerFilteringRoutes(api, { schoolId: context.config.school.id, store: new FilteringStore(context.tables), audit: context.audit, clock: context.clock });
}
