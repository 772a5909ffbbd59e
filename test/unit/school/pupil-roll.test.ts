import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeUpnProblem, parseYearGroup, readRollCsv, readSdsRoll, RollFormatError, type RollReadResult } from '../../../school/pupil-roll';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '..', '..', 'fixtures', 'rolls', name));

/** Every data row is either a pupil or a rejection, and no row is counted twice. */
function expectEveryRowAccountedFor(result: RollReadResult, dataRows: number[]): void {
  const rows = [...result.pupils.map((p) => p.row), ...result.rejected.map((r) => r.row)].sort((a, b) => a - b);
  expect(rows).toEqual([...dataRows].sort((a, b) => a - b));
}

function readError(read: () => unknown): RollFormatError {
  try {
    read();
  } catch (error) {
    if (error instanceof RollFormatError) return error;
    throw error;
  }
  throw new Error('Expected a RollFormatError, but the roll was read.');
}

describe('readRollCsv', () => {
  describe('a SIMS export with a UTF-8 BOM and CRLF line endings', () => {
    const bytes = fixture('sims-export.csv');
    const result = readRollCsv(bytes);

    it('is the awkward file it claims to be', () => {
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(bytes.toString('utf8')).toContain('\r\n');
    });

    it('reads every pupil and rejects none', () => {
      expect(result.rejected).toEqual([]);
      expect(result.pupils.map((p) => p.surname)).toEqual(['Thistledown', 'Brightwater', 'Kowalczyk-Fern', "O'Brannagh", 'Quillfeather']);
    });

    it('does not let the BOM spoil the first header', () => {
      expect(result.pupils[0]?.upn).toBe('M999000026001');
      expect(result.pupils[0]?.externalId).toBe('M999000026001');
    });

    it('numbers rows as a spreadsheet does, counting the blank line', () => {
      expect(result.pupils.map((p) => p.row)).toEqual([2, 3, 4, 6, 7]);
    });

    it('keeps a quoted comma and doubled quotes inside the field', () => {
      expect(result.pupils[1]?.registrationGroup).toBe('Class R, Robins');
      expect(result.pupils[4]?.registrationGroup).toBe('4 "Oak", Upper');
    });

    it('prefers the preferred forename and falls back to the legal one', () => {
      expect(result.pupils[0]?.forename).toBe('Millie');
      expect(result.pupils[1]?.forename).toBe('Zoë');
    });

    it('trims trailing whitespace', () => {
      expect(result.pupils[3]?.registrationGroup).toBe('2B');
      expect(result.pupils[4]?.surname).toBe('Quillfeather');
    });

    it('normalises each way of writing the year group', () => {
      expect(result.pupils.map((p) => p.yearGroup)).toEqual(['3', 'R', '6', '2', '4']);
    });

    it('keeps the admission number alongside the UPN', () => {
      expect(result.pupils[0]?.admissionNumber).toBe('001201');
    });
  });

  describe('an Arbor export with different headers and no UPN', () => {
    const result = readRollCsv(fixture('arbor-export.csv'));

    it('matches the headers and keys pupils on the admission number', () => {
      expect(result.rejected).toEqual([]);
      expect(result.pupils.map((p) => [p.externalId, p.forename, p.surname, p.yearGroup, p.registrationGroup])).toEqual([
        ['A1001', 'Theodore', 'Marchbank', 'R', 'RB'],
        ['A1002', 'Ziggy', 'Ashgrove', '1', '1A'],
        ['A1003', 'Persephone', 'Dunmore-Vale', 'N', 'N'],
        ['A1004', 'Ottilie', 'Brackenridge', undefined, 'N'],
      ]);
      expect(result.pupils[0]?.upn).toBeUndefined();
    });

    it('takes a four-digit cohort as its last two digits, and only when the column gives one', () => {
      expect(result.pupils.map((p) => p.cohort)).toEqual([undefined, undefined, undefined, '28']);
    });
  });

  describe('header aliases', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['Forename,Surname,Adno', 'Ada,Lovelock,7', { forename: 'Ada', surname: 'Lovelock', admissionNumber: '7' }],
      ['First Name,Last Name,MIS ID', 'Ada,Lovelock,7', { forename: 'Ada', surname: 'Lovelock', admissionNumber: '7' }],
      ['Legal Forename,Legal Surname,Pupil ID', 'Ada,Lovelock,7', { forename: 'Ada', surname: 'Lovelock', admissionNumber: '7' }],
      ['Preferred Forename,Family Name,Admission Number', 'Ada,Lovelock,7', { forename: 'Ada', surname: 'Lovelock', admissionNumber: '7' }],
      ['Given Name,Surname,UPN', 'Ada,Lovelock,M999000026001', { forename: 'Ada', upn: 'M999000026001', externalId: 'M999000026001' }],
      ['Forename,Surname,Unique Pupil Number', 'Ada,Lovelock,m999000026001', { upn: 'M999000026001' }],
      ['FORENAME ,  surname,ADNO', 'Ada,Lovelock,7', { forename: 'Ada', surname: 'Lovelock' }],
      ['forename,surname,adno,Year', 'Ada,Lovelock,7,Y5', { yearGroup: '5' }],
      ['forename,surname,adno,Year Group', 'Ada,Lovelock,7,5', { yearGroup: '5' }],
      ['forename,surname,adno,NC Year', 'Ada,Lovelock,7,5', { yearGroup: '5' }],
      ['forename,surname,adno,National Curriculum Year', 'Ada,Lovelock,7,5', { yearGroup: '5' }],
      ['forename,surname,adno,Reg Group', 'Ada,Lovelock,7,5L', { registrationGroup: '5L' }],
      ['forename,surname,adno,Reg. Group', 'Ada,Lovelock,7,5L', { registrationGroup: '5L' }],
      ['forename,surname,adno,Registration Group', 'Ada,Lovelock,7,5L', { registrationGroup: '5L' }],
      ['forename,surname,adno,Class', 'Ada,Lovelock,7,Willow', { registrationGroup: 'Willow' }],
      ['forename,surname,adno,Form', 'Ada,Lovelock,7,5L', { registrationGroup: '5L' }],
      ['forename,surname,adno,Cohort', 'Ada,Lovelock,7,21', { cohort: '21' }],
    ];
    it.each(cases)('when the headers are "%s", reads the row', (header, row, expected) => {
      const result = readRollCsv(`${header}\n${row}\n`);
      expect(result.rejected).toEqual([]);
      expect(result.pupils[0]).toMatchObject(expected);
    });

    it('when a file has both a legal and a preferred forename, the preferred one wins', () => {
      const result = readRollCsv('Legal Forename,Preferred Forename,Legal Surname,Preferred Surname,Adno\nAlexandra,Sasha,Pennington,Penn,1\nBenedict,,Ashby,,2\n');
      expect(result.pupils.map((p) => `${p.forename} ${p.surname}`)).toEqual(['Sasha Penn', 'Benedict Ashby']);
    });

    it('when a title line sits above the header, finds the header and still numbers rows as a spreadsheet does', () => {
      const result = readRollCsv('Pupil list printed 02/09/2026\n\nForename,Surname,Adno\nAda,Lovelock,7\n');
      expect(result.pupils).toEqual([{ row: 4, externalId: '7', admissionNumber: '7', forename: 'Ada', surname: 'Lovelock' }]);
    });
  });

  describe('whole-file problems', () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['an empty file', '', /empty/],
      ['only a BOM and blank lines', '\uFEFF\r\n\r\n', /empty/],
      ['no surname column', 'Forename,Year,UPN\nAda,3,M999000026001\n', /surname column[\s\S]*headers found were: Forename, Year, UPN/],
      ['no forename column', 'Surname,Adno\nLovelock,7\n', /forename column/],
      ['no identifier column', 'Forename,Surname\nAda,Lovelock\n', /identifier column.*UPN/],
      ['two surname columns', 'Forename,Surname,Surname,Adno\nAda,Lovelock,Lovelace,7\n', /2 columns headed "Surname"/],
      ['an unclosed quote', 'Forename,Surname,Adno\nAda,Lovelock,7\n"Bea,Quill,8\nCal,Moss,9\n', /starts on line 3 is never closed/],
    ];
    it.each(cases)('when the roll has %s, throws a RollFormatError that says what to fix', (_name, csv, message) => {
      const error = readError(() => readRollCsv(csv));
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/\.$/);
    });
  });

  describe('rows that cannot become pupils', () => {
    const result = readRollCsv(fixture('roll-with-problems.csv'));
    const reasonFor = (row: number): string => result.rejected.find((r) => r.row === row)?.reason ?? '';

    it('accounts for every data row, as a pupil or a rejection', () => {
      expectEveryRowAccountedFor(result, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(result.pupils.map((p) => p.row)).toEqual([2, 10]);
    });

    const cases: Array<[string, number, RegExp]> = [
      ['a missing surname', 3, /^Row 3: add the pupil's surname\.$/],
      ['a UPN with the wrong check letter', 4, /^Row 4: .*UPN "X999000026099" has the wrong check letter \(it should start with T\)/],
      ['a UPN of the wrong length', 5, /^Row 5: .*UPN "A12345" is not a unique pupil number.*13 characters/],
      ['a year group that is not a primary year', 6, /^Row 6: .*year group "Year 9" is not one we recognise/],
      ['neither a UPN nor an admission number', 7, /^Row 7: add a UPN or an admission number/],
      ['the same UPN as an earlier row', 8, /^Row 8: this pupil is listed twice: row 2 has the same UPN P999000026012/],
      ['an unquoted comma in a name', 9, /^Row 9: it has 7 fields but the header has 6/],
    ];
    it.each(cases)('when a row has %s, rejects it with the row number and what to fix', (_name, row, reason) => {
      expect(reasonFor(row)).toMatch(reason);
    });

    it('names the rejected pupil by their id when there is one', () => {
      expect(result.rejected.find((r) => r.row === 8)?.externalId).toBe('P999000026012');
      expect(result.rejected.find((r) => r.row === 7)?.externalId).toBeUndefined();
    });

    it('lists every problem of a row in one reason', () => {
      const both = readRollCsv('Forename,Surname,UPN\n,,A1\n');
      expect(both.rejected[0]?.reason).toMatch(/forename.*surname.*UPN "A1"/);
    });

    it('when a pupil is listed twice by admission number, the second row is rejected naming the first', () => {
      const twice = readRollCsv('Forename,Surname,Adno\nAda,Lovelock,7\nBea,Quill,8\nAda,Lovelock,7\n');
      expect(twice.pupils.map((p) => p.row)).toEqual([2, 3]);
      expect(twice.rejected).toEqual([{ row: 4, externalId: '7', reason: expect.stringMatching(/row 2 has the same admission number 7/) }]);
    });

    it('when the first of two rows is rejected, the second is still a duplicate', () => {
      const twice = readRollCsv('Forename,Surname,Adno\nAda,,7\nAda,Lovelock,7\n');
      expect(twice.pupils).toEqual([]);
      expect(twice.rejected.map((r) => r.row)).toEqual([2, 3]);
    });

    it('when a quote sits inside an unquoted field, keeps it as written', () => {
      const quoted = readRollCsv('Forename,Surname,Adno\nJo "JJ",Lovelock,7\n');
      expect(quoted.pupils[0]?.forename).toBe('Jo "JJ"');
    });

    it('when a row leaves out trailing empty fields, reads it', () => {
      const short = readRollCsv('Forename,Surname,Adno,Year,Class\nAda,Lovelock,7\n');
      expect(short.pupils[0]).toMatchObject({ forename: 'Ada', externalId: '7' });
      expect(short.pupils[0]?.yearGroup).toBeUndefined();
    });

    it('when a row is only commas, treats it as blank', () => {
      const blank = readRollCsv('Forename,Surname,Adno\n,,\nAda,Lovelock,7\n');
      expect(blank.rejected).toEqual([]);
      expect(blank.pupils.map((p) => p.row)).toEqual([3]);
    });

    it('when the cohort is not a year, rejects the row', () => {
      const bad = readRollCsv('Forename,Surname,Adno,Cohort\nAda,Lovelock,7,twenty\n');
      expect(bad.rejected[0]?.reason).toMatch(/^Row 2: the cohort "twenty" should be the two-digit year/);
    });

    it('when a first-year nursery pupil has no cohort, rejects the row asking for one', () => {
      const bad = readRollCsv('Forename,Surname,Adno,Year\nAda,Lovelock,7,N1\n');
      expect(bad.rejected[0]?.reason).toMatch(/"N1" is two years before Reception; give the pupil a cohort/);
    });
  });

  describe('encodings', () => {
    it('when Excel saved the file as Windows-1252, still reads accented names', () => {
      const bytes = Buffer.concat([Buffer.from('Forename,Surname,Adno\nZo'), Buffer.from([0xeb]), Buffer.from(',Brightwater,1\n')]);
      expect(readRollCsv(bytes).pupils[0]?.forename).toBe('Zoë');
    });

    it('when the file is UTF-16 with a BOM, reads it', () => {
      const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Forename,Surname,Adno\r\nZoë,Brightwater,1\r\n', 'utf16le')]);
      expect(readRollCsv(bytes).pupils[0]).toMatchObject({ forename: 'Zoë', surname: 'Brightwater' });
    });

    it('when a string keeps its BOM, the first header still matches', () => {
      expect(readRollCsv('\uFEFFUPN,Forename,Surname\r\nM999000026001,Ada,Lovelock\r\n').pupils[0]?.upn).toBe('M999000026001');
    });
  });
});

