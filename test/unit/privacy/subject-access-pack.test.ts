import type { IncidentRecord } from '../../../records/incident-store';
import { markNames, redactionMark, renderSubjectAccessPack, subjectAccessDueDate, type SubjectAccessDocument } from '../../../usecases/subject-access-pack';
import { relationsOf } from '../../../usecases/subject-access';
import { incidentRecord } from '../../support/incident-records';

const STAFF = '0b0b0b0b-0000-4000-8000-000000000001';
const REPORTER = '0b0b0b0b-0000-4000-8000-000000000002';

function allegation(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return incidentRecord('s', '2026-10-01T09:00:00.000Z', {
    reference: 'ES-2026-0100',
    audience: 'staff-concern',
    subject: 'staff',
    involved: [{ kind: 'staff' }, { kind: 'pupil', pupilId: 'P-2' }],
    subjectId: STAFF,
    reporterId: REPORTER,
    description: 'Seen messaging <b>Zoë</b> O\'Neill & friends.',
    ...overrides,
  });
}

function doc(overrides: Partial<SubjectAccessDocument> = {}): SubjectAccessDocument {
  return {
    packId: 'SAR-2026-ABCDEFGH',
    schoolName: 'Hollin <Bank> Primary',
    exportedAt: new Date('2026-11-23T09:00:00Z'),
    exportedBy: { objectId: 'x', role: 'headteacher' },
    person: { kind: 'staff', aadObjectId: STAFF, roles: ['staff'] },
    requestedBy: 'self',
    receivedOn: undefined,
    dueOn: undefined,
    incidents: [{ incident: allegation(), relations: ['subject'], chronology: [] }],
    sanctions: [],
    acknowledgements: [],
    audit: [],
    teamsConversationHeld: true,
    otherPupilNames: new Map([['P-2', 'Zoë O\'Neill']]),
    actorRoles: new Map([[REPORTER, 'staff']]),
    training: undefined,
    consent: undefined,
    today: '2026-11-23',
    ...overrides,
  };
}

const withoutMarked = (html: string): string => html.replace(/<span class="redacted">[^<]*<\/span>/g, '').replace(/<div class="withheld">[\s\S]*?<\/div><\/div>/g, '');

describe('marking names for redaction in free text', () => {
  it.each([
    ['Zoë told Ben', ['Zoë Smith'], `${redactionMark('Zoë', 'other pupil')} told Ben`],
    ['ZOË and zoë', ['Zoë'], `${redactionMark('ZOË', 'other pupil')} and ${redactionMark('zoë', 'other pupil')}`],
    ['Benjamin is not Ben', ['Ben'], `Benjamin is not ${redactionMark('Ben', 'other pupil')}`],
    ['<i>Ann</i> & Ann-Marie', ['Ann'], `&lt;i&gt;${redactionMark('Ann', 'other pupil')}&lt;/i&gt; &amp; ${redactionMark('Ann', 'other pupil')}-Marie`],
    ['No names here', [], 'No names here'],
    ['A B', ['A'], 'A B'],
  ])('%j with %j', (text, names, expected) => {
    expect(markNames(text, names, 'other pupil')).toBe(expected);
  });

  it('escapes a name that looks like markup', () => {
    expect(markNames('x <b> y', ['<b>'], 'other pupil')).not.toContain('<b>');
  });
});

describe('the one-month deadline', () => {
  it.each([
    ['2026-03-04', '2026-04-04'],
    ['2026-01-31', '2026-02-28'],
    ['2028-01-31', '2028-02-29'],
    ['2026-12-15', '2027-01-15'],
    ['2026-08-31', '2026-09-30'],
  ])('received %s, due %s', (received, due) => {
    expect(subjectAccessDueDate(received)).toBe(due);
  });
});

describe('the subject access pack', () => {
  it('withholds an open allegation\'s details from the release copy and marks its reporter', () => {
    const html = renderSubjectAccessPack(doc());
    expect(html).toContain('data-withhold="open allegation"');
    expect(withoutMarked(html)).not.toContain('Seen messaging');
    expect(html).toContain(redactionMark(REPORTER, 'reporter'));
    expect(withoutMarked(html)).not.toContain(REPORTER);
    expect(withoutMarked(html)).not.toContain('Zoë');
  });

  it('releases a closed allegation with other people marked', () => {
    const html = renderSubjectAccessPack(doc({ incidents: [{ incident: allegation({ status: 'closed', closedAt: '2026-11-01T10:00:00.000Z' }), relations: ['subject'], chronology: [] }] }));
    expect(html).not.toContain('data-withhold');
    expect(withoutMarked(html)).toContain('Seen messaging &lt;b&gt;');
    expect(withoutMarked(html)).not.toContain('Zoë');
    expect(html).toContain('closed 1 November 2026, 10:00');
  });

  it('escapes every value and loads nothing', () => {
    const html = renderSubjectAccessPack(doc());
    expect(html).toContain('Hollin &lt;Bank&gt; Primary');
    expect(html).not.toMatch(/<b>Zo|<Bank>|<script|<link|src=/);
  });

  it('says which records the product does not keep yet, and lists those it does', () => {
    const without = renderSubjectAccessPack(doc());
    expect(without).toMatch(/<section id="training">[\s\S]*Not held by this product yet/);
    expect(without).toContain('Consent records are kept for pupils, not staff.');
    const withTraining = renderSubjectAccessPack(doc({ training: [{ Course: 'Online safety <level 1>', Completed: '4 March 2026' }] }));
    expect(withTraining).toContain('<th>Course</th><th>Completed</th>');
    expect(withTraining).toContain('Online safety &lt;level 1&gt;');
  });

  it('shows the answer\'s due date and, for a parent\'s request, the child-abuse-data exemption', () => {
    const html = renderSubjectAccessPack(doc({ requestedBy: 'parent-or-carer', receivedOn: '2026-01-31', dueOn: subjectAccessDueDate('2026-01-31') }));
    expect(html).toContain('Answer due by 28 February 2026');
    expect(html).toContain('Schedule 3, Part 5');
    expect(renderSubjectAccessPack(doc())).not.toContain('Schedule 3, Part 5');
  });
});

describe('how a person appears in an incident', () => {
  it('finds staff as subject, reporter, referrer or given access, and pupils as involved', () => {
    const incident = { ...allegation({ referrals: [{ id: 'r', to: 'lado', why: 'w', on: '2026-10-02', byId: 'dsl-1', at: 'x' }], grantedViewerIds: ['viewer-1'] }), etag: 'e' };
    expect(relationsOf({ kind: 'staff', aadObjectId: STAFF, roles: [] }, incident)).toEqual(['subject']);
    expect(relationsOf({ kind: 'staff', aadObjectId: REPORTER, roles: [] }, incident)).toEqual(['reporter']);
    expect(relationsOf({ kind: 'staff', aadObjectId: 'dsl-1', roles: [] }, incident)).toEqual(['referrer']);
    expect(relationsOf({ kind: 'staff', aadObjectId: 'viewer-1', roles: [] }, incident)).toEqual(['given-access']);
    expect(relationsOf({ kind: 'pupil', pupilId: 'P-2', pupil: undefined, asked: 'P-2' }, incident)).toEqual(['involved']);
    expect(relationsOf({ kind: 'pupil', pupilId: 'P-3', pupil: undefined, asked: 'P-3' }, incident)).toEqual([]);
  });
});
