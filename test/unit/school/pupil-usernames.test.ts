import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRollCsv, type RollPupil, type YearGroup } from '../../../school/pupil-roll';
import {
  academicYearStarting,
  assignUsernames,
  cohortFor,
  DEFAULT_USERNAME_PATTERN,
  describeUsernamePatternProblem,
  MAX_LOCAL_PART_LENGTH,
  normaliseNamePart,
  proposeUsername,
  resolveClash,
  type UsernameOptions,
} from '../../../school/pupil-usernames';

const options: UsernameOptions = { pattern: DEFAULT_USERNAME_PATTERN, domain: 'school.example.org', academicYearStart: 2026 };

function pupil(overrides: Partial<RollPupil> = {}): RollPupil {
  return { row: 2, externalId: 'M999000026001', forename: 'Ada', surname: 'Lovelock', yearGroup: '3', ...overrides };
}

function localPartOf(result: ReturnType<typeof proposeUsername>): string {
  if (!result.ok) throw new Error(`Expected a username, got: ${result.reason}`);
  return result.localPart;
}

function reasonOf(result: ReturnType<typeof proposeUsername>): string {
  if (result.ok) throw new Error(`Expected a rejection, got ${result.localPart}.`);
  return result.reason;
}

describe('normaliseNamePart', () => {
  const cases: Array<[string, string]> = [
    ['Zoë', 'zoe'],
    ['Łukasz', 'lukasz'],
    ['Ørjan', 'orjan'],
    ['Søren', 'soren'],
    ['Straßmann', 'strassmann'],
    ['Æsa', 'aesa'],
    ['Œnone', 'oenone'],
    ['Đurđa', 'durda'],
    ['İnce', 'ince'],
    ['Yıldız', 'yildiz'],
    ['Þóra', 'thora'],
    ['Żółkiewski', 'zolkiewski'],
    ['François', 'francois'],
    ['Siân', 'sian'],
    ['Nguyễn', 'nguyen'],
    ['ĲSBRAND', 'ijsbrand'],
    ['ﬁona', 'fiona'],
    ['Ａｍｙ', 'amy'],
    ["O'Brien", 'obrien'],
    ['O’Brien', 'obrien'],
    ['Mary-Jane', 'maryjane'],
    ['Anna Maria', 'annamaria'],
    ['de la Fontaine', 'delafontaine'],
    ['Henry 8', 'henry8'],
    ['!!!', ''],
    ['Анна', ''],
    ['  ', ''],
  ];
  it.each(cases)('turns "%s" into "%s"', (value, expected) => {
    expect(normaliseNamePart(value)).toBe(expected);
  });
});

describe('academicYearStarting', () => {
  const cases: Array<[string, number]> = [
    ['2026-08-31T12:00:00Z', 2025],
    ['2026-09-01T00:00:00Z', 2026],
    ['2026-08-31T23:30:00Z', 2026],
    ['2026-12-31T12:00:00Z', 2026],
    ['2027-01-01T12:00:00Z', 2026],
    ['2027-07-22T12:00:00Z', 2026],
  ];
  it.each(cases)('on %s the academic year began in %i (1 September, UK time)', (iso, expected) => {
    expect(academicYearStarting(new Date(iso))).toBe(expected);
  });
});

describe('cohortFor', () => {
  const boundary: Array<[YearGroup, string, string]> = [
    ['N', '26', '27'],
    ['R', '25', '26'],
    ['1', '24', '25'],
    ['2', '23', '24'],
    ['3', '22', '23'],
    ['4', '21', '22'],
    ['5', '20', '21'],
    ['6', '19', '20'],
    ['7', '18', '19'],
    ['8', '17', '18'],
  ];
  it.each(boundary)('a pupil listed in year %s is cohort %s on 31 August 2026 and %s on 1 September 2026', (yearGroup, before, after) => {
    expect(cohortFor(yearGroup, academicYearStarting(new Date('2026-08-31T12:00:00Z')))).toBe(before);
    expect(cohortFor(yearGroup, academicYearStarting(new Date('2026-09-01T12:00:00Z')))).toBe(after);
  });

  it.each([
    ['N', 2099, '00'],
    ['8', 2005, '97'],
    ['R', 2009, '09'],
  ] as Array<[YearGroup, number, string]>)('keeps two digits across a century: year %s in %i is %s', (yearGroup, start, expected) => {
    expect(cohortFor(yearGroup, start)).toBe(expected);
  });
});

