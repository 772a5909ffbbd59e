import { parse } from 'csv-parse/sync';
import type { PeopleNameSource } from '../identity/people-names';
import type { RoleDirectory } from '../identity/role-directory';
import type { AuditStore } from '../records/audit-store';
import type { TrainingStore } from '../records/training-store';
import { hasAnyRole, type Principal, type Role } from '../school/roles';
import { checkTrainingRecord, DEFAULT_TRAINING_INTERVAL_MONTHS, trainingDueList, type TrainingDue, type TrainingRecord } from '../school/training';
import { londonToday } from './aup-paper-forms';

export interface TrainingDependencies {
  schoolId: string;
  store: Pick<TrainingStore, 'recordTraining' | 'listTraining'>;
  roles: Pick<RoleDirectory, 'listRoleMembers'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
  /** Display names for the register (Graph in a tenant; role titles locally). Without it, people show by object id. */
  people?: PeopleNameSource;
}

/** The coordinator, the DSL and the head keep the training register. */
export const TRAINING_ROLES: readonly Role[] = ['coordinator', 'dsl', 'headteacher'];

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'forbidden' } | { kind: 'invalid'; problems: string[] };

async function denied(deps: TrainingDependencies, principal: Principal, action: string): Promise<{ kind: 'forbidden' }> {
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action, target: 'training', outcome: 'denied' });
  return { kind: 'forbidden' };
}

async function store(deps: TrainingDependencies, principal: Principal, record: Pick<TrainingRecord, 'aadObjectId' | 'course' | 'provider' | 'completedOn'>): Promise<{ created: boolean; record: TrainingRecord }> {
  return deps.store.recordTraining(deps.schoolId, { ...record, recordedBy: principal.aadObjectId, recordedAt: deps.clock().toISOString() });
}

/** Records one person's training (`POST /api/training`); the same course on the same day is stored once. */
export async function recordTraining(deps: TrainingDependencies, principal: Principal, body: Record<string, unknown>): Promise<Outcome<{ record: TrainingRecord; duplicate: boolean }>> {
  if (!hasAnyRole(principal, ...TRAINING_ROLES)) return denied(deps, principal, 'training.record');
  const checked = checkTrainingRecord(body, londonToday(deps.clock()));
  if ('problems' in checked) return { kind: 'invalid', problems: checked.problems };
  const { created, record } = await store(deps, principal, checked.record);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'training.record', target: `person:${record.aadObjectId}`, outcome: 'succeeded', details: { duplicate: !created } });
  return { kind: 'ok', value: { record, duplicate: !created } };
}

/** Records a CSV (columns aad_object_id, course, provider, completed_on); good rows are kept, bad ones named by line. */
export async function recordTrainingCsv(deps: TrainingDependencies, principal: Principal, csv: string): Promise<Outcome<{ recorded: number; alreadyRecorded: number; problems: { row: number; message: string }[] }>> {
  if (!hasAnyRole(principal, ...TRAINING_ROLES)) return denied(deps, principal, 'training.import');
  let rows: Record<string, string>[];
  try {
    rows = parse(csv.replace(/^\uFEFF/, ''), { columns: (h: string[]) => h.map((c) => c.toLowerCase().replace(/[\s_-]/g, '')), skip_empty_lines: true, trim: true, relax_column_count: true }) as Record<string, string>[];
  } catch {
    return { kind: 'invalid', problems: ['the file is not valid CSV'] };
  }
  const today = londonToday(deps.clock());
  const result = { recorded: 0, alreadyRecorded: 0, problems: [] as { row: number; message: string }[] };
  for (const [index, row] of rows.entries()) {
    const checked = checkTrainingRecord({ aadObjectId: row.aadobjectid ?? row.objectid, course: row.course, provider: row.provider, completedOn: row.completedon ?? row.date }, today);
    if ('problems' in checked) {
      result.problems.push({ row: index + 2, message: checked.problems.join('; ') });
      continue;
    }
    if ((await store(deps, principal, checked.record)).created) result.recorded++;
    else result.alreadyRecorded++;
  }
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'training.import', target: 'training', outcome: 'succeeded', details: { recorded: result.recorded, alreadyRecorded: result.alreadyRecorded, rejected: result.problems.length } });
  return { kind: 'ok', value: result };
}

/** The register (`GET /api/training`): every record, and who is due (annually per role by default, governors included). */
export async function listTraining(
  deps: TrainingDependencies,
  principal: Principal,
): Promise<Outcome<{ records: (TrainingRecord & { name?: string })[]; due: (TrainingDue & { name?: string })[] }>> {
  if (!hasAnyRole(principal, ...TRAINING_ROLES)) return denied(deps, principal, 'training.read');
  const tracked = Object.keys(DEFAULT_TRAINING_INTERVAL_MONTHS) as Role[];
  const [records, members] = await Promise.all([deps.store.listTraining(deps.schoolId), Promise.all(tracked.map(async (role) => [role, await deps.roles.listRoleMembers(role)] as const))]);
  const people = new Map<string, Role[]>();
  for (const [role, ids] of members) for (const id of ids) people.set(id.toLowerCase(), [...(people.get(id.toLowerCase()) ?? []), role]);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'training.read', target: 'training', outcome: 'succeeded' });
  const due = trainingDueList(records, people, londonToday(deps.clock()));
  // Names help the coordinator read the register; a directory that cannot answer leaves the object ids showing.
  const names = await (deps.people?.displayNames([...new Set([...due.map((d) => d.aadObjectId), ...records.map((r) => r.aadObjectId)])]) ?? Promise.resolve(new Map<string, string>())).catch(() => new Map<string, string>());
  const named = <T extends { aadObjectId: string }>(item: T): T & { name?: string } => {
    const name = names.get(item.aadObjectId);
    return name ? { ...item, name } : item;
  };
  return { kind: 'ok', value: { records: records.map(named), due: due.map(named) } };
}
