import { parseDateOfBirth, readRollCsv, readSdsRoll } from '../../../school/pupil-roll';

const SDS_ROLES = ['userSourcedId,orgSourcedId,role,grade,isPrimary', 'stu-1,school-1,student,03,TRUE', 'stu-2,school-1,student,04,TRUE'].join('\n');

describe('parseDateOfBirth', () => {
  it.each([
    ['2018-03-07', '2018-03-07'],
    ['07/03/2018', '2018-03-07'],
    ['7/3/2018', '2018-03-07'],
    [' 29/02/2016 ', '2016-02-29'],
    ['2016-02-29', '2016-02-29'],
  ])('reads %j as %s', (value, expected) => {
    expect(parseDateOfBirth(value)).toBe(expected);
  });

  it.each([
    ['31/02/2018', 'a day the month does not have'],
    ['29/02/2017', '29 February in a year that has none'],
    ['2018-13-01', 'a thirteenth month'],
    ['12/25/2018', 'a US-style date with the month second'],
    ['2018/03/07', 'slashes in year-first order'],
    ['07-03-2018', 'dashes in day-first order'],
    ['07/03/18', 'a two-digit year'],
    ['01/01/1899', 'a year before 1900'],
    ['2018-03-07T00:00:00', 'a time as well as a date'],
    ['March 2018', 'words'],
  ])('rejects %j (%s)', (value) => {
    expect(parseDateOfBirth(value)).toBeUndefined();
  });
});

describe('readRollCsv with a date of birth column', () => {
  it.each(['DOB', 'Date of Birth', 'Birth Date', 'D.O.B.', 'date_of_birth'])('reads the column headed %j', (header) => {
    const result = readRollCsv(`Adno,Forename,Surname,Year,${header}\nA1,Ada,Testpupil,3,14/03/2017\n`);
    expect(result.rejected).toEqual([]);
    expect(result.pupils[0]?.dateOfBirth).toBe('2017-03-14');
  });

  it('reads UK and ISO dates in one file, and leaves a blank cell unknown', () => {
    const result = readRollCsv(['Adno,Forename,Surname,DOB', 'A1,Ada,Testpupil,14/03/2017', 'A2,Bea,Testpupil,2019-11-02', 'A3,Cal,Testpupil,'].join('\n'));
    expect(result.rejected).toEqual([]);
    expect(result.pupils.map((p) => [p.externalId, p.dateOfBirth])).toEqual([
      ['A1', '2017-03-14'],
      ['A2', '2019-11-02'],
      ['A3', undefined],
    ]);
    expect('dateOfBirth' in (result.pupils[2] ?? {})).toBe(false);
  });

  it('when the file has no date of birth column, no pupil has one', () => {
    const result = readRollCsv('Adno,Forename,Surname\nA1,Ada,Testpupil\n');
    expect(result.pupils).toHaveLength(1);
    expect(result.pupils[0]?.dateOfBirth).toBeUndefined();
  });

  it('when a date of birth cannot be read, rejects that row with a reason naming the row and the value, and keeps the others', () => {
    const result = readRollCsv(['Adno,Forename,Surname,Date of birth', 'A1,Ada,Testpupil,14/03/2017', 'A2,Bea,Testpupil,31/02/2018', 'A3,Cal,Testpupil,2019-11-02'].join('\n'));
    expect(result.pupils.map((p) => p.externalId)).toEqual(['A1', 'A3']);
    expect(result.rejected).toEqual([
      {
        row: 3,
        externalId: 'A2',
        reason: 'Row 3: the date of birth "31/02/2018" is not a date we can read; write it as DD/MM/YYYY (such as 07/03/2018) or YYYY-MM-DD (such as 2018-03-07).',
      },
    ]);
  });

  it('when a row has a bad date of birth and another problem, the reason lists both', () => {
    const result = readRollCsv('Adno,Forename,Surname,DOB\nA1,Ada,,next week\n');
    expect(result.rejected[0]?.reason).toBe(
      'Row 2: add the pupil\'s surname; the date of birth "next week" is not a date we can read; write it as DD/MM/YYYY (such as 07/03/2018) or YYYY-MM-DD (such as 2018-03-07).',
    );
  });
});

describe('readSdsRoll with a birthDate column', () => {
  it('reads birthDate from users.csv', () => {
    const users = ['sourcedId,username,givenName,familyName,birthDate', 'stu-1,,Ada,Testpupil,2017-03-14', 'stu-2,,Bea,Testpupil,'].join('\n');
    const result = readSdsRoll(users, SDS_ROLES);
    expect(result.rejected).toEqual([]);
    expect(result.pupils.map((p) => [p.externalId, p.dateOfBirth])).toEqual([
      ['stu-1', '2017-03-14'],
      ['stu-2', undefined],
    ]);
  });

  it('when a birthDate cannot be read, rejects that user with a reason naming the users.csv row', () => {
    const users = ['sourcedId,username,givenName,familyName,birthDate', 'stu-1,,Ada,Testpupil,2017-02-30', 'stu-2,,Bea,Testpupil,2019-11-02'].join('\n');
    const result = readSdsRoll(users, SDS_ROLES);
    expect(result.pupils.map((p) => p.externalId)).toEqual(['stu-2']);
    expect(result.rejected).toEqual([
      {
        row: 2,
        file: 'users.csv',
        externalId: 'stu-1',
        reason: 'users.csv row 2: the date of birth "2017-02-30" is not a date we can read; write it as DD/MM/YYYY (such as 07/03/2018) or YYYY-MM-DD (such as 2018-03-07).',
      },
    ]);
  });
});
