import type { Role } from './roles';

/** One completed piece of online-safety training (seed 000 Appendix 5 asks for the dates and details). */
export interface TrainingRecord {
  aadObjectId: string;
  course: string;
  provider: string;
  /** YYYY-MM-DD */
  completedOn: string;
  recordedBy: string;
  recordedAt: string;
}

/** Whose training the register tracks, and how often each role retrains (months). Governors are included. */
export const DEFAULT_TRAINING_INTERVAL_MONTHS: Readonly<Partial<Record<Role, number>>> = {
  staff: 12,
  coordinator: 12,
  dsl: 12,
  headteacher: 12,
  admin: 12,
  governor: 12,
  chair: 12,
};

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks `POST /api/training`'s body; every problem is listed. */
export function checkTrainingRecord(body: Record<string, unknown>, today: string): { record: Pick<TrainingRecord, 'aadObjectId' | 'course' | 'provider' | 'completedOn'> } | { problems: string[] } {
  const problems: string[] = [];
  const text = (key: string): string => (typeof body[key] === 'string' ? (body[key] as string).trim() : '');
  const aadObjectId = text('aadObjectId').toLowerCase();
  if (!OBJECT_ID.test(aadObjectId)) problems.push('aadObjectId must be the Entra object id (a GUID) of the person trained');
  const course = text('course');
  if (course.length < 2 || course.length > 200) problems.push('course must be 2 to 200 characters');
  const provider = text('provider');
  if (provider.length < 2 || provider.length > 200) problems.push('provider must be 2 to 200 characters');
  const completedOn = text('completedOn');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(completedOn) || Number.isNaN(Date.parse(`${completedOn}T00:00:00Z`))) problems.push('completedOn must be a date as YYYY-MM-DD');
  else if (completedOn > today) problems.push('completedOn cannot be in the future');
  return problems.length > 0 ? { problems } : { record: { aadObjectId, course, provider, completedOn } };
}

/** `date` plus `months`, clamped to the month's last day (31 January + 1 month = 28 or 29 February). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export interface TrainingDue {
  aadObjectId: string;
  roles: Role[];
  lastCompletedOn: string | null;
  /** When the next training is due; today when they have none on record. */
  dueOn: string;
  status: 'current' | 'due' | 'never';
}

/** Who is due: each tracked person's latest training plus their shortest role interval. */
export function trainingDueList(records: readonly TrainingRecord[], people: ReadonlyMap<string, readonly Role[]>, today: string, intervals: Readonly<Partial<Record<Role, number>>> = DEFAULT_TRAINING_INTERVAL_MONTHS): TrainingDue[] {
  const latest = new Map<string, string>();
  for (const r of records) if ((latest.get(r.aadObjectId) ?? '') < r.completedOn) latest.set(r.aadObjectId, r.completedOn);
  const out: TrainingDue[] = [];
  for (const [aadObjectId, roles] of people) {
    const months = roles.map((r) => intervals[r]).filter((n): n is number => n !== undefined);
    if (months.length === 0) continue;
    const last = latest.get(aadObjectId) ?? null;
    const dueOn = last ? addMonths(last, Math.min(...months)) : today;
    out.push({ aadObjectId, roles: [...roles], lastCompletedOn: last, dueOn, status: last === null ? 'never' : dueOn <= today ? 'due' : 'current' });
  }
  return out.sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.aadObjectId.localeCompare(b.aadObjectId));
}
