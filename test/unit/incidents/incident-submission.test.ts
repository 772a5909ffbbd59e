import { INCIDENT_TYPE_IDS } from '../../../school/incident-types';
import {
  INCIDENT_FIELDS,
  INCIDENT_LIMITS,
  parseInvolved,
  readIncidentForm,
  schoolDate,
  validateIncidentSubmission,
  type FieldProblem,
  type IncidentField,
  type IncidentFormValues,
  type IncidentSubmission,
} from '../../../school/incident-submission';

// 23:30 UTC on 29 March 2026 is 00:30 BST on 30 March in London: the clocks went forward that morning.
const NOW = new Date('2026-03-29T23:30:00Z');
const TODAY_IN_LONDON = '2026-03-30';
const knownPupilIds = new Set(['p-001', 'p-002', 'p-003']);

const good: IncidentFormValues = {
  occurredOn: '2026-03-27',
  occurredAt: '10:15',
  involved: 'pupil:p-001',
  location: 'Year 4 classroom, iPad 12',
  incidentType: 'inappropriate-website',
  description: 'A pupil opened a video site with a violent clip during the lesson.',
  actionTaken: 'Closed the tab and spoke to the pupil.',
  childProtection: 'false',
};

function validate(overrides: IncidentFormValues, options: { now?: Date; pupils?: ReadonlySet<string>; timeZone?: string } = {}) {
  return validateIncidentSubmission({ ...good, ...overrides }, { now: options.now ?? NOW, knownPupilIds: options.pupils ?? knownPupilIds, timeZone: options.timeZone });
}

function problemsFor(overrides: IncidentFormValues, options: Parameters<typeof validate>[1] = {}): FieldProblem[] {
  const result = validate(overrides, options);
  if (result.ok) throw new Error(`Expected problems for ${JSON.stringify(overrides)}, but the submission was accepted.`);
  return result.problems;
}

