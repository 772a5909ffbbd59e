import {
  checkConsentForm,
  checkWithdrawal,
  CONSENT_AREA_IDS,
  countConsent,
  MAX_CONSENT_CSV_ROWS,
  readConsentCsv,
  mayUse,
  nextConsentState,
  notRecorded,
  type ConsentDecision,
  type ConsentState,
} from '../../../school/consent';

const at = '2026-11-23T09:00:00.000Z';
const given = (on: string, by = 'A Parent'): ConsentState => ({ area: 'media', status: 'given', on, by, sequence: 1, recordedAt: at });

describe('consent state after each form or letter', () => {
  it.each<[string, ConsentState, ConsentDecision, string, string]>([
    ['nothing recorded, then a yes', notRecorded('media'), 'given', '2026-09-03', 'given'],
    ['nothing recorded, then a no', notRecorded('media'), 'refused', '2026-09-03', 'refused'],
    ['given, then withdrawn by letter', given('2026-09-03'), 'withdrawn', '2026-11-20', 'withdrawn'],
    ['given, then withdrawn the same day', given('2026-09-03'), 'withdrawn', '2026-09-03', 'withdrawn'],
    ['withdrawn, then given again on a new form', { ...given('2026-09-03'), status: 'withdrawn', on: '2026-10-01', sequence: 2 }, 'given', '2026-11-01', 'given'],
    ['nothing recorded, then a withdrawal letter', notRecorded('media'), 'withdrawn', '2026-11-20', 'withdrawn'],
  ])('%s', (_name, current, decision, on, expected) => {
    const check = nextConsentState(current, { decision, on, recordedAt: at });
    expect(check).toMatchObject({ kind: 'apply', next: { status: expected, on, sequence: current.sequence + 1 } });
    if (check.kind === 'apply') expect(mayUse(check.next)).toBe(expected === 'given');
  });

  it('keeps the date consent was given once it is withdrawn', () => {
    const check = nextConsentState(given('2026-09-03'), { decision: 'withdrawn', on: '2026-11-20', recordedAt: at });
    expect(check).toMatchObject({ kind: 'apply', next: { status: 'withdrawn', givenOn: '2026-09-03' } });
  });

  it('an old form dated before a withdrawal never reinstates consent', () => {
    const withdrawn: ConsentState = { ...given('2026-09-03'), status: 'withdrawn', on: '2026-11-20', sequence: 2 };
    expect(nextConsentState(withdrawn, { decision: 'given', on: '2026-09-03', recordedAt: at })).toEqual({ kind: 'superseded', reason: 'a later record (withdrawn on 2026-11-20) stands' });
  });

  it.each<[string, ConsentState, ConsentDecision, string]>([
    ['the same form recorded twice', given('2026-09-03'), 'given', '2026-09-03'],
    ['withdrawing what was refused', { ...given('2026-09-03'), status: 'refused' }, 'withdrawn', '2026-11-20'],
    ['withdrawing twice', { ...given('2026-09-03'), status: 'withdrawn', on: '2026-11-20' }, 'withdrawn', '2026-11-21'],
  ])('changes nothing: %s', (_name, current, decision, on) => {
    expect(nextConsentState(current, { decision, on, by: 'A Parent', recordedAt: at })).toEqual({ kind: 'unchanged' });
  });
});

