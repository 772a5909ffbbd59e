import { DEFAULT_REPEAT_THRESHOLD, parseRepeatThreshold, pupilsAtThreshold, termOf } from '../../../school/repeat-incidents';

const about = (pupilId: string, occurredOn: string) => ({ occurredOn, involved: [{ kind: 'pupil', pupilId }, { kind: 'visitor' }] });

describe('repeated incidents in a term', () => {
  it.each([
    ['2026-09-01', 'Autumn term 2026'],
    ['2026-12-31', 'Autumn term 2026'],
    ['2027-01-01', 'Spring term 2027'],
    ['2027-03-31', 'Spring term 2027'],
    ['2027-04-01', 'Summer term 2027'],
    ['2027-08-31', 'Summer term 2027'],
  ])('puts %s in the %s', (date, label) => {
    expect(termOf(date).label).toBe(label);
  });

  it('flags a pupil at the threshold within one term, and not across terms or below it', () => {
    const incidents = [about('p1', '2026-09-10'), about('p1', '2026-10-02'), about('p1', '2026-12-18'), about('p1', '2027-01-05'), about('p2', '2026-09-10'), about('p2', '2026-09-11')];
    expect(DEFAULT_REPEAT_THRESHOLD).toBe(3);
    expect(pupilsAtThreshold(incidents, ['p1', 'p2'], '2026-11-01', 3)).toEqual([{ pupilId: 'p1', count: 3, term: termOf('2026-11-01') }]);
    expect(pupilsAtThreshold(incidents, ['p1'], '2027-02-01', 3)).toEqual([]);
    expect(pupilsAtThreshold(incidents, ['p2'], '2026-09-30', 2)).toEqual([{ pupilId: 'p2', count: 2, term: termOf('2026-09-30') }]);
    expect(pupilsAtThreshold(incidents, ['p2'], '2026-09-30', 3)).toEqual([]);
  });

  it('reads the school setting: a whole number from 2 to 20, 3 when unset', () => {
    expect(parseRepeatThreshold(undefined)).toEqual({ ok: true, threshold: 3 });
    expect(parseRepeatThreshold('5')).toEqual({ ok: true, threshold: 5 });
    for (const bad of ['1', '21', '2.5', 'three']) expect(parseRepeatThreshold(bad).ok).toBe(false);
  });
});
