import { describeImplausibleBirthDate, pupilAgeBirthRange, yearGroupBirthRange } from '../../../school/birth-date-plausibility';
import { readRollCsv, readSdsRoll, type YearGroup } from '../../../school/pupil-roll';

/** A day in the academic year 2026/27. */
const TODAY = new Date('2026-12-03T10:00:00Z');
const IN_2026 = { academicYearStart: 2026, today: TODAY };

describe('yearGroupBirthRange (academic year 2026/27, a year either side)', () => {
  it.each<[YearGroup, string, string]>([
    // Reception in 2026/27: born 1 September 2021 to 31 August 2022, so 2020-09-01 to 2023-08-31 with the tolerance.
    ['R', '2020-09-01', '2023-08-31'],
    ['N', '2021-09-01', '2024-08-31'],
    ['1', '2019-09-01', '2022-08-31'],
    ['3', '2017-09-01', '2020-08-31'],
    ['6', '2014-09-01', '2017-08-31'],
    ['8', '2012-09-01', '2015-08-31'],
  ])('%s: %s to %s', (yearGroup, earliest, latest) => {
    expect(yearGroupBirthRange(yearGroup, 2026)).toEqual({ earliest, latest });
  });
});

describe('describeImplausibleBirthDate', () => {
  it.each<[string, YearGroup | undefined, boolean]>([
    ['2019-03-14', '3', true], // usual for Year 3 in 2026/27 (born 2018/19)
    ['2018-09-01', '3', true], // the first day of the usual range
    ['2017-09-01', '3', true], // a year older: taught a year below their age
    ['2020-08-31', '3', true], // a year younger: moved up
    ['2017-08-31', '3', false], // two years older
    ['2020-09-01', '3', false], // two years younger
    ['1919-03-14', '3', false], // 2019 typed as 1919
    ['2091-03-14', '3', false], // 2019 typed as 2091
    ['2009-03-14', '3', false], // a decade early: would make the records due ten years early
    ['2019-03-14', undefined, true], // no year group: only the age is checked
    ['1919-03-14', undefined, false],
    ['2026-06-01', undefined, false], // six months old
    ['2010-01-01', undefined, false], // sixteen
  ])('%s for year group %s is plausible: %s', (dateOfBirth, yearGroup, plausible) => {
    expect(describeImplausibleBirthDate(dateOfBirth, yearGroup, IN_2026) === undefined).toBe(plausible);
  });

  it('without an academic year, a year group is not used and only the age is checked', () => {
    expect(describeImplausibleBirthDate('2015-03-14', '3', { today: TODAY })).toBeUndefined();
    expect(describeImplausibleBirthDate('2015-03-14', '3', IN_2026)).toMatch(/Year 3 in 2026\/27/);
  });

  it('says what was expected, the UK way, and that the date was not used', () => {
    expect(describeImplausibleBirthDate('1919-03-14', 'R', IN_2026)).toBe(
      'the date of birth 14 March 1919 is not plausible for a pupil in Reception in 2026/27 (expected between 1 September 2020 and 31 August 2023), so it has not been used: until it is corrected in the MIS, this pupil\'s records are kept by the school\'s retention rule',
    );
  });

  it('counts ages from a 29 February as from the 28th in other years', () => {
    expect(pupilAgeBirthRange('2028-02-29')).toEqual({ earliest: '2012-02-28', latest: '2027-02-28' });
  });
});

describe('the roll flags an implausible date of birth and does not use it', () => {
  const csv = ['UPN,Forename,Surname,Year,DOB', 'A1,Ada,Testpupil,3,14/03/2019', 'A2,Bea,Testpupil,3,14/03/1919', 'A3,Cal,Testpupil,R,02/11/2009'].join('\n');

  it('keeps every pupil, drops only the implausible dates, and lists each one with its row', () => {
    // Admission numbers rather than UPNs, so the check letters do not matter here.
    const result = readRollCsv(csv.replace('UPN', 'Adno'), IN_2026);
    expect(result.rejected).toEqual([]);
    expect(result.pupils.map((p) => [p.externalId, p.dateOfBirth])).toEqual([
      ['A1', '2019-03-14'],
      ['A2', undefined],
      ['A3', undefined],
    ]);
    expect(result.flagged?.map((f) => [f.row, f.externalId])).toEqual([
      [3, 'A2'],
      [4, 'A3'],
    ]);
    expect(result.flagged?.[0]?.reason).toMatch(/^Row 3: the date of birth 14 March 1919 is not plausible for a pupil in Year 3 in 2026\/27/);
  });

  it('does the same for an SDS export', () => {
    const users = ['sourcedId,username,givenName,familyName,birthDate', 'stu-1,,Ada,Testpupil,2019-03-14', 'stu-2,,Bea,Testpupil,1919-03-14'].join('\n');
    const roles = ['userSourcedId,orgSourcedId,role,grade,isPrimary', 'stu-1,school-1,student,03,TRUE', 'stu-2,school-1,student,03,TRUE'].join('\n');
    const result = readSdsRoll(users, roles, IN_2026);
    expect(result.pupils.map((p) => [p.externalId, p.dateOfBirth])).toEqual([
      ['stu-1', '2019-03-14'],
      ['stu-2', undefined],
    ]);
    expect(result.flagged).toEqual([{ row: 3, file: 'users.csv', externalId: 'stu-2', reason: expect.stringMatching(/^users\.csv row 3: the date of birth 14 March 1919/) }]);
  });
});