describe('reading a consent form', () => {
  const today = '2026-11-23';

  it('takes one yes or no per area from one signature', () => {
    const checked = checkConsentForm({ pupil: 'A123', signedOn: '2026-09-03', givenBy: 'Sam Parent', relationship: 'parent', areas: { media: false, 'display-in-school': true } }, today);
    expect(checked).toEqual({
      form: { pupil: 'A123', signedOn: '2026-09-03', givenBy: 'Sam Parent', relationship: 'parent', answers: [{ area: 'media', decision: 'refused' }, { area: 'display-in-school', decision: 'given' }] },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no pupil', { signedOn: '2026-09-03', givenBy: 'X', relationship: 'parent', areas: { media: true } }, 'pupil is required'],
    ['a date in the future', { pupil: 'A', signedOn: '2026-12-01', givenBy: 'X', relationship: 'parent', areas: { media: true } }, 'signedOn cannot be in the future.'],
    ['a date the UK way', { pupil: 'A', signedOn: '03/09/2026', givenBy: 'X', relationship: 'parent', areas: { media: true } }, 'signedOn must be a calendar date'],
    ['nobody signed', { pupil: 'A', signedOn: '2026-09-03', relationship: 'parent', areas: { media: true } }, 'givenBy is required'],
    ['an unknown relationship', { pupil: 'A', signedOn: '2026-09-03', givenBy: 'X', relationship: 'neighbour', areas: { media: true } }, 'relationship must be one of'],
    ['an unknown area', { pupil: 'A', signedOn: '2026-09-03', givenBy: 'X', relationship: 'parent', areas: { tiktok: true } }, '"tiktok" is not a consent area'],
    ['a "yes" string', { pupil: 'A', signedOn: '2026-09-03', givenBy: 'X', relationship: 'parent', areas: { media: 'yes' } }, 'areas.media must be true'],
    ['no answers', { pupil: 'A', signedOn: '2026-09-03', givenBy: 'X', relationship: 'parent', areas: {} }, 'at least one'],
  ])('refuses %s', (_name, body, problem) => {
    const checked = checkConsentForm(body, today);
    expect('problems' in checked && checked.problems.join(' ')).toContain(problem);
  });
});

describe('reading a withdrawal', () => {
  const today = '2026-11-23';

  it('takes effect today unless the letter is dated', () => {
    expect(checkWithdrawal({ pupil: 'A1', area: 'media' }, today)).toEqual({ withdrawal: { pupil: 'A1', areas: ['media'], withdrawnOn: today } });
    expect(checkWithdrawal({ pupil: 'A1', areas: ['media', 'media', 'display-off-site'], withdrawnOn: '2026-11-20' }, today)).toMatchObject({ withdrawal: { areas: ['media', 'display-off-site'], withdrawnOn: '2026-11-20' } });
  });

  it('withdraws every area for "all"', () => {
    expect(checkWithdrawal({ pupil: 'A1', area: 'all' }, today)).toMatchObject({ withdrawal: { areas: [...CONSENT_AREA_IDS] } });
  });

  it('refuses an unknown area or none', () => {
    expect(checkWithdrawal({ pupil: 'A1', area: 'photos' }, today)).toMatchObject({ problems: [expect.stringContaining('"photos" is not a consent area')] });
    expect(checkWithdrawal({ pupil: 'A1' }, today)).toMatchObject({ problems: [expect.stringContaining('Say which consent to withdraw')] });
  });
});

it('counts an area with no record as not recorded', () => {
  const counts = countConsent([[given('2026-09-03')], []]);
  expect(counts.media).toEqual({ given: 1, refused: 0, withdrawn: 0, 'not-recorded': 1 });
  expect(counts['display-in-school']['not-recorded']).toBe(2);
});

describe('reading a CSV of consent forms', () => {
  it('takes yes, no or nothing per area column, and names each bad row by its line', () => {
    const csv = ['\uFEFFPupil,Signed on,Given by,Relationship,media,display-in-school', 'P1,2026-09-03,"Quill, Sam",parent,yes,', 'P2,2026-09-03,Ann Other,carer,N,Y', 'P3,2026-09-03,Ann Other,carer,maybe,'].join('\n');
    expect(readConsentCsv(csv)).toEqual({
      rows: [
        { row: 2, body: { pupil: 'P1', signedOn: '2026-09-03', givenBy: 'Quill, Sam', relationship: 'parent', areas: { media: true } } },
        { row: 3, body: { pupil: 'P2', signedOn: '2026-09-03', givenBy: 'Ann Other', relationship: 'carer', areas: { media: false, 'display-in-school': true } } },
      ],
      problems: [{ row: 4, message: 'media must be yes, no or empty' }],
    });
  });

  it.each([
    ['a missing column', 'pupil,signed_on,relationship,media\nP1,2026-09-03,parent,yes', 'the header row needs the columns given_by'],
    ['no area column', 'pupil,signed_on,given_by,relationship\nP1,2026-09-03,X,parent', 'at least one area column'],
    ['too many rows', `pupil,signed_on,given_by,relationship,media\n${'P,2026-09-03,X,parent,yes\n'.repeat(MAX_CONSENT_CSV_ROWS + 1)}`, `send at most ${MAX_CONSENT_CSV_ROWS}`],
    ['broken quotes', 'pupil,signed_on,given_by,relationship,media\nP1,"2026-09-03,X,parent,yes', 'not valid CSV'],
  ])('refuses the whole file for %s', (_name, csv, message) => {
    const read = readConsentCsv(csv);
    expect(read.rows).toEqual([]);
    expect(read.problems[0]!.message).toContain(message);
  });
});
