import type { FeatureContext } from './feature';
import { peopleNamesFor } from './people-names';
import { TrainingStore } from '../records/training-store';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerTrainingRoutes } from '../tab/server/training-routes';
import type { Role } from '../school/roles';
import { DEFAULT_TRAINING_INTERVAL_MONTHS, trainingDueList } from '../school/training';
import { londonToday } from '../usecases/aup-paper-forms';
import type { TrainingFigures } from '../usecases/summarise-incidents';

/** The tab's training-register routes. */
export function trainingTabRoutes(context: FeatureContext): (api: JsonRoute) => void {
  const people = peopleNamesFor(context);
  return (api) => registerTrainingRoutes(api, { schoolId: context.config.school.id, store: new TrainingStore(context.tables), roles: context.roles, audit: context.audit, clock: context.clock, people });
}

/** The governors' summary's training figures: how many of the people tracked are up to date. */
export function trainingSummaryProvider(context: FeatureContext): (schoolId: string) => Promise<TrainingFigures> {
  const store = new TrainingStore(context.tables);
  return async (schoolId) => {
    const tracked = Object.keys(DEFAULT_TRAINING_INTERVAL_MONTHS) as Role[];
    const [records, members] = await Promise.all([store.listTraining(schoolId), Promise.all(tracked.map(async (role) => [role, await context.roles.listRoleMembers(role)] as const))]);
    const people = new Map<string, Role[]>();
    for (const [role, ids] of members) for (const id of ids) people.set(id.toLowerCase(), [...(people.get(id.toLowerCase()) ?? []), role]);
    const due = trainingDueList(records, people, londonToday(context.clock()));
    return { people: due.length, current: due.filter((d) => d.status === 'current').length };
  };
}

/** The annual audit's training evidence: coverage, and each course with its date and how many took it. */
export function trainingAuditEvidence(context: FeatureContext): (schoolId: string) => Promise<TrainingFigures & { courses: { course: string; provider: string; completedOn: string; people: number }[] }> {
  const coverage = trainingSummaryProvider(context);
  const store = new TrainingStore(context.tables);
  return async (schoolId) => {
    const [figures, records] = await Promise.all([coverage(schoolId), store.listTraining(schoolId)]);
    const courses = new Map<string, { course: string; provider: string; completedOn: string; people: number }>();
    for (const r of records) {
      const key = JSON.stringify([r.course, r.provider, r.completedOn]);
      const entry = courses.get(key) ?? { course: r.course, provider: r.provider, completedOn: r.completedOn, people: 0 };
      entry.people++;
      courses.set(key, entry);
    }
    return { ...figures, courses: [...courses.values()].sort((a, b) => b.completedOn.localeCompare(a.completedOn)) };
  };
}
