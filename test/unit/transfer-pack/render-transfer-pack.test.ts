import { renderTransferPack, type TransferPackDocument, type TransferPackIncident } from '../../../usecases/transfer-pack';

const PUPIL_ID = 'T700000000001';
const OTHER_PUPIL_ID = 'T700000000002';
const DSL = '9f0c1d2e-0000-4000-8000-00000000d51a';
const REPORTER = '9f0c1d2e-0000-4000-8000-00000000a0a0';

function incident(overrides: Partial<TransferPackIncident> = {}): TransferPackIncident {
  return {
    reference: 'ES-2026-0042',
    type: 'cyberbullying',
    fourC: 'conduct',
    audience: 'standard',
    childProtection: false,
    occurredOn: '2026-10-01',
    occurredAt: '10:15',
    involved: [{ kind: 'pupil', pupilId: PUPIL_ID }],
    location: 'ICT suite',
    description: 'Unkind messages were posted about the pupil in the class team.',
    actionTaken: 'Screenshots kept and the messages removed.',
    status: 'closed',
    createdAt: '2026-10-01T09:30:00.000Z',
    updatedAt: '2026-10-03T14:00:00.000Z',
    chronology: [
      { sequence: 1, at: '2026-10-01T09:30:00.000Z', actorId: REPORTER, kind: 'reported', what: 'Concern reported', why: '' },
      { sequence: 2, at: '2026-10-02T08:00:00.000Z', actorId: DSL, kind: 'action', what: 'refer-dsl', why: 'Third report this term.' },
      { sequence: 3, at: '2026-10-03T14:00:00.000Z', actorId: DSL, kind: 'closed', what: 'No further action', why: 'Rationale: resolved\nOutcome: apology given' },
    ],
    ...overrides,
  };
}

function pack(overrides: Partial<TransferPackDocument> = {}): TransferPackDocument {
  return {
    packId: 'TP-2026-7F3K9Q2M',
    schoolName: 'Larkfield Primary',
    receivingSchool: 'Brackenmoor Academy',
    exportedAt: new Date('2026-11-20T10:00:00.000Z'),
    exportedBy: { objectId: DSL, role: 'dsl' },
    pupil: { pupilId: PUPIL_ID, inRegister: true, name: 'Marnie Quillfeather', yearGroup: '4', registrationGroup: '4K', uniquePupilNumber: 'A123456789012' },
    incidents: [incident()],
    actorRoles: new Map([[DSL, 'dsl']]),
    ...overrides,
  };
}

/** The text of each incident section's heading, in page order. */
function incidentHeadings(html: string): string[] {
  return [...html.matchAll(/<section class="incident">[\s\S]*?<h2>([^<]*)<\/h2>/g)].map((m) => m[1] as string);
}

