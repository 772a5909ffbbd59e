import type { FeatureFactory } from './feature';
import { IncidentAggregateStore } from '../records/incident-aggregate-store';
import { PendingCountStore } from '../records/pending-count-store';
import { SanctionStore } from '../records/sanction-store';
import { restoreDueSanctions } from '../usecases/case-actions';
import { catchUpIncidentCounts } from '../usecases/summarise-incidents';

// Kept apart from case-wiring.ts, which imports the composition root: features.ts imports this file while the
// composition root is still loading, so it must not import it back.

/**
 * The DSL's case work beyond the tab:
 * - restores pupils' sign-in when a suspension ends. Every instance runs the job; each due suspension is claimed
 *   with its etag, so it is restored once (usecases/case-actions.ts);
 * - counts in the governors' figures any incident change whose count write failed or whose writer died. Every
 *   instance runs it too: each change is keyed, so it counts once (usecases/summarise-incidents.ts).
 */
export const caseFeature: FeatureFactory = (context) => {
  const logger = context.logger.child({ feature: 'cases' });
  return {
    name: 'cases',
    jobs: [
      {
        name: 'cases.restore-suspended-access',
        everyMs: 15 * 60_000,
        run: async () => {
          const restored = await restoreDueSanctions({ schoolId: context.config.school.id, incidents: context.incidents, sanctions: new SanctionStore(context.tables), graph: context.graph, audit: context.audit, clock: context.clock });
          if (restored > 0) logger.info('cases.access-restored', { count: restored });
        },
      },
      {
        name: 'cases.catch-up-counts',
        everyMs: 15 * 60_000,
        run: async () => {
          const deps = { pending: new PendingCountStore(context.tables), aggregates: new IncidentAggregateStore(context.tables), clock: context.clock };
          const { pending } = await catchUpIncidentCounts(deps, context.config.school.id);
          if (pending > 0) logger.info('cases.counts-caught-up', { count: pending });
        },
      },
    ],
  };
};
