import { guidanceFor, repeatEscalation, SANCTION_ACTIONS, suggestActionsForIncident } from '../../../school/response-matrix';
import { INCIDENT_TYPE_IDS, type IncidentType } from '../../../school/incident-types';
import {
  DEFAULT_RESPONSE_MATRIX,
  ILLEGAL_CONTENT_GUIDANCE,
  parseResponseMatrix,
  RESPONSE_ACTIONS,
  suggestActions,
  type MatrixSubject,
  type ResponseActionId,
} from '../../../school/response-matrix';

const SUBJECTS: MatrixSubject[] = ['pupil', 'staff'];
const everyRow: Array<[MatrixSubject, IncidentType]> = SUBJECTS.flatMap((subject) => INCIDENT_TYPE_IDS.map((type): [MatrixSubject, IncidentType] => [subject, type]));

function problemsOf(input: unknown): string[] {
  const result = parseResponseMatrix(input);
  if (result.ok) throw new Error('Expected the matrix to be rejected, but it was accepted.');
  return result.problems;
}

describe('DEFAULT_RESPONSE_MATRIX', () => {
  it.each(everyRow)('when the subject is %s and the type is %s, suggests at least one known action and no action twice', (subject, type) => {
    const actions = DEFAULT_RESPONSE_MATRIX[subject][type];
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions).size).toBe(actions.length);
    for (const action of actions) expect(Object.keys(RESPONSE_ACTIONS)).toContain(action);
  });

  it('has a row for every incident type and no other, for both subjects', () => {
    for (const subject of SUBJECTS) expect(Object.keys(DEFAULT_RESPONSE_MATRIX[subject]).sort()).toEqual([...INCIDENT_TYPE_IDS].sort());
  });

  // Facts from the seed policies' pupil and staff sanction matrices and escalation sections.
  const seedFacts: Array<[MatrixSubject, IncidentType, ResponseActionId[]]> = [
    ['pupil', 'cyberbullying', ['inform-parents', 'refer-headteacher']],
    ['pupil', 'illegal-content', ['refer-police', 'refer-dsl', 'inform-parents']],
    ['pupil', 'filtering-breach', ['refer-technical-support', 'remove-network-access']],
    ['pupil', 'network-misuse', ['remove-network-access', 'refer-technical-support']],
    ['pupil', 'sexual-exploitation', ['refer-dsl', 'refer-police']],
    ['pupil', 'safeguarding-contact', ['refer-dsl', 'refer-police']],
    ['pupil', 'data-breach', ['refer-data-protection-officer']],
    ['staff', 'illegal-content', ['refer-police', 'refer-lado', 'refer-headteacher']],
    ['staff', 'sexual-exploitation', ['refer-police', 'refer-lado']],
    ['staff', 'safeguarding-contact', ['refer-lado']],
    ['staff', 'data-breach', ['refer-data-protection-officer']],
  ];
  it.each(seedFacts)('when the subject is %s and the type is %s, includes %j', (subject, type, expected) => {
    expect(DEFAULT_RESPONSE_MATRIX[subject][type]).toEqual(expect.arrayContaining(expected));
  });

  it.each(SUBJECTS)('when illegal content is reported about a %s, the first suggestion is to preserve the evidence', (subject) => {
    expect(DEFAULT_RESPONSE_MATRIX[subject]['illegal-content'][0]).toBe('preserve-evidence');
  });

  it('when the concern is about a pupil, never suggests the LADO or staff disciplinary action', () => {
    for (const type of INCIDENT_TYPE_IDS) {
      expect(DEFAULT_RESPONSE_MATRIX.pupil[type]).not.toContain('refer-lado');
      expect(DEFAULT_RESPONSE_MATRIX.pupil[type]).not.toContain('disciplinary-action');
    }
  });
});

describe('suggestActions', () => {
  it.each(everyRow)('when the subject is %s and the type is %s, returns the matrix row in order with its labels', (subject, type) => {
    const suggested = suggestActions(DEFAULT_RESPONSE_MATRIX, type, subject);
    expect(suggested.map((a) => a.id)).toEqual(DEFAULT_RESPONSE_MATRIX[subject][type]);
    for (const action of suggested) expect(action.label).toBe(RESPONSE_ACTIONS[action.id]);
  });

  it('when the school has edited a row, suggests the edited row', () => {
    const parsed = parseResponseMatrix({ pupil: { other: ['refer-dsl', 'warning'] } });
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    expect(suggestActions(parsed.matrix, 'other', 'pupil').map((a) => a.label)).toEqual([RESPONSE_ACTIONS['refer-dsl'], RESPONSE_ACTIONS.warning]);
  });
});