describe('renderTransferPack', () => {
  it('escapes every value: names, schools, incident text, chronology and ids', () => {
    const html = renderTransferPack(
      pack({
        schoolName: 'St Mary & St John <CE> Primary',
        receivingSchool: '<img src=x onerror=alert(1)> Academy',
        pupil: { pupilId: 'T7<1>', inRegister: true, name: "Ciarán O'Dowd-\"Vale\"", yearGroup: '4 <b>', registrationGroup: '4 & 5', dateOfBirth: '<i>2017</i>' },
        incidents: [
          incident({
            location: 'Hall <script>',
            description: '<script>alert("desc")</script>',
            actionTaken: 'Told <em>parents</em> & carers',
            occurredAt: '<10:15>',
            chronology: [{ sequence: 1, at: '2026-10-01T09:30:00.000Z', actorId: 'id<x>', kind: 'action', what: '<b>what</b>', why: 'why & "because"' }],
          }),
        ],
      }),
    );

    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('St Mary &amp; St John &lt;CE&gt; Primary');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; Academy');
    expect(html).toContain('Ciarán O&#39;Dowd-&quot;Vale&quot;');
    expect(html).toContain('T7&lt;1&gt;');
    expect(html).toContain('4 &lt;b&gt;');
    expect(html).toContain('4 &amp; 5');
    expect(html).toContain('&lt;i&gt;2017&lt;/i&gt;');
    expect(html).toContain('Hall &lt;script&gt;');
    expect(html).toContain('&lt;script&gt;alert(&quot;desc&quot;)&lt;/script&gt;');
    expect(html).toContain('Told &lt;em&gt;parents&lt;/em&gt; &amp; carers');
    expect(html).toContain('at &lt;10:15&gt;');
    expect(html).toContain('id&lt;x&gt;');
    expect(html).toContain('&lt;b&gt;what&lt;/b&gt;');
    expect(html).toContain('why &amp; &quot;because&quot;');
    expect(html).not.toMatch(/<(?!\/?(html|head|meta|title|style|body|div|p|strong|header|h1|h2|h3|dl|dt|dd|section|span|table|thead|tbody|tr|th|td|br)\b|!doctype)/i);
  });

  it('heads the pack with the pupil, both schools, the pack id, who exported it and when, marked confidential', () => {
    const html = renderTransferPack(pack());

    expect(html).toContain('<title>CONFIDENTIAL: child protection');
    expect(html).toContain('<p class="confidential">CONFIDENTIAL: child protection</p>');
    expect(html).toContain('<dt>Pupil</dt><dd>Marnie Quillfeather</dd>');
    expect(html).toContain('<dt>Year group</dt><dd>Year 4</dd>');
    expect(html).toContain('<dt>Class</dt><dd>4K</dd>');
    expect(html).toContain('<dt>Unique pupil number</dt><dd>A123456789012</dd>');
    expect(html).toContain('<dt>From</dt><dd>Larkfield Primary</dd>');
    expect(html).toContain('<dt>To</dt><dd>Brackenmoor Academy</dd>');
    expect(html).toContain('<dt>Pack</dt><dd class="id">TP-2026-7F3K9Q2M</dd>');
    expect(html).toContain(`<dt>Exported by</dt><dd>Designated Safeguarding Lead <span class="id">${DSL}</span></dd>`);
    expect(html).toContain('<dt>Exported at</dt><dd>20 November 2026 at 10:00 (UK time)</dd>');
    expect(html).toContain('<dt>Incidents</dt><dd>1 incident: ES-2026-0042</dd>');
    expect(html).toContain('not part of this pack');
  });

  it('shows the date of birth when the register has one, and leaves the line out when it does not', () => {
    const withDob = renderTransferPack(pack({ pupil: { ...pack().pupil, dateOfBirth: '2017-03-09' } }));
    const without = renderTransferPack(pack());

    expect(withDob).toContain('<dt>Date of birth</dt><dd>9 March 2017</dd>');
    expect(without).not.toContain('Date of birth');
  });

  it('gives each incident its type, four Cs, dates, status, description, action taken and full chronology', () => {
    const html = renderTransferPack(pack({ incidents: [incident(), incident({ reference: 'ES-2026-0050', type: 'sexual-exploitation', fourC: 'contact', audience: 'child-protection', childProtection: true, status: 'in-progress' })] }));

    expect(incidentHeadings(html)).toEqual(['ES-2026-0042: Cyberbullying', 'ES-2026-0050: Sexual exploitation using technology (incl. nude or semi-nude images)']);
    const [first, second] = html.split('<section class="incident">').slice(1) as [string, string];
    expect(first).toContain('<dt>Four Cs</dt><dd>Conduct</dd>');
    expect(first).toContain('<dt>Child protection</dt><dd>No</dd>');
    expect(first).toContain('<dt>Occurred</dt><dd>1 October 2026 at 10:15</dd>');
    expect(first).toContain('<dt>Where</dt><dd>ICT suite</dd>');
    expect(first).toContain('<dt>Reported</dt><dd>1 October 2026 at 10:30</dd>');
    expect(first).toContain('<dt>Status</dt><dd>Closed (last updated 3 October 2026 at 15:00)</dd>');
    expect(first).toContain('Unkind messages were posted about the pupil in the class team.');
    expect(first).toContain('Screenshots kept and the messages removed.');
    expect(first).toContain(`<td>1 October 2026 at 10:30</td><td><span class="id">${REPORTER}</span></td><td>Reported</td><td class="text">Concern reported</td>`);
    expect(first).toContain(`<td>2 October 2026 at 09:00</td><td>Designated Safeguarding Lead<br><span class="id">${DSL}</span></td><td>Action</td><td class="text">Refer to the Designated Safeguarding Lead</td><td class="text">Third report this term.</td>`);
    expect(first).toContain('<td>Closed</td><td class="text">No further action</td><td class="text">Rationale: resolved\nOutcome: apology given</td>');
    expect(second).toContain('<dt>Four Cs</dt><dd>Contact</dd>');
    expect(second).toContain('<dt>Child protection</dt><dd>Yes</dd>');
    expect(second).toContain('<dt>Status</dt><dd>In progress');
  });

  it('counts other pupils in an incident without naming them or giving their ids', () => {
    const html = renderTransferPack(pack({ incidents: [incident({ involved: [{ kind: 'pupil', pupilId: PUPIL_ID }, { kind: 'pupil', pupilId: OTHER_PUPIL_ID }, { kind: 'pupil-unlisted' }, { kind: 'visitor' }] })] }));

    expect(html).toContain('<dt>Who was involved</dt><dd>This pupil, 2 other pupils (not named here) and a visitor</dd>');
    expect(html).not.toContain(OTHER_PUPIL_ID);
  });

  it('ends with a receipt for the receiving school to sign, quoting the pack id', () => {
    const html = renderTransferPack(pack());
    const receipt = html.split('<section class="receipt">')[1] ?? '';

    expect(receipt).toContain('To the Designated Safeguarding Lead at Brackenmoor Academy');
    expect(receipt).toContain('TP-2026-7F3K9Q2M');
    expect(receipt).toContain('<h3>Received by</h3>');
    for (const line of ['Name', 'Role', 'School', 'Signature', 'Date received']) expect(receipt).toContain(`<span>${line}</span><span></span>`);
  });

  it('says so when the pupil has no incidents, as a nil return', () => {
    const html = renderTransferPack(pack({ incidents: [] }));

    expect(incidentHeadings(html)).toEqual([]);
    expect(html).toContain('<dt>Incidents</dt><dd>None recorded</dd>');
    expect(html).toContain('No e-safety incidents naming this pupil are recorded at Larkfield Primary');
    expect(html).toContain('a nil return (no incidents)');
  });

  it('shows the pupil by id when they are not in the register', () => {
    const html = renderTransferPack(pack({ pupil: { pupilId: PUPIL_ID, inRegister: false } }));

    expect(html).toContain(`<dt>Pupil</dt><dd>Pupil ${PUPIL_ID}</dd>`);
    expect(html).toContain("not in Larkfield Primary's pupil register");
    expect(html).not.toContain('Year group');
  });
});