describe('proposeUsername', () => {
  const names: Array<[string, Partial<RollPupil>, string]> = [
    ['the default pattern is cohort, forename and surname initial', { forename: 'Ada', surname: 'Lovelock', yearGroup: '3' }, '23adal'],
    ["a pupil's name has an apostrophe, the username drops it", { forename: "D'Arcy", surname: "O'Brannagh" }, '23darcyo'],
    ["a pupil's name has a hyphen, the username drops it", { forename: 'Mary-Jane', surname: 'Kowalczyk-Fern' }, '23maryjanek'],
    ["a pupil's name has spaces, the username drops them", { forename: 'Anna Maria', surname: 'de la Fontaine' }, '23annamariad'],
    ["a pupil's name has diacritics, the username transliterates them", { forename: 'Zoë', surname: 'Łaska' }, '23zoel'],
    ['the letter has no decomposition, the username uses its English spelling', { forename: 'Ørjan', surname: 'Þórsdóttir' }, '23orjant'],
    ['the surname starts with an accent, the initial is its plain letter', { forename: 'Ada', surname: 'Élan' }, '23adae'],
  ];
  it.each(names)('when %s', (_name, overrides, expected) => {
    expect(localPartOf(proposeUsername(pupil(overrides), options))).toBe(expected);
  });

  it('returns the full user principal name in the domain, lower-cased', () => {
    const result = proposeUsername(pupil(), { ...options, domain: ' School.Example.ORG ' });
    expect(result).toEqual({ ok: true, localPart: '23adal', userPrincipalName: '23adal@school.example.org', cohort: '23' });
  });

  it('when the forename has nothing a username can use, rejects the pupil with a reason naming the row', () => {
    expect(reasonOf(proposeUsername(pupil({ row: 9, forename: '!!!' }), options))).toMatch(/^Row 9: the forename "!!!" has no letters or digits/);
  });

  it('when the surname has nothing a username can use, rejects the pupil', () => {
    expect(reasonOf(proposeUsername(pupil({ surname: 'Анна' }), options))).toMatch(/the surname "Анна"/);
  });

  it('when the pattern does not use the surname, an unusable surname does not matter', () => {
    expect(localPartOf(proposeUsername(pupil({ surname: '---' }), { ...options, pattern: '{cohort}{forename}' }))).toBe('23ada');
  });

  it('when a pupil has no year group and no cohort, rejects them asking for one', () => {
    expect(reasonOf(proposeUsername(pupil({ row: 4, yearGroup: undefined }), options))).toMatch(/^Row 4 has no year group and no cohort/);
  });

  it("when the file gives a cohort, it wins over the year group; the option's override wins over both", () => {
    expect(localPartOf(proposeUsername(pupil({ yearGroup: undefined, cohort: '19' }), options))).toBe('19adal');
    expect(localPartOf(proposeUsername(pupil({ yearGroup: '3', cohort: '19' }), options))).toBe('19adal');
    expect(localPartOf(proposeUsername(pupil({ yearGroup: '3', cohort: '19' }), { ...options, cohortOverride: '05' }))).toBe('05adal');
  });

  it('when the cohort override is not two digits, says so', () => {
    expect(reasonOf(proposeUsername(pupil(), { ...options, cohortOverride: '2026' }))).toMatch(/cohort "2026" should be two digits/);
  });

  describe('long names', () => {
    const forename = 'Bartholomewtheodorealexanderfitzwilliammontgomerysebastianmaximilian';

    it('when a name is 70 characters, the local part stays within 64 and keeps the cohort and the initial', () => {
      expect(forename.length).toBeGreaterThanOrEqual(68);
      const localPart = localPartOf(proposeUsername(pupil({ forename, surname: 'Longmire' }), options));
      expect(localPart.length).toBeLessThanOrEqual(MAX_LOCAL_PART_LENGTH);
      expect(localPart.startsWith('23bartholomew')).toBe(true);
      expect(localPart.endsWith('l')).toBe(true);
    });

    it('leaves room for a clash suffix so that resolving a clash never cuts the name again', () => {
      const localPart = localPartOf(proposeUsername(pupil({ forename, surname: 'Longmire' }), options));
      const resolved = resolveClash(localPart, (c) => c === localPart);
      expect(resolved).toBe(`${localPart}2`);
      expect(resolved.length).toBeLessThanOrEqual(MAX_LOCAL_PART_LENGTH);
    });

    it('when the pattern has the whole surname and both names are long, shortens the forename first, then the surname', () => {
      const surname = 'Featherstonehaughcholmondeleymarjoribanksworthingtonfairweather';
      const localPart = localPartOf(proposeUsername(pupil({ forename, surname }), { ...options, pattern: '{cohort}{forename}.{surname}' }));
      expect(localPart.length).toBeLessThanOrEqual(MAX_LOCAL_PART_LENGTH);
      expect(localPart).toMatch(/^23b\.featherstone/);
      expect(localPart.length).toBeLessThan(`23b.${surname}`.length);
    });

    it('when only the forename is long, the surname is kept whole', () => {
      const localPart = localPartOf(proposeUsername(pupil({ forename, surname: 'Ng' }), { ...options, pattern: '{forename}.{surname}' }));
      expect(localPart.length).toBeLessThanOrEqual(MAX_LOCAL_PART_LENGTH);
      expect(localPart.endsWith('.ng')).toBe(true);
    });
  });

  describe('patterns', () => {
    const patterns: Array<[string, string]> = [
      ['{forename}.{surname}', 'ada.lovelock'],
      ['{surname}{forename}{cohort}', 'lovelockada23'],
      ['p{cohort}-{forename}_{surnameInitial}', 'p23-ada_l'],
      ['{cohort}{forename}{surname}', '23adalovelock'],
    ];
    it.each(patterns)('when the school changes the pattern to %s, builds %s', (pattern, expected) => {
      expect(localPartOf(proposeUsername(pupil(), { ...options, pattern }))).toBe(expected);
    });

    const bad: Array<[string, RegExp]> = [
      ['{firstname}{surnameInitial}', /uses \{firstname\}/],
      ['{cohort}', /needs \{forename\} or \{surname\}/],
      ['Pupil{forename}', /characters a username cannot use/],
      ['{forename} {surname}', /characters a username cannot use/],
      ['.{forename}', /start or end a username with a dot/],
      ['{forename}..{surname}', /two dots together/],
    ];
    it.each(bad)('when the pattern is %s, says what is wrong with it', (pattern, problem) => {
      expect(describeUsernamePatternProblem(pattern)).toMatch(problem);
      expect(reasonOf(proposeUsername(pupil(), { ...options, pattern }))).toMatch(problem);
    });

    it('accepts the default pattern', () => {
      expect(describeUsernamePatternProblem(DEFAULT_USERNAME_PATTERN)).toBeUndefined();
    });
  });

  it.each(['school', 'school..example.org', 'user@school.example.org', `${'a'.repeat(45)}.org`])('when the domain is "%s", rejects it', (domain) => {
    expect(reasonOf(proposeUsername(pupil(), { ...options, domain }))).toMatch(/is not a domain name/);
  });
});