function submissionFor(overrides: IncidentFormValues, options: Parameters<typeof validate>[1] = {}): IncidentSubmission {
  const result = validate(overrides, options);
  if (!result.ok) throw new Error(`Expected a submission, got: ${result.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  return result.submission;
}

/** A date `days` days before `isoDate`, as YYYY-MM-DD. */
function daysBefore(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

describe('schoolDate', () => {
  const cases: Array<[string, string]> = [
    ['2026-03-29T23:30:00Z', '2026-03-30'], // BST began at 01:00 UTC that day
    ['2026-03-29T22:59:59Z', '2026-03-29'],
    ['2026-03-28T23:30:00Z', '2026-03-28'], // still GMT: London equals UTC
    ['2026-10-24T23:30:00Z', '2026-10-25'], // last night of BST
    ['2026-10-25T23:30:00Z', '2026-10-25'], // GMT again
    ['2026-12-31T23:59:59Z', '2026-12-31'],
    ['2026-06-30T23:00:00Z', '2026-07-01'],
  ];
  it.each(cases)('when it is %s, the London school date is %s', (instant, date) => {
    expect(schoolDate(new Date(instant))).toBe(date);
  });

  it('when given another time zone, uses it', () => {
    expect(schoolDate(NOW, 'UTC')).toBe('2026-03-29');
  });
});

describe('validateIncidentSubmission', () => {
  describe('when a required field is missing', () => {
    const required: Array<[IncidentField, string]> = [
      ['occurredOn', 'Enter the date'],
      ['involved', 'Choose who was involved'],
      ['incidentType', 'Choose the type'],
      ['description', 'Describe what happened'],
    ];
    it.each(required)('and it is %s, says so on that field only', (field, message) => {
      const problems = problemsFor({ [field]: undefined });
      expect(problems).toEqual([{ field, message: expect.stringContaining(message) }]);
    });

    it.each(required)('and %s holds only spaces, treats it as missing', (field, message) => {
      expect(problemsFor({ [field]: '   \n ' })).toEqual([{ field, message: expect.stringContaining(message) }]);
    });

    const optional: IncidentField[] = ['occurredAt', 'location', 'actionTaken', 'childProtection'];
    it.each(optional)('and it is the optional %s, accepts the report', (field) => {
      expect(validate({ [field]: undefined }).ok).toBe(true);
    });
  });

  describe('the date', () => {
    it('when the date is today in London though still yesterday in UTC, accepts it', () => {
      expect(submissionFor({ occurredOn: TODAY_IN_LONDON }).occurredOn).toBe(TODAY_IN_LONDON);
    });

    it('when the date is tomorrow in London, rejects it as in the future', () => {
      expect(problemsFor({ occurredOn: '2026-03-31' })).toEqual([{ field: 'occurredOn', message: expect.stringContaining('cannot be in the future') }]);
    });

    it('when the school is told to use UTC, the same date is in the future', () => {
      expect(problemsFor({ occurredOn: TODAY_IN_LONDON }, { timeZone: 'UTC' })).toEqual([
        { field: 'occurredOn', message: expect.stringContaining('cannot be in the future') },
      ]);
    });

    it('when it is still 29 March in London (22:59 UTC), 30 March is in the future', () => {
      expect(problemsFor({ occurredOn: '2026-03-30' }, { now: new Date('2026-03-29T22:59:00Z') })[0]!.field).toBe('occurredOn');
    });

    it('when the date is exactly a year ago, accepts it as a recent concern', () => {
      const yearAgo = `${Number(TODAY_IN_LONDON.slice(0, 4)) - 1}${TODAY_IN_LONDON.slice(4)}`;
      const submission = submissionFor({ occurredOn: yearAgo });
      expect(submission.occurredOn).toBe(yearAgo);
      expect(submission.historic).toBe(false);
    });

    it('when the date is more than a year ago, accepts it flagged as historic', () => {
      const submission = submissionFor({ occurredOn: daysBefore(TODAY_IN_LONDON, 367) });
      expect(submission.historic).toBe(true);
      expect(submissionFor({ occurredOn: '2020-01-01' })).toMatchObject({ occurredOn: '2020-01-01', historic: true, occurredOnWords: '1 January 2020' });
    });

    it('reads a typed 01/03/2026 as 1 March, and says the date back in words because it could be read as 3 January', () => {
      expect(submissionFor({ occurredOn: '01/03/2026' })).toMatchObject({ occurredOn: '2026-03-01', occurredOnWords: '1 March 2026', dateAmbiguous: true });
      expect(submissionFor({ occurredOn: '2026-03-01' })).toMatchObject({ occurredOn: '2026-03-01', dateAmbiguous: false });
    });

    const notDates = ['31/02/2026', '2026-3-5', '2026-13-01', '2026-00-10', '2026-01-32', '2026-02-30', '2026-04-31', '2025-02-29', 'yesterday', '2026-03-27T10:00'];
    it.each(notDates)('when the date is "%s", asks for a calendar date', (occurredOn) => {
      expect(problemsFor({ occurredOn })).toEqual([{ field: 'occurredOn', message: expect.stringContaining('calendar date') }]);
    });

    it('when the date is 29 February in a leap year, accepts it', () => {
      expect(submissionFor({ occurredOn: '2028-02-29' }, { now: new Date('2028-03-01T12:00:00Z') }).occurredOn).toBe('2028-02-29');
    });
  });

  describe('the time', () => {
    const badTimes = ['24:00', '9:15', '10:60', '10.15', '1015', 'noon', '10:15:60', '10:15 am'];
    it.each(badTimes)('when the time is "%s", asks for hours and minutes', (occurredAt) => {
      expect(problemsFor({ occurredAt })).toEqual([{ field: 'occurredAt', message: expect.stringContaining('hours and minutes') }]);
    });

    const goodTimes: Array<[string, string | undefined]> = [
      ['00:00', '00:00'],
      ['23:59', '23:59'],
      ['10:15:30', '10:15'],
      [' 08:05 ', '08:05'],
      ['', undefined],
      ['  ', undefined],
    ];
    it.each(goodTimes)('when the time is "%s", stores %s', (occurredAt, stored) => {
      expect(submissionFor({ occurredAt }).occurredAt).toBe(stored);
    });
  });

  describe('the type', () => {
    it.each(['made-up', 'Cyberbullying', 'cyber bullying', '__proto__', 'constructor'])('when the type is "%s", rejects it', (incidentType) => {
      expect(problemsFor({ incidentType })).toEqual([{ field: 'incidentType', message: expect.stringContaining('listed types') }]);
    });

    it('when the type has spaces around it, trims them', () => {
      expect(submissionFor({ incidentType: ' cyberbullying ' }).type).toBe('cyberbullying');
    });

    it.each(INCIDENT_TYPE_IDS)('when the type is %s, accepts it', (incidentType) => {
      expect(submissionFor({ incidentType }).type).toBe(incidentType);
    });
  });

  describe('text lengths', () => {
    const limits: Array<[IncidentField, number]> = [
      ['location', INCIDENT_LIMITS.location],
      ['description', INCIDENT_LIMITS.description],
      ['actionTaken', INCIDENT_LIMITS.actionTaken],
    ];
    it.each(limits)('when %s is exactly %i characters, accepts it', (field, limit) => {
      const submission = submissionFor({ [field]: 'x'.repeat(limit) });
      expect((submission as unknown as Record<string, string>)[field]).toHaveLength(limit);
    });

    it.each(limits)('when %s is longer than %i characters, rejects it and names the limit', (field, limit) => {
      expect(problemsFor({ [field]: 'x'.repeat(limit + 1) })).toEqual([{ field, message: expect.stringContaining(String(limit)) }]);
    });

    it.each(limits)('when %s is padded with spaces beyond the limit, measures the trimmed text', (field, limit) => {
      expect(validate({ [field]: `  ${'x'.repeat(limit)}  ` }).ok).toBe(true);
    });

    it(`when the description is shorter than ${INCIDENT_LIMITS.descriptionMin} characters, asks for more`, () => {
      expect(problemsFor({ description: 'x'.repeat(INCIDENT_LIMITS.descriptionMin - 1) })).toEqual([
        { field: 'description', message: expect.stringContaining('Describe what happened') },
      ]);
      expect(validate({ description: 'x'.repeat(INCIDENT_LIMITS.descriptionMin) }).ok).toBe(true);
    });
  });

  describe('who was involved', () => {
    const unknownTokens = ['pupil:p-999', 'pupil:', 'teacher', 'pupil:p-001,parent', 'PUPIL:p-001', 'Staff'];
    it.each(unknownTokens)('when the choice "%s" is not on the list or the register, rejects it', (involved) => {
      expect(problemsFor({ involved })).toEqual([{ field: 'involved', message: expect.stringContaining('from the list') }]);
    });

    it('when a pupil has left the register since the card was sent, rejects the report', () => {
      expect(problemsFor({ involved: 'pupil:p-001' }, { pupils: new Set(['p-002']) })[0]!.field).toBe('involved');
    });

    it(`when more than ${INCIDENT_LIMITS.involvedMax} people are chosen, asks for a group report`, () => {
      const ids = Array.from({ length: INCIDENT_LIMITS.involvedMax + 1 }, (_, i) => `p-${i}`);
      const pupils = new Set(ids);
      expect(problemsFor({ involved: ids.map((id) => `pupil:${id}`).join(',') }, { pupils })).toEqual([
        { field: 'involved', message: expect.stringContaining(`at most ${INCIDENT_LIMITS.involvedMax}`) },
      ]);
      expect(submissionFor({ involved: ids.slice(1).map((id) => `pupil:${id}`).join(',') }, { pupils }).involved).toHaveLength(INCIDENT_LIMITS.involvedMax);
    });

    it('when the same choice is sent twice, counts it once', () => {
      expect(submissionFor({ involved: 'staff, staff,pupil:p-002,pupil:p-002' }).involved).toEqual([{ kind: 'staff' }, { kind: 'pupil', pupilId: 'p-002' }]);
    });

    it('when only commas and spaces are sent, says nobody was chosen', () => {
      expect(problemsFor({ involved: ' , ,' })).toEqual([{ field: 'involved', message: expect.stringContaining('Unknown') }]);
    });
  });

  describe('the child-protection toggle', () => {
    const cases: Array<[string | undefined, boolean]> = [
      ['true', true],
      ['false', false],
      [undefined, false],
      ['', false],
    ];
    it.each(cases)('when the toggle is %s, childProtection is %s', (childProtection, expected) => {
      expect(submissionFor({ childProtection }).childProtection).toBe(expected);
    });

    it.each(['yes', 'on', '1', 'TRUE'])('when the toggle is "%s", rejects it', (childProtection) => {
      expect(problemsFor({ childProtection })).toEqual([{ field: 'childProtection', message: expect.any(String) }]);
    });
  });

  it('when everything is wrong, returns every problem at once, one per field', () => {
    const problems = problemsFor({
      occurredOn: '2026-04-01',
      occurredAt: '25:00',
      involved: 'pupil:ghost',
      location: 'x'.repeat(INCIDENT_LIMITS.location + 1),
      incidentType: 'made-up',
      description: 'short',
      actionTaken: 'x'.repeat(INCIDENT_LIMITS.actionTaken + 1),
      childProtection: 'maybe',
    });
    expect(problems.map((p) => p.field).sort()).toEqual([...INCIDENT_FIELDS].sort());
    for (const problem of problems) expect(problem.message).toMatch(/^[A-Z].*\.$/);
  });

  it('when the report is good, returns the typed submission with trimmed text and parsed parties', () => {
    const submission = submissionFor({
      occurredOn: ' 2026-03-27 ',
      occurredAt: '10:15:42',
      involved: 'pupil:p-001, pupil:p-003,visitor,unknown,pupil-unlisted,headteacher',
      location: '  ICT suite, PC 4 ',
      incidentType: 'cyberbullying',
      description: '  Messages calling a pupil names were posted in the class team.  ',
      actionTaken: ' Screenshots kept; told the class teacher. ',
      childProtection: 'true',
    });
    expect(submission).toEqual<IncidentSubmission>({
      occurredOn: '2026-03-27',
      occurredAt: '10:15',
      involved: [
        { kind: 'pupil', pupilId: 'p-001' },
        { kind: 'pupil', pupilId: 'p-003' },
        { kind: 'visitor' },
        { kind: 'unknown' },
        { kind: 'pupil-unlisted' },
        { kind: 'headteacher' },
      ],
      location: 'ICT suite, PC 4',
      type: 'cyberbullying',
      description: 'Messages calling a pupil names were posted in the class team.',
      actionTaken: 'Screenshots kept; told the class teacher.',
      childProtection: true,
      historic: false,
      occurredOnWords: '27 March 2026',
      dateAmbiguous: false,
      // The headteacher is involved and nobody was picked: routed as if about the most senior plausible person.
      subjectStaff: { kind: 'unnamed' },
    });
  });

  it('reads the staff picker only when a member of staff or the head is involved', () => {
    const id = 'E5AFE000-0000-4000-8000-000000000103';
    expect(submissionFor({ involved: 'staff', subjectStaff: id }).subjectStaff).toEqual({ kind: 'named', objectId: id.toLowerCase() });
    expect(submissionFor({ involved: 'staff', subjectStaff: 'Mr Smith' }).subjectStaff).toEqual({ kind: 'unnamed' });
    expect(submissionFor({ involved: 'pupil:p-001', subjectStaff: id }).subjectStaff).toBeUndefined();
    expect(readIncidentForm({ subjectStaff: id, other: 'x' })).toEqual({ subjectStaff: id });
  });
});

describe('parseInvolved', () => {
  it('when given known and unknown tokens, returns the parties and lists each unknown token', () => {
    expect(parseInvolved('pupil:p-001,pupil:p-404,staff,alien', knownPupilIds)).toEqual({
      parties: [{ kind: 'pupil', pupilId: 'p-001' }, { kind: 'staff' }],
      unknown: ['pupil:p-404', 'alien'],
    });
  });

  it('when given an empty string, returns nobody', () => {
    expect(parseInvolved('', knownPupilIds)).toEqual({ parties: [], unknown: [] });
  });
});

describe('readIncidentForm', () => {
  it('when the payload has the card inputs, returns them as typed', () => {
    expect(readIncidentForm({ ...good })).toEqual(good);
  });

  it('when the payload has unknown keys (the submission id, the verb, anything else), ignores them', () => {
    const form = readIncidentForm({ ...good, submissionId: 'abc-123-def', verb: 'submitIncident', reporterId: 'forged', roles: ['dsl'] });
    expect(Object.keys(form).sort()).toEqual(Object.keys(good).sort());
  });

  it('when a value is not a string, drops it, except that a boolean toggle becomes its text', () => {
    const form = readIncidentForm({
      occurredOn: 20260327,
      occurredAt: null,
      involved: ['pupil:p-001'],
      location: { room: 'ICT' },
      incidentType: undefined,
      description: 'A real description of the concern.',
      childProtection: true,
    });
    expect(form).toEqual({ description: 'A real description of the concern.', childProtection: 'true' });
  });

  it.each([null, undefined, 'text', 42, true])('when the payload is %p, returns no values', (payload) => {
    expect(readIncidentForm(payload)).toEqual({});
  });
});
