import type { Role } from '../../../school/roles';
import { addMonths, checkTrainingRecord, trainingDueList, type TrainingRecord } from '../../../school/training';

const TODAY = '2026-11-23';
const ID = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const record = (id: string, completedOn: string): TrainingRecord => ({ aadObjectId: id, course: 'Online safety update', provider: 'Local authority', completedOn, recordedBy: 'x', recordedAt: 'x' });

describe('training renewal dates', () => {
  it.each([
    ['2025-11-23', 12, '2026-11-23'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2026-01-31', 1, '2026-02-28'],
    ['2026-10-15', 3, '2027-01-15'],
  ])('%s plus %i months is %s', (from, months, to) => {
    expect(addMonths(from, months)).toBe(to);
  });

  it('is due a year after the latest training, for staff and governors alike; never trained is due today', () => {
    const people = new Map<string, Role[]>([
      [ID(1), ['staff']],
      [ID(2), ['governor']],
      [ID(3), ['staff', 'dsl']],
      [ID(4), ['pupil']],
    ]);
    const due = trainingDueList([record(ID(1), '2025-11-23'), record(ID(1), '2024-01-10'), record(ID(2), '2026-09-01')], people, TODAY);
    expect(due).toEqual([
      { aadObjectId: ID(1), roles: ['staff'], lastCompletedOn: '2025-11-23', dueOn: '2026-11-23', status: 'due' },
      { aadObjectId: ID(3), roles: ['staff', 'dsl'], lastCompletedOn: null, dueOn: TODAY, status: 'never' },
      { aadObjectId: ID(2), roles: ['governor'], lastCompletedOn: '2026-09-01', dueOn: '2027-09-01', status: 'current' },
    ]);
  });

  it('uses the shortest interval of a person’s roles', () => {
    const due = trainingDueList([record(ID(5), '2026-06-01')], new Map([[ID(5), ['staff', 'dsl'] as Role[]]]), TODAY, { staff: 12, dsl: 6 });
    expect(due[0]).toMatchObject({ dueOn: '2026-12-01', status: 'current' });
  });

  it('lists every problem with a record', () => {
    expect(checkTrainingRecord({ aadObjectId: 'someone', course: '', completedOn: '2027-01-01' }, TODAY)).toEqual({
      problems: [expect.stringContaining('aadObjectId'), expect.stringContaining('course'), expect.stringContaining('provider'), expect.stringContaining('future')],
    });
  });
});
