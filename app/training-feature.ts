import type { FeatureContext } from './feature';
import { TrainingStore } from '../records/training-store';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerTrainingRoutes } from '../tab/server/training-routes';

/** The tab's training-register routes. */
export function trainingTabRoutes(context: FeatureContext): (api: JsonRoute) => void {
  return (api) => registerTrainingRoutes(api, { schoolId: context.config.school.id, store: new TrainingStore(context.tables), roles: context.roles, audit: context.audit, clock: context.clock });
}
