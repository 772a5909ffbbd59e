import type { FeatureContext } from './feature';
import { loadResponseMatrix } from './compose';
import { peopleNamesFor } from './people-names';
import type { AggregateWriter } from '../usecases/summarise-incidents';
import type { PupilRegisterStore } from '../records/pupil-register-store';
import { registerCaseRoutes, type CaseRouteDependencies } from '../tab/server/case-routes';
import { attachmentStoreFor } from './attachments';
import { SanctionStore } from '../records/sanction-store';
import type { JsonRoute } from '../tab/server/api-responses';
import { DEFAULT_REPEAT_THRESHOLD } from '../school/repeat-incidents';

/** What the triage view and the DSL's case actions are built from, for one school. */
export function caseDependencies(context: FeatureContext, aggregates: AggregateWriter, register: PupilRegisterStore): CaseRouteDependencies {
  const attachmentStore = attachmentStoreFor(context);
  return {
    ...(attachmentStore ? { attachmentStore, attachments: attachmentStore } : {}),
    schoolId: context.config.school.id,
    incidents: context.incidents,
    sanctions: new SanctionStore(context.tables),
    aggregates,
    audit: context.audit,
    matrix: loadResponseMatrix(context.config),
    clock: context.clock,
    pupils: register,
    register,
    roles: context.roles,
    people: peopleNamesFor(context),
    graph: context.graph,
    repeatThreshold: context.config.school.repeatIncidentThreshold ?? DEFAULT_REPEAT_THRESHOLD,
  };
}

/** Registers the case routes (tab/server/case-routes.ts) behind the tab's sign-in. */
export function caseRoutes(deps: CaseRouteDependencies): (api: JsonRoute) => void {
  return (api) => registerCaseRoutes(api, deps);
}

/** The tab routes' `triage` and `extraRoutes` for the case view and its actions (one spread in tab-feature.ts). */
export function caseTabRoutes(deps: CaseRouteDependencies): { triage: CaseRouteDependencies; extraRoutes: ((api: JsonRoute) => void)[] } {
  return { triage: deps, extraRoutes: [caseRoutes(deps)] };
}
