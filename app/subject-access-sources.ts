import type { FeatureContext } from './feature';
import { TrainingStore } from '../records/training-store';
import { formatUkDate } from '../school/uk-dates';
import type { PersonRecordSource } from '../usecases/subject-access';

/**
 * A member of staff's or governor's online-safety training for the subject access pack; pupils have none (the pack
 * says so). Reads the school's training register once: a request is rare and the register is small.
 */
export function trainingRecordSource(context: Pick<FeatureContext, 'tables'>): PersonRecordSource {
  const store = new TrainingStore(context.tables);
  return async (schoolId, person) => {
    if (person.kind !== 'staff') return [];
    const records = (await store.listTraining(schoolId)).filter((r) => r.aadObjectId === person.aadObjectId);
    return records
      .sort((a, b) => a.completedOn.localeCompare(b.completedOn))
      .map((r) => ({ Course: r.course, Provider: r.provider, Completed: formatUkDate(r.completedOn), 'Recorded on': formatUkDate(r.recordedAt.slice(0, 10)) }));
  };
}
