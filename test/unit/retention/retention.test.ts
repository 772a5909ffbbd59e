import type { InvolvedParty } from '../../../school/incident-routing';
import fc from 'fast-check';
import { addYears, DEFAULT_RETENTION_RULE, isPastRetention, reportFloor, retentionDateFor, validateRetentionRule, type Retention, type RetentionRule } from '../../../school/retention';

const BIRTH_DATES = new Map([
  ['pupil-a', '2017-03-14'],
  ['pupil-b', '2019-11-02'],
  ['pupil-leap', '2016-02-29'],
  // 2017 typed as 1917.
  ['pupil-typo', '1917-03-14'],
]);

const pupil = (pupilId: string): InvolvedParty => ({ kind: 'pupil', pupilId });
const CREATED = '2026-03-02T09:00:00.000Z';
const SEVEN_YEARS: RetentionRule = { fallbackYears: 7, from: 'created' };
const SIX_AFTER_CLOSE: RetentionRule = { fallbackYears: 6, from: 'closed' };

describe('retentionDateFor', () => {
  const cases: [string, { involved: InvolvedParty[]; createdAt?: string; closedAt?: string; rule?: RetentionRule }, Retention][] = [
    ['when the one pupil involved has a known date of birth, keeps the record until they are 25', { involved: [pupil('pupil-a')], rule: SEVEN_YEARS }, { date: '2042-03-14', basis: 'date-of-birth' }],
    ['when every pupil has a known date of birth, keeps it until the youngest is 25', { involved: [pupil('pupil-a'), pupil('pupil-b')], rule: SEVEN_YEARS }, { date: '2044-11-02', basis: 'date-of-birth' }],
    ['when a pupil has no date of birth, uses the school rule from the day it was reported', { involved: [pupil('pupil-a'), pupil('pupil-unknown')] }, { date: '2051-03-02', basis: 'school-rule' }],
    ['when the school rule would end before a known pupil is 25, keeps it until that pupil is 25', { involved: [pupil('pupil-b'), pupil('pupil-unknown')], rule: SEVEN_YEARS }, { date: '2044-11-02', basis: 'school-rule' }],
    ['when the school rule ends after every known pupil is 25, the school rule decides', { involved: [pupil('pupil-a'), { kind: 'pupil-unlisted' }] }, { date: '2051-03-02', basis: 'school-rule' }],
    ['when the pupil is not on the register, uses the school rule', { involved: [{ kind: 'pupil-unlisted' }], rule: SEVEN_YEARS }, { date: '2033-03-02', basis: 'school-rule' }],
    ['when the concern is about a member of staff, uses the school rule', { involved: [{ kind: 'staff' }], rule: SEVEN_YEARS }, { date: '2033-03-02', basis: 'school-rule' }],
    ['when a member of staff is named alongside a pupil, uses the school rule but never ends before the pupil is 25', { involved: [pupil('pupil-b'), { kind: 'staff' }], rule: SEVEN_YEARS }, { date: '2044-11-02', basis: 'school-rule' }],
    ['when a visitor is named alongside a pupil, uses the school rule', { involved: [pupil('pupil-a'), { kind: 'visitor' }], rule: SEVEN_YEARS }, { date: '2042-03-14', basis: 'school-rule' }],
    ['when no one is named, uses the school rule', { involved: [], rule: SEVEN_YEARS }, { date: '2033-03-02', basis: 'school-rule' }],
    ['when the school rule counts from closure and the incident is open, it has no date yet', { involved: [{ kind: 'staff' }], rule: SIX_AFTER_CLOSE }, { date: undefined, basis: 'school-rule' }],
    ['when the school rule counts from closure, counts from the day it closed', { involved: [{ kind: 'staff' }], closedAt: '2027-07-20T10:00:00.000Z', rule: SIX_AFTER_CLOSE }, { date: '2033-07-20', basis: 'school-rule' }],
    ['when the school rule counts from closure, dates of birth still decide if every pupil has one', { involved: [pupil('pupil-a')], rule: SIX_AFTER_CLOSE }, { date: '2042-03-14', basis: 'date-of-birth' }],
    ['when the concern was reported late on a British Summer Time evening, counts from the UK day', { involved: [{ kind: 'unknown' }], createdAt: '2026-03-31T23:30:00.000Z', rule: SEVEN_YEARS }, { date: '2033-04-01', basis: 'school-rule' }],
    ['when a pupil was born on 29 February, keeps the record until 1 March of their 25th year', { involved: [pupil('pupil-leap')], rule: SEVEN_YEARS }, { date: '2041-03-01', basis: 'date-of-birth' }],
    ['with the default rule, the report date plus 25 years decides even when the date of birth is known (it is always later)', { involved: [pupil('pupil-a')] }, { date: '2051-03-02', basis: 'school-rule' }],
    ['when a date of birth was typed a century early, the record is kept until the report date plus the fallback, not past retention at once', { involved: [pupil('pupil-typo')], rule: SEVEN_YEARS }, { date: '2033-03-02', basis: 'school-rule' }],
    ['when a date of birth was typed early and the rule counts from closure, the open incident is still kept until the report date plus the fallback', { involved: [pupil('pupil-typo')], rule: SIX_AFTER_CLOSE }, { date: '2032-03-02', basis: 'school-rule' }],
    ['when one of two pupils has a date of birth typed early, the other pupil\'s date of birth still decides', { involved: [pupil('pupil-typo'), pupil('pupil-b')], rule: SEVEN_YEARS }, { date: '2044-11-02', basis: 'date-of-birth' }],
  ];

  it.each(cases)('%s', (_name, input, expected) => {
    const facts = { involved: input.involved, createdAt: input.createdAt ?? CREATED, closedAt: input.closedAt };
    expect(retentionDateFor(facts, BIRTH_DATES, input.rule ?? DEFAULT_RETENTION_RULE)).toEqual(expected);
  });

  it('by default, not knowing a date of birth never keeps a record for less time than knowing it would', () => {
    const known = retentionDateFor({ involved: [pupil('pupil-a')], createdAt: CREATED }, BIRTH_DATES, DEFAULT_RETENTION_RULE);
    const unknown = retentionDateFor({ involved: [pupil('pupil-a')], createdAt: CREATED }, new Map(), DEFAULT_RETENTION_RULE);
    expect(unknown.date! >= known.date!).toBe(true);
  });
});