describe('resolveClash', () => {
  const cases: Array<[string, string[], string]> = [
    ['when the username is free, keeps it', [], '23adal'],
    ['when the username is taken, appends 2', ['23adal'], '23adal2'],
    ['when 2 is taken too, appends 3', ['23adal', '23adal2'], '23adal3'],
    ['when a gap is free, takes the first free number', ['23adal', '23adal2', '23adal4'], '23adal3'],
  ];
  it.each(cases)('%s', (_name, taken, expected) => {
    expect(resolveClash('23adal', (c) => taken.includes(c))).toBe(expected);
  });

  it('when the username is already 64 characters, cuts it so the suffix fits', () => {
    const full = 'a'.repeat(64);
    const taken = new Set([full, `${'a'.repeat(63)}2`]);
    const resolved = resolveClash(full, (c) => taken.has(c));
    expect(resolved).toBe(`${'a'.repeat(63)}3`);
    expect(resolved).toHaveLength(64);
  });

  it('when the suffix grows to two digits, still stays within 64 characters', () => {
    const base = 'b'.repeat(64);
    const resolved = resolveClash(base, (c) => !c.endsWith('10'));
    expect(resolved).toBe(`${'b'.repeat(62)}10`);
  });
});

describe('assignUsernames', () => {
  const roll: RollPupil[] = [
    pupil({ row: 2, externalId: 'A1', forename: 'Ada', surname: 'Lovelock' }),
    pupil({ row: 3, externalId: 'A2', forename: 'Ada', surname: 'Lambert' }),
    pupil({ row: 4, externalId: 'A3', forename: 'Ada', surname: 'Linden' }),
  ];
  const upns = (result: ReturnType<typeof assignUsernames>): string[] => result.assigned.map((a) => a.userPrincipalName);

  it('when names clash within the roll, earlier rows get the plain username and later ones 2, 3', () => {
    expect(upns(assignUsernames(roll, { ...options, existing: [] }))).toEqual(['23adal@school.example.org', '23adal2@school.example.org', '23adal3@school.example.org']);
  });

  it('when the pupils arrive out of order, still gives the plain username to the earliest row', () => {
    const result = assignUsernames([...roll].reverse(), { ...options, existing: [] });
    expect(result.assigned.map((a) => [a.externalId, a.userPrincipalName])).toEqual([
      ['A1', '23adal@school.example.org'],
      ['A2', '23adal2@school.example.org'],
      ['A3', '23adal3@school.example.org'],
    ]);
  });

  it('when an account already exists with the username, the pupil gets the next number', () => {
    expect(upns(assignUsernames(roll.slice(0, 1), { ...options, existing: ['23adal'] }))).toEqual(['23adal2@school.example.org']);
  });

  it('compares existing usernames case-insensitively, as local parts or full UPNs', () => {
    const result = assignUsernames(roll, { ...options, existing: ['23ADAL@School.Example.org', '23AdaL2'] });
    expect(upns(result)).toEqual(['23adal3@school.example.org', '23adal4@school.example.org', '23adal5@school.example.org']);
  });

  it('when an existing account is in another domain, it does not clash', () => {
    expect(upns(assignUsernames(roll.slice(0, 1), { ...options, existing: ['23adal@other.example.org'] }))).toEqual(['23adal@school.example.org']);
  });

  it("when a pupil is re-imported, keeps the pupil's existing username instead of making a new one", () => {
    const keep = new Map([['A2', '23adal@school.example.org']]);
    const result = assignUsernames(roll, { ...options, existing: ['23adal@school.example.org'], keep });
    expect(result.assigned.map((a) => [a.externalId, a.userPrincipalName])).toEqual([
      ['A1', '23adal2@school.example.org'],
      ['A2', '23adal@school.example.org'],
      ['A3', '23adal3@school.example.org'],
    ]);
  });

  it('when a kept username belongs to a later row, an earlier new pupil does not take it', () => {
    const keep = new Map([['A3', '23adal2@school.example.org']]);
    const result = assignUsernames(roll, { ...options, existing: [], keep });
    expect(result.assigned.map((a) => [a.externalId, a.userPrincipalName])).toEqual([
      ['A1', '23adal@school.example.org'],
      ['A2', '23adal3@school.example.org'],
      ['A3', '23adal2@school.example.org'],
    ]);
  });

  it('a kept username stays as it is even when the pattern has changed', () => {
    const keep = new Map([['A1', 'ada.lovelock@school.example.org']]);
    const result = assignUsernames(roll.slice(0, 1), { ...options, existing: [], keep });
    expect(result.assigned).toEqual([{ externalId: 'A1', userPrincipalName: 'ada.lovelock@school.example.org', cohort: '23' }]);
  });

  it('when two pupils are recorded with the same kept username, rejects the second', () => {
    const keep = new Map([
      ['A1', '23adal@school.example.org'],
      ['A2', '23ADAL@school.example.org'],
    ]);
    const result = assignUsernames(roll.slice(0, 2), { ...options, existing: [], keep });
    expect(upns(result)).toEqual(['23adal@school.example.org']);
    expect(result.rejected).toEqual([{ row: 3, externalId: 'A2', reason: expect.stringMatching(/which row 2 already has/) }]);
  });

  it('when the same pupil is passed twice, rejects the second', () => {
    const result = assignUsernames([roll[0] as RollPupil, { ...(roll[0] as RollPupil), row: 9 }], { ...options, existing: [] });
    expect(upns(result)).toEqual(['23adal@school.example.org']);
    expect(result.rejected[0]).toMatchObject({ row: 9, reason: expect.stringMatching(/same pupil as row 2/) });
  });

  it('rejects a pupil whose username cannot be built, and still assigns the others', () => {
    const result = assignUsernames([...roll, pupil({ row: 5, externalId: 'A4', forename: '???' })], { ...options, existing: [] });
    expect(result.assigned).toHaveLength(3);
    expect(result.rejected).toEqual([{ row: 5, externalId: 'A4', reason: expect.stringMatching(/^Row 5: the forename "\?\?\?"/) }]);
  });

  it('when a kept pupil has no year group or cohort, rejects them because their cohort group is unknown', () => {
    const keep = new Map([['A1', '23adal@school.example.org']]);
    const result = assignUsernames([pupil({ externalId: 'A1', yearGroup: undefined })], { ...options, existing: [], keep });
    expect(result.assigned).toEqual([]);
    expect(result.rejected[0]?.reason).toMatch(/no year group and no cohort/);
  });

  it('gives the awkward-names fixture the usernames a teacher would expect', () => {
    const { pupils, rejected } = readRollCsv(readFileSync(join(__dirname, '..', '..', 'fixtures', 'rolls', 'awkward-names.csv')));
    expect(rejected).toEqual([]);
    const result = assignUsernames(pupils, { ...options, existing: [] });
    const localParts = result.assigned.map((a) => a.userPrincipalName.split('@')[0]);
    expect(localParts.slice(0, 7)).toEqual(['25zoen', '24lukaszz', '23orjans', '22maryjaneo', '21annamariad', '20aesas', '26durdai']);
    expect(localParts[7]).toMatch(/^23bartholomew[a-z]+l$/);
    expect(localParts[7]?.length).toBeLessThanOrEqual(MAX_LOCAL_PART_LENGTH);
    expect(result.rejected.map((r) => r.row)).toEqual([9]);
    expect(result.assigned.length + result.rejected.length).toBe(pupils.length);
  });
});

