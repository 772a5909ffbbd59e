import { GraphPeopleNames, RoleTitleNames, type PeopleNameSource } from '../identity/people-names';
import type { FeatureContext } from './feature';

/** Staff names for a school's pages: from Graph in a tenant, by role title without one (local development, plan mode). */
export function peopleNamesFor(context: Pick<FeatureContext, 'graph' | 'roles' | 'clock'>): PeopleNameSource {
  return context.graph ? new GraphPeopleNames(context.graph, new RoleTitleNames(context.roles), { clock: context.clock }) : new RoleTitleNames(context.roles);
}
