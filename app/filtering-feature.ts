import type { FeatureContext, FeatureFactory } from './feature';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { sendFilteringDigest, type FilteringAlertDependencies } from '../usecases/filtering-alerts';
import { londonDateTime } from '../usecases/schedule-class-meeting';
import { FilteringStore } from '../records/filtering-store';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerFilteringRoutes } from '../tab/server/filtering-routes';
import { isDueForReversal } from '../school/filtering-changes';
import { academicYearOf } from '../school/incident-summary';
import { londonToday } from '../usecases/aup-paper-forms';
import type { FilteringFigures } from '../usecases/summarise-incidents';
import { deliverClaimedAlerts } from '../usecases/deliver-alerts';
import type { AlertRecord } from '../records/incident-store';

/** The filtering alerts' dependencies: the store, the register to match pupils, the audit and the clock. */
function alertDependencies(context: FeatureContext): FilteringAlertDependencies {
  const schoolId = context.config.school.id;
  const logger = context.logger.child({ feature: 'filtering' });
  const delivery = { schoolId, incidents: context.incidents, conversations: context.conversations, messenger: context.messenger, clock: context.clock, logger };
  return {
    schoolId,
    store: new FilteringStore(context.tables),
    register: new PupilRegisterStore(context.tables),
    audit: context.audit,
    clock: context.clock,
    // "Create incident" opens it through /report's use case, and its alerts go out as a report's do.
    ...(context.report ? { report: context.report, deliverAlerts: (alerts: readonly AlertRecord[]) => deliverClaimedAlerts(delivery, alerts) } : {}),
  };
}

/** The tab's filtering routes: provider alerts and their triage, change and exception requests and their decisions. */
export function filteringTabRoutes(context: FeatureContext): (api: JsonRoute) => void {
  return (api) => registerFilteringRoutes(api, { schoolId: context.config.school.id, store: new FilteringStore(context.tables), audit: context.audit, clock: context.clock }, alertDependencies(context));
}

/** The digest goes out from this UK hour, for the previous day's alerts. */
export const FILTERING_DIGEST_HOUR = 7;

/** Filtering and monitoring: the coordinator's daily content-free digest of the provider's alerts. */
export const filteringFeature: FeatureFactory = (context) => {
  const logger = context.logger.child({ feature: 'filtering' });
  const deps = { ...alertDependencies(context), store: new FilteringStore(context.tables), roles: context.roles, conversations: context.conversations, messenger: context.messenger, logger };
  return {
    name: 'filtering',
    jobs: [
      {
        name: 'filtering.daily-digest',
        everyMs: 15 * 60_000,
        run: async () => {
          if (londonDateTime(context.clock()).hour < FILTERING_DIGEST_HOUR) return;
          await sendFilteringDigest(deps);
        },
      },
    ],
  };
};

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