describe('assignUsernames on a roll where many pupils share a name', () => {
  const twins = (count: number): RollPupil[] =>
    Array.from({ length: count }, (_, i) => pupil({ row: i + 2, externalId: `M${String(i).padStart(9, '0')}`, forename: 'Ada', surname: 'Lovelock' }));

  it('looks at each candidate username about once, so the work grows linearly with the roll', () => {
    const lookups = (count: number): number => {
      const has = jest.spyOn(Set.prototype, 'has');
      try {
        assignUsernames(twins(count), { ...options, existing: [] });
        return has.mock.calls.length;
      } finally {
        has.mockRestore();
      }
    };
    const small = lookups(500);
    const large = lookups(5_000);
    // Ten times the pupils costs about ten times the lookups; the old search from 2 for every pupil cost ~100 times.
    expect(large).toBeLessThan(small * 15);
    expect(large).toBeLessThan(5_000 * 10);
  });

  it('gives 20,000 pupils with one name a username each, in row order, skipping one already taken', () => {
    const result = assignUsernames(twins(20_000), { ...options, existing: ['23adal5'] });
    expect(result.rejected).toEqual([]);
    const localParts = result.assigned.map((a) => a.userPrincipalName.split('@')[0]);
    expect(localParts.slice(0, 5)).toEqual(['23adal', '23adal2', '23adal3', '23adal4', '23adal6']);
    expect(localParts.at(-1)).toBe('23adal20001');
    expect(new Set(localParts).size).toBe(20_000);
  });

  it('when a name runs out of suffixes, rejects that row and carries on with the rest', () => {
    const existing = ['23adal', ...Array.from({ length: 99_998 }, (_, i) => `23adal${i + 2}`)];
    const result = assignUsernames([...twins(1), pupil({ row: 3, externalId: 'B1', forename: 'Bo', surname: 'Lee' })], { ...options, existing });
    expect(result.rejected).toEqual([expect.objectContaining({ row: 2, reason: expect.stringMatching(/is taken; change the username pattern/) })]);
    expect(result.assigned.map((a) => a.userPrincipalName)).toEqual(['23bol@school.example.org']);
  });
});

describe('resolveClash with a known starting suffix', () => {
  it('starts the search at that suffix without asking about the ones below it', () => {
    const asked: string[] = [];
    expect(resolveClash('23adal', (c) => (asked.push(c), c === '23adal40'), 40)).toBe('23adal41');
    expect(asked).toEqual(['23adal40', '23adal41']);
  });
});