describe('parseResponseMatrix', () => {
  it('when given an empty object, returns the defaults', () => {
    expect(parseResponseMatrix({})).toEqual({ ok: true, matrix: DEFAULT_RESPONSE_MATRIX });
  });

  it('when given a partial override, replaces only the rows it names and keeps the defaults for the rest', () => {
    const result = parseResponseMatrix({ pupil: { cyberbullying: ['refer-dsl'] }, staff: { other: ['refer-headteacher', 'warning'] } });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.matrix.pupil.cyberbullying).toEqual(['refer-dsl']);
    expect(result.matrix.staff.other).toEqual(['refer-headteacher', 'warning']);
    for (const [subject, type] of everyRow) {
      if ((subject === 'pupil' && type === 'cyberbullying') || (subject === 'staff' && type === 'other')) continue;
      expect(result.matrix[subject][type]).toEqual(DEFAULT_RESPONSE_MATRIX[subject][type]);
    }
  });

  it('when given an override, leaves DEFAULT_RESPONSE_MATRIX itself unchanged', () => {
    const before = JSON.stringify(DEFAULT_RESPONSE_MATRIX);
    parseResponseMatrix({ pupil: { cyberbullying: ['refer-dsl'] }, staff: { 'illegal-content': ['warning'] } });
    expect(JSON.stringify(DEFAULT_RESPONSE_MATRIX)).toBe(before);
  });

  it('when a school empties a row, accepts it as an empty list', () => {
    const result = parseResponseMatrix({ staff: { misinformation: [] } });
    expect(result.ok && result.matrix.staff.misinformation).toEqual([]);
  });

  const notObjects: Array<[string, unknown]> = [
    ['null', null],
    ['an array', [{ pupil: {} }]],
    ['a string', '{"pupil":{}}'],
    ['a number', 42],
  ];
  it.each(notObjects)('when given %s, rejects it with one problem that says what shape is expected', (_label, input) => {
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('JSON object');
  });

  const singleProblems: Array<[string, unknown, string[]]> = [
    ['an unknown subject', { governor: { other: ['warning'] } }, ['"governor"', 'pupil', 'staff']],
    ['a subject that is not an object', { pupil: ['warning'] }, ['"pupil"', 'incident types']],
    ['an unknown incident type', { pupil: { sexting: ['warning'] } }, ['pupil', '"sexting"', 'cyberbullying']],
    ['an unknown action', { staff: { other: ['sack-them'] } }, ['staff.other', 'refer-lado']],
    ['actions that are not a list', { staff: { other: 'warning' } }, ['staff.other']],
    ['an action that is not a string', { pupil: { other: [7] } }, ['pupil.other']],
  ];
  it.each(singleProblems)('when given %s, rejects it with a problem that names it and the allowed values', (_label, input, mentions) => {
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    for (const text of mentions) expect(problems[0]).toContain(text);
  });

  it('when several things are wrong, lists every problem at once', () => {
    const problems = problemsOf({
      teachers: { other: ['warning'] },
      pupil: { sexting: ['warning'], cyberbullying: ['refer-dsl', 'shout'], other: ['refer-dsl'] },
      staff: { 'illegal-content': 'refer-police' },
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toEqual(expect.stringContaining('"teachers"'));
    expect(problems.join('\n')).toEqual(expect.stringContaining('"sexting"'));
    expect(problems.join('\n')).toEqual(expect.stringContaining('pupil.cyberbullying'));
    expect(problems.join('\n')).toEqual(expect.stringContaining('staff.illegal-content'));
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('when an action is "%s" (a name every object inherits), rejects it', (action) => {
    const problems = problemsOf(JSON.parse(`{"pupil":{"other":["${action}"]}}`));
    expect(problems).toEqual([expect.stringContaining('pupil.other')]);
  });
});

describe('ILLEGAL_CONTENT_GUIDANCE', () => {
  it('gives the stop, preserve, isolate and refer steps in that order', () => {
    expect(ILLEGAL_CONTENT_GUIDANCE.map((line) => line.split(':')[0])).toEqual(['Stop', 'Preserve', 'Isolate', 'Refer']);
  });
});

describe('suggestActionsForIncident and the gravest cases', () => {
  const matrix = DEFAULT_RESPONSE_MATRIX;

  it.each(['cyberbullying', 'network-misuse', 'filtering-breach', 'inappropriate-website'] as const)('never suggests a sanction for a child-protection concern about a pupil (%s)', (type) => {
    const plain = suggestActionsForIncident(matrix, { type, subject: 'pupil', childProtection: false, audience: 'standard' }).map((a) => a.id);
    const cp = suggestActionsForIncident(matrix, { type, subject: 'pupil', childProtection: true, audience: 'child-protection' }).map((a) => a.id);
    expect(plain.some((id) => SANCTION_ACTIONS.has(id))).toBe(true);
    expect(cp.filter((id) => SANCTION_ACTIONS.has(id))).toEqual([]);
    expect(cp).toEqual(plain.filter((id) => !SANCTION_ACTIONS.has(id)));
  });

  it('suggests the LADO first, at once, for a concern about the headteacher', () => {
    expect(suggestActionsForIncident(matrix, { type: 'inappropriate-behaviour', subject: 'staff', childProtection: false, audience: 'headteacher-concern' })[0]!.id).toBe('refer-lado');
  });

  it('escalates repeated incidents without a sanction when the concern is child protection', () => {
    expect(repeatEscalation(false).map((a) => a.id)).toContain('further-sanction');
    expect(repeatEscalation(true).map((a) => a.id)).toEqual(['refer-headteacher', 'inform-parents']);
  });

  it('gives the stop, preserve, isolate and refer steps, with the monitor covered, for illegal content and sexual exploitation only', () => {
    for (const type of ['illegal-content', 'sexual-exploitation'] as const) {
      expect(guidanceFor(type).join(' ')).toContain('switch off or cover the monitor; do not copy, forward or screenshot the image');
      expect(guidanceFor(type).map((line) => line.split(':')[0])).toEqual(['Stop', 'Preserve', 'Isolate', 'Refer']);
    }
    expect(guidanceFor('cyberbullying')).toEqual([]);
  });
});