describe('parseYearGroup', () => {
  const cases: Array<[string, string | undefined]> = [
    ['N', 'N'], ['Nursery', 'N'], ['N2', 'N'], ['FS1', 'N'],
    ['R', 'R'], ['Rec', 'R'], ['Reception', 'R'], ['YR', 'R'], ['Year R', 'R'], ['FS2', 'R'],
    ['1', '1'], ['01', '1'], ['Y3', '3'], ['Year 3', '3'], ['year3', '3'], ['Yr 4', '4'], ['NC Year 2', '2'], ['Year Group 6', '6'],
    ['Y7', '7'], ['8', '8'],
    ['Y9', undefined], ['10', undefined], ['0', undefined], ['N1', undefined], ['KS2', undefined], ['Year 3/4', undefined], ['Oak', undefined],
  ];
  it.each(cases)('reads "%s" as %s', (value, expected) => {
    expect(parseYearGroup(value)).toBe(expected);
  });
});

describe('describeUpnProblem', () => {
  const cases: Array<[string, RegExp | undefined]> = [
    ['M999000026001', undefined],
    ['L99900002601A', undefined],
    ['A999000026001', /wrong check letter \(it should start with M\)/],
    ['M99900002600', /13 characters/],
    ['M9990000260011', /13 characters/],
    ['9999000026001', /13 characters/],
    ['M99900002600I', /never uses/],
    ['M9990000260A1', /13 characters/],
  ];
  it.each(cases)('for "%s"', (upn, problem) => {
    const result = describeUpnProblem(upn);
    if (problem) expect(result).toMatch(problem);
    else expect(result).toBeUndefined();
  });
});