describe('the report-date floor', () => {
  it('whatever the dates of birth, the parties and the rule, no retention date is earlier than the report date plus the fallback', () => {
    const day = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    const party = fc.oneof(
      fc.constantFrom('p1', 'p2', 'p3').map((pupilId): InvolvedParty => ({ kind: 'pupil', pupilId })),
      fc.constantFrom<InvolvedParty>({ kind: 'staff' }, { kind: 'visitor' }, { kind: 'pupil-unlisted' }),
    );
    fc.assert(
      fc.property(
        fc.array(party, { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('p1', 'p2', 'p3'), day),
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom<RetentionRule['from']>('created', 'closed'),
        (involved, births, created, fallbackYears, from) => {
          const rule = { fallbackYears, from };
          const createdAt = created.toISOString();
          const result = retentionDateFor({ involved, createdAt, closedAt: undefined }, new Map(Object.entries(births)), rule);
          if (result.date !== undefined) expect(result.date >= reportFloor(createdAt, rule)).toBe(true);
        },
      ),
    );
  });
});

describe('isPastRetention', () => {
  const cases: [string, { retentionDate?: string; legalHold?: boolean }, string, boolean][] = [
    ['on the retention date itself, the record is still kept', { retentionDate: '2042-03-14' }, '2042-03-14T12:00:00.000Z', false],
    ['the day after the retention date, it is past', { retentionDate: '2042-03-14' }, '2042-03-15T08:00:00.000Z', true],
    ['just after midnight UK time in summer, the UK day has already turned', { retentionDate: '2042-06-30' }, '2042-06-30T23:30:00.000Z', true],
    ['years later, it is past', { retentionDate: '2042-03-14' }, '2050-01-01T00:00:00.000Z', true],
    ['on legal hold, it is never past', { retentionDate: '2042-03-14', legalHold: true }, '2050-01-01T00:00:00.000Z', false],
    ['with no retention date yet, it is never past', {}, '2099-01-01T00:00:00.000Z', false],
  ];

  it.each(cases)('%s', (_name, incident, now, expected) => {
    expect(isPastRetention(incident, new Date(now))).toBe(expected);
  });
});

describe('addYears', () => {
  it.each([
    ['2017-03-14', 25, '2042-03-14'],
    ['2016-02-29', 25, '2041-03-01'],
    ['2016-02-29', 4, '2020-02-29'],
    ['2026-12-31', 7, '2033-12-31'],
  ])('%s plus %d years is %s', (day, years, expected) => {
    expect(addYears(day, years)).toBe(expected);
  });
});

describe('validateRetentionRule', () => {
  it.each([
    [{ fallbackYears: 25, from: 'created' }, 0],
    [{ fallbackYears: 6, from: 'closed' }, 0],
    [{ fallbackYears: 0, from: 'created' }, 1],
    [{ fallbackYears: 6.5, from: 'created' }, 1],
    [{ fallbackYears: 101, from: 'created' }, 1],
    [{ fallbackYears: 6, from: 'opened' }, 1],
    [{ fallbackYears: Number.NaN, from: 'later' }, 2],
  ])('%j has %d problems', (rule, count) => {
    expect(validateRetentionRule(rule as RetentionRule)).toHaveLength(count);
  });

  it('the default rule is valid', () => {
    expect(validateRetentionRule(DEFAULT_RETENTION_RULE)).toEqual([]);
  });
});