describe('readSdsRoll', () => {
  const result = readSdsRoll(fixture('sds-users.csv'), fixture('sds-roles.csv'));

  it('makes pupils of students only, keyed on the sourcedId', () => {
    expect(result.pupils.map((p) => [p.row, p.externalId, p.forename, p.surname, p.yearGroup])).toEqual([
      [2, 'stu-7001', 'Wilhelmina', 'Fairbrook', 'R'],
      [3, 'stu-7002', 'Caspian', 'Oakhollow', '3'],
      [5, 'stu-7003', 'Jupiter', 'Lindqvist', '1'],
    ]);
  });

  it('lists the teacher as skipped, not silently dropped', () => {
    expect(result.skipped).toEqual([{ row: 4, file: 'users.csv', externalId: 'tch-9001', reason: expect.stringMatching(/row 4 has no student role/) }]);
  });

  it('rejects a student with no familyName, a secondary-school grade, and a role for an unknown user', () => {
    expect(result.rejected.map((r) => [r.file, r.row])).toEqual([
      ['users.csv', 6],
      ['users.csv', 7],
      ['roles.csv', 9],
    ]);
    expect(result.rejected[0]?.reason).toMatch(/^users\.csv row 6: add the pupil's familyName\.$/);
    expect(result.rejected[1]?.reason).toMatch(/grade "09" on roles\.csv row 8 is not a primary or middle school year/);
    expect(result.rejected[2]?.reason).toMatch(/^roles\.csv row 9 gives a student role to "stu-7999", who is not in users\.csv/);
  });

  it('accounts for every users.csv row', () => {
    const rows = [...result.pupils, ...(result.skipped ?? []), ...result.rejected.filter((r) => r.file === 'users.csv')].map((r) => r.row).sort((a, b) => a - b);
    expect(rows).toEqual([2, 3, 4, 5, 6, 7]);
  });

  const grades: Array<[string, string | undefined]> = [
    ['PK', 'N'], ['PR', 'N'], ['TK', 'N'], ['KG', 'R'], ['K', 'R'], ['01', '1'], ['06', '6'], ['08', '8'], ['kg', 'R'], ['UG', undefined], ['Other', undefined], ['', undefined],
  ];
  it.each(grades)('maps the SDS grade "%s" to year group %s', (grade, yearGroup) => {
    const pair = readSdsRoll('sourcedId,username,givenName,familyName\ns1,,Ada,Lovelock\n', `userSourcedId,orgSourcedId,role,grade\ns1,o1,student,${grade}\n`);
    expect(pair.rejected).toEqual([]);
    expect(pair.pupils[0]?.yearGroup).toBe(yearGroup);
  });

  it.each(['IT', '09', '12', 'PS'])('rejects the SDS grade "%s", which is not a primary or middle school year', (grade) => {
    const pair = readSdsRoll('sourcedId,username,givenName,familyName\ns1,,Ada,Lovelock\n', `userSourcedId,orgSourcedId,role,grade\ns1,o1,student,${grade}\n`);
    expect(pair.pupils).toEqual([]);
    expect(pair.rejected[0]?.reason).toMatch(new RegExp(`grade "${grade}"`));
  });

  it('reads the role case-insensitively, as SDS does', () => {
    const pair = readSdsRoll('sourcedId,givenName,familyName\ns1,Ada,Lovelock\n', 'userSourcedId,role\ns1,Student\n');
    expect(pair.pupils).toHaveLength(1);
  });

  it('when users.csv lists a student twice, rejects the second naming the first', () => {
    const pair = readSdsRoll('sourcedId,givenName,familyName\ns1,Ada,Lovelock\ns1,Ada,Lovelock\n', 'userSourcedId,role\ns1,student\n');
    expect(pair.pupils.map((p) => p.row)).toEqual([2]);
    expect(pair.rejected[0]?.reason).toMatch(/^users\.csv row 3: this user is listed twice: row 2/);
  });

  it.each([
    ['users.csv', 'sourcedId,username,familyName\ns1,,Lovelock\n', 'userSourcedId,role\ns1,student\n', /users\.csv needs the column givenName/],
    ['roles.csv', 'sourcedId,givenName,familyName\ns1,Ada,Lovelock\n', 'userSourcedId,orgSourcedId\ns1,o1\n', /roles\.csv needs the column role/],
    ['an empty roles.csv', 'sourcedId,givenName,familyName\ns1,Ada,Lovelock\n', '', /roles\.csv is empty/],
  ])('when %s is missing what SDS requires, throws a RollFormatError naming the file', (_name, users, roles, message) => {
    expect(readError(() => readSdsRoll(users, roles)).message).toMatch(message);
  });
});
