import type { AuditRecord } from '../records/audit-store';
import type { AupAcknowledgement } from '../records/aup-store';
import type { ChronologyEvent, IncidentRecord, Referral, SanctionRecord } from '../records/incident-store';
import type { PupilRecord } from '../records/pupil-register-store';
import { incidentTypeLabel } from '../school/incident-types';
import { escapeHtml } from '../school/privacy-notice';
import { RESPONSE_ACTIONS } from '../school/response-matrix';
import { ROLE_LABELS, type Role } from '../school/roles';
import { formatUkDate, formatUkDateTime, isCalendarDate } from '../school/uk-dates';

/** The person a subject access request is about. */
export type SubjectAccessPerson =
  | { kind: 'staff'; aadObjectId: string; roles: Role[] }
  | { kind: 'pupil'; pupilId: string; pupil: PupilRecord | undefined; asked: string };

/** How the person appears in an incident. */
export type SubjectRelation = 'involved' | 'subject' | 'reporter' | 'referrer' | 'given-access';

/** One row of another feature's records (training, consent): column → plain text. */
export type PersonRecordRow = Record<string, string>;

export interface PackIncident {
  incident: IncidentRecord;
  relations: readonly SubjectRelation[];
  chronology: readonly ChronologyEvent[];
}

export interface SubjectAccessDocument {
  packId: string;
  schoolName: string;
  exportedAt: Date;
  exportedBy: { objectId: string; role: Role };
  person: SubjectAccessPerson;
  requestedBy: 'self' | 'parent-or-carer' | 'representative';
  receivedOn: string | undefined;
  dueOn: string | undefined;
  incidents: readonly PackIncident[];
  sanctions: readonly SanctionRecord[];
  acknowledgements: readonly AupAcknowledgement[];
  audit: readonly AuditRecord[];
  teamsConversationHeld: boolean;
  /** Other pupils in the pack's incidents: register id → name ('' when not on the register). */
  otherPupilNames: ReadonlyMap<string, string>;
  actorRoles: ReadonlyMap<string, Role>;
  /** Undefined: the product does not keep these records yet. */
  training: readonly PersonRecordRow[] | undefined;
  consent: readonly PersonRecordRow[] | undefined;
  today: string;
}

/** The kinds of mark the pack puts on what the school should consider removing before release. */
export type RedactionKind = 'other pupil' | 'reporter' | 'member of staff' | 'parent or carer';

const RELATION_LABELS: Readonly<Record<SubjectRelation, string>> = {
  involved: 'a pupil involved',
  subject: 'the member of staff the concern is about (an allegation)',
  reporter: 'the person who reported it',
  referrer: 'made or recorded a referral',
  'given-access': 'given access to it by a referral',
};

const STATUS_LABELS: Readonly<Record<string, string>> = { open: 'Open', 'in-progress': 'In progress', closed: 'Closed' };

/** Keyed by string so a chronology kind added later still prints (as its id). */
const EVENT_LABELS: Readonly<Record<string, string>> = {
  reported: 'Reported',
  action: 'Action',
  status: 'Status changed',
  'parents-informed': 'Parents or carers informed',
  closed: 'Closed',
  referral: 'Referral',
  'referral-outcome': 'Referral outcome',
  reclassified: 'Reclassified',
  cpoms: 'CPOMS reference',
  sanction: 'Sanction',
  'close-requested': 'Close requested',
  attachment: 'Evidence attached',
};

const REFERRAL_LABELS: Readonly<Record<string, string>> = {
  dsl: 'Designated Safeguarding Lead',
  headteacher: 'Headteacher',
  chair: 'Chair of governors',
  lado: 'Local Authority Designated Officer (LADO)',
  'childrens-social-care': 'Children\'s social care',
  police: 'Police',
  ceop: 'CEOP',
  iwf: 'Internet Watch Foundation',
  prevent: 'Prevent',
  'local-authority': 'Local authority',
  trust: 'The trust',
};

/**
 * One calendar month from the day the request was received, as the ICO counts it: the same date next month, or
 * that month's last day when it has no such date (UK GDPR Article 12(3)).
 */
export function subjectAccessDueDate(receivedOn: string): string {
  if (!isCalendarDate(receivedOn)) return receivedOn;
  const [y, m, d] = receivedOn.split('-').map(Number) as [number, number, number];
  const year = m === 12 ? y + 1 : y;
  const month = m === 12 ? 1 : m + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Marked text: on screen highlighted with its label; in print (the release copy) only the label is left. */
export function redactionMark(value: string, kind: RedactionKind): string {
  return `<span class="redact" data-redact="${kind}"><span class="redacted">${escapeHtml(value)}</span><span class="label">[redact: ${kind}]</span></span>`;
}

/**
 * Free text, escaped, with each whole-word occurrence of the given names (forenames and surnames separately, two
 * letters or more, any case) marked for redaction. Names are matched on the raw text, then every piece is escaped.
 */
export function markNames(value: string, names: readonly string[], kind: RedactionKind): string {
  const words = [...new Set(names.flatMap((n) => n.split(/\s+/)).filter((w) => w.length >= 2))].sort((a, b) => b.length - a.length);
  if (words.length === 0) return escapeHtml(value);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  let html = '';
  let last = 0;
  for (const match of value.matchAll(pattern)) {
    html += escapeHtml(value.slice(last, match.index)) + redactionMark(match[0], kind);
    last = match.index + match[0].length;
  }
  return html + escapeHtml(value.slice(last));
}

/**
 * Everything the school's E-Safety records hold about one person, as one printable page. On screen it is the
 * review copy: what to consider redacting is highlighted and labelled, with the exemptions to weigh. Printed (or
 * saved as PDF) it is the release copy: marked text and withheld sections are left out, their labels kept, so
 * the printout never carries what was marked. Every value is HTML-escaped; the page loads nothing.
 */
export function renderSubjectAccessPack(doc: SubjectAccessDocument): string {
  const school = escapeHtml(doc.schoolName);
  const otherNames = [...doc.otherPupilNames.values()].filter(Boolean);
  const free = (value: string): string => markNames(value, otherNames, 'other pupil');
  const who = (id: string, kind: RedactionKind = 'member of staff'): string => {
    if (isSelf(doc.person, id)) return '<strong>This person</strong>';
    if (id === 'system') return 'E-Safety for Teams (automatic)';
    const role = doc.actorRoles.get(id);
    return `${role ? `${escapeHtml(ROLE_LABELS[role])} ` : ''}${redactionMark(id, kind)}`;
  };
  const personLabel = personName(doc.person);
  const count = doc.incidents.length;

  const incidents = count === 0 ? '<p>No e-safety concerns that name this person are recorded.</p>' : doc.incidents.map((item, i) => renderIncident(item, i + 1, count, doc, free, who)).join('');
  const sanctions =
    doc.sanctions.length === 0
      ? ''
      : `
    <h3>Access suspended</h3>
    <table><thead><tr><th>Concern</th><th>Until</th><th>Recorded</th><th>State</th></tr></thead><tbody>${doc.sanctions
      .map((s) => `<tr><td>${escapeHtml(s.reference)}</td><td>${escapeHtml(formatUkDate(s.until))}</td><td>${escapeHtml(formatUkDateTime(s.at))}</td><td>${escapeHtml(s.state)}</td></tr>`)
      .join('')}</tbody></table>`;
  const acknowledgements =
    doc.acknowledgements.length === 0
      ? '<p>None recorded.</p>'
      : `<table><thead><tr><th>Agreement</th><th>Version</th><th>Agreed</th><th>How</th><th>As</th><th>Parent or carer</th></tr></thead><tbody>${doc.acknowledgements
          .map(
            (a) =>
              `<tr><td>${escapeHtml(a.documentId)}</td><td>${a.version}</td><td>${escapeHtml(formatUkDateTime(a.acknowledgedAt))}</td><td>${a.channel === 'paper' ? 'Paper form' : 'In Teams'}</td><td>${escapeHtml(a.role)}</td><td>${a.parentName ? redactionMark(a.parentName, 'parent or carer') : ''}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const audit =
    doc.audit.length === 0
      ? '<p>None recorded.</p>'
      : `<table><thead><tr><th>When</th><th>By</th><th>What</th><th>Record</th><th>Outcome</th></tr></thead><tbody>${doc.audit
          .map((e) => `<tr><td>${escapeHtml(formatUkDateTime(e.at))}</td><td>${who(e.actorId)}</td><td>${escapeHtml(e.action)}</td><td class="id">${escapeHtml(auditTarget(e.target, doc))}</td><td>${escapeHtml(e.outcome)}</td></tr>`)
          .join('')}</tbody></table>`;

  return `<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CONFIDENTIAL: subject access ${escapeHtml(doc.packId)} – ${escapeHtml(personLabel)}</title>
  <style>
    @page { size: A4 portrait; margin: 15mm; }
    body { margin: 0 auto; max-width: 190mm; padding: 8mm; font-family: "Segoe UI", system-ui, Arial, sans-serif; color: #000; background: #fff; font-size: 10.5pt; }
    .review { margin: 0 0 6mm; padding: 3mm 5mm; border: 2px solid #b00020; border-radius: 2mm; }
    .confidential { font-weight: bold; letter-spacing: 0.05em; color: #b00020; text-transform: uppercase; }
    h1 { font-size: 17pt; margin: 0 0 4mm; } h2 { font-size: 13pt; margin: 6mm 0 3mm; } h3 { font-size: 11pt; margin: 4mm 0 2mm; }
    dl.facts { display: grid; grid-template-columns: 45mm 1fr; gap: 1mm 4mm; } dt { font-weight: bold; } dd { margin: 0; }
    .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    table { width: 100%; border-collapse: collapse; font-size: 9.5pt; } th, td { border: 1px solid #777; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
    tr { break-inside: avoid; } section.incident { break-before: page; }
    .id { font-family: Consolas, "Courier New", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
    .redact .redacted { background: #ffe08a; } .redact .label, .withhold > .label { color: #b00020; font-size: 8pt; font-weight: bold; margin-left: 1mm; }
    .withhold { border-left: 3mm solid #b00020; padding-left: 3mm; }
    @media print { .review { display: none; } .redact .redacted, .withhold > .withheld { display: none; } body { padding: 0; max-width: none; } }
  </style>
</head>
<body>
  <div class="review">
    <p class="confidential">Review copy: do not send this screen</p>
    <p>Check every page before release. <span class="redact"><span class="redacted">Highlighted text</span><span class="label">[redact: …]</span></span> is about someone else and is left out when you print or save as PDF; sections marked <strong>[withhold: …]</strong> are left out too. Free text may name people the app cannot recognise: read it and redact by hand.</p>
    <ul>
      <li>Information about other people: Data Protection Act 2018, Schedule 2, Part 3 (release only with their consent, or where it is reasonable without it).</li>
      <li>Serious harm to the person or anyone else: Schedule 3, Part 4 (education data).${doc.requestedBy === 'parent-or-carer' ? ' This request is from a parent or carer: information about abuse or the risk of it is withheld where releasing it would not be in the child\'s interests (Schedule 3, Part 5). A child who understands their rights should be asked for their view.' : ''}</li>
      <li>A police or LADO investigation: Schedule 2, Part 1, paragraph 2 (crime). Ask them before releasing anything about an open matter.</li>
      <li>Tell the requester what was withheld and why, unless telling them would itself cause the harm. Ask the Data Protection Officer if unsure.</li>
    </ul>${doc.dueOn ? `
    <p><strong>Answer due by ${escapeHtml(formatUkDate(doc.dueOn))}</strong> (one calendar month from ${escapeHtml(formatUkDate(doc.receivedOn!))}; the next working day if that is a weekend or bank holiday).</p>` : ''}
  </div>
  <header>
    <p class="confidential">CONFIDENTIAL: personal data</p>
    <h1>Subject access: E-Safety records held by ${school}</h1>
    <dl class="facts">
      <dt>About</dt><dd>${escapeHtml(personLabel)}</dd>
      <dt>Requested by</dt><dd>${escapeHtml(REQUESTER_LABELS[doc.requestedBy])}</dd>${doc.receivedOn ? `
      <dt>Request received</dt><dd>${escapeHtml(formatUkDate(doc.receivedOn))}</dd>` : ''}
      <dt>Pack</dt><dd class="id">${escapeHtml(doc.packId)}</dd>
      <dt>Prepared by</dt><dd>${escapeHtml(ROLE_LABELS[doc.exportedBy.role])}</dd>
      <dt>Prepared on</dt><dd>${escapeHtml(formatUkDateTime(doc.exportedAt))} (UK time)</dd>
      <dt>Concerns</dt><dd>${count === 0 ? 'None' : `${count}: ${doc.incidents.map((i) => escapeHtml(i.incident.reference)).join(', ')}`}</dd>
    </dl>
    <p>This is a copy of everything the E-Safety app in Microsoft Teams holds about this person at ${school}, as on the day it was prepared. The school's privacy notice explains why the information is kept, who it is shared with, how long it is kept, where it comes from, and the person's rights, including complaining to the Information Commissioner's Office. Other school systems (the school's management information system, email, paper files) are answered separately.</p>
    <p>Concerns about the headteacher are held only for the chair of governors, and concerns about a member of staff that keep the Designated Safeguarding Lead out are held only for the headteacher; neither is ever in a pack prepared by someone kept out of them. Ask the chair of governors (and the headteacher) to check for any about this person.</p>
  </header>
  <section id="person">
    <h2>${doc.person.kind === 'pupil' ? 'Pupil register entry' : 'Role and account'}</h2>
    ${renderPerson(doc)}
  </section>
  <section id="incidents">
    <h2>E-safety concerns</h2>
    ${incidents}${sanctions}
  </section>
  <section id="acknowledgements">
    <h2>Acceptable-use agreements</h2>
    ${acknowledgements}
  </section>
  <section id="training">
    <h2>Online-safety training</h2>
    ${renderOtherRecords(doc.training, 'training', doc.person.kind === 'pupil' ? 'Training records are kept for staff, volunteers and governors, not pupils.' : undefined)}
  </section>
  <section id="consent">
    <h2>Photograph and video consent</h2>
    ${renderOtherRecords(doc.consent, 'consent', doc.person.kind === 'staff' ? 'Consent records are kept for pupils, not staff.' : undefined)}
  </section>
  <section id="audit">
    <h2>Audit log entries</h2>
    <p>What this person did in the app, what was done to their account or register entry, and who opened the concerns above. Records are named by reference, never by what they say.</p>
    ${audit}
  </section>
</body>
</html>
`;
}

const REQUESTER_LABELS = { self: 'The person themself', 'parent-or-carer': 'A parent or carer, for the child', representative: 'Someone acting for the person, with their authority' } as const;

function renderIncident(item: PackIncident, position: number, count: number, doc: SubjectAccessDocument, free: (v: string) => string, who: (id: string, kind?: RedactionKind) => string): string {
  const { incident, relations, chronology } = item;
  const allegation = relations.includes('subject');
  const involved = incident.involved.map((p) => {
    if (p.kind === 'pupil') return isSelf(doc.person, p.pupilId) ? '<strong>this pupil</strong>' : redactionMark(doc.otherPupilNames.get(p.pupilId) || p.pupilId, 'other pupil');
    if (p.kind === 'pupil-unlisted') return 'a pupil not on the register';
    if (p.kind === 'staff' || p.kind === 'headteacher') return allegation ? '<strong>this person</strong> (the concern is about them)' : p.kind === 'staff' ? 'a member of staff' : 'the headteacher';
    return p.kind === 'visitor' ? 'a visitor' : 'someone unknown';
  });
  const rows = [...chronology]
    .sort((a, b) => a.sequence - b.sequence)
    .map((e) => `<tr><td>${escapeHtml(formatUkDateTime(e.at))}</td><td>${who(e.actorId)}</td><td>${escapeHtml(EVENT_LABELS[e.kind] ?? e.kind)}</td><td class="text">${free(actionLabel(e.what))}</td><td class="text">${free(e.why)}</td></tr>`)
    .join('');
  const referrals = (incident.referrals ?? []).map((r: Referral) => `<tr><td>${escapeHtml(REFERRAL_LABELS[r.to] ?? r.to)}</td><td>${escapeHtml(formatUkDate(r.on))}</td><td class="text">${free(r.why)}</td><td class="text">${r.outcome ? free(r.outcome) : 'Awaited'}</td></tr>`).join('');
  const details = `
      <h3>What was reported</h3>
      <p class="text">${free(incident.description)}</p>
      <h3>Action taken when reported</h3>
      <p class="text">${incident.actionTaken ? free(incident.actionTaken) : 'None recorded.'}</p>
      <h3>Chronology</h3>
      <table><thead><tr><th>When (UK time)</th><th>Who</th><th>Event</th><th>What</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>${referrals ? `
      <h3>Referrals</h3>
      <table><thead><tr><th>To</th><th>On</th><th>Why</th><th>Outcome</th></tr></thead><tbody>${referrals}</tbody></table>` : ''}`;
  // An open allegation about the requester: its details would reach the person under investigation, so they are
  // for review only and left out of the release copy until the allegations procedure (and any police inquiry) ends.
  const body =
    allegation && incident.status !== 'closed'
      ? `
    <div class="withhold" data-withhold="open allegation"><p class="label">[withhold: an open allegation about this person. Its details are left out until the allegations procedure ends; ask the LADO (and the police, if involved) before releasing anything. Data Protection Act 2018, Schedule 2, Part 1, paragraph 2.]</p><div class="withheld">${details}</div></div>`
      : details;
  return `
  <section class="incident">
    <p class="confidential">Confidential · ${escapeHtml(doc.packId)} · concern ${position} of ${count}</p>
    <h3>${escapeHtml(incident.reference)}: ${escapeHtml(incidentTypeLabel(incident.type))}</h3>
    <dl class="facts">
      <dt>This person is</dt><dd>${relations.map((r) => escapeHtml(RELATION_LABELS[r])).join('; ')}</dd>
      <dt>Happened</dt><dd>${escapeHtml(formatUkDate(incident.occurredOn))}${incident.occurredAt ? ` at ${escapeHtml(incident.occurredAt)}` : ''}${incident.location ? `, ${free(incident.location)}` : ''}</dd>
      <dt>Reported</dt><dd>${escapeHtml(formatUkDateTime(incident.createdAt))} by ${who(incident.reporterId, allegation ? 'reporter' : 'member of staff')}</dd>
      <dt>Who was involved</dt><dd>${involved.join(', ')}</dd>
      <dt>Child protection</dt><dd>${incident.childProtection || incident.audience === 'child-protection' ? 'Yes' : 'No'}</dd>
      <dt>Status</dt><dd>${escapeHtml(STATUS_LABELS[incident.status] ?? incident.status)}${incident.closedAt ? ` (closed ${escapeHtml(formatUkDateTime(incident.closedAt))})` : ''}</dd>
    </dl>${body}
  </section>`;
}

function renderPerson(doc: SubjectAccessDocument): string {
  const { person } = doc;
  if (person.kind === 'staff') {
    return `<dl class="facts"><dt>Microsoft Entra object id</dt><dd class="id">${escapeHtml(person.aadObjectId)}</dd><dt>Roles in the app now</dt><dd>${person.roles.length ? person.roles.map((r) => escapeHtml(ROLE_LABELS[r])).join(', ') : 'None'}</dd><dt>Teams chat reference</dt><dd>${doc.teamsConversationHeld ? 'Held, so the app can send this person alerts and reminders in Teams' : 'None held'}</dd></dl>`;
  }
  const p = person.pupil;
  if (!p) return `<p>Not on the pupil register. The concerns below name this pupil by the id <span class="id">${escapeHtml(person.pupilId)}</span>.</p>`;
  const fact = (label: string, value: string | undefined): string => (value ? `<dt>${label}</dt><dd>${escapeHtml(value)}</dd>` : '');
  return `<dl class="facts">${fact('Name', `${p.forename} ${p.surname}`)}${fact('Date of birth', p.dateOfBirth && formatUkDate(p.dateOfBirth))}${fact('Unique pupil number', p.uniquePupilNumber)}${fact('Admission number', p.admissionNumber)}${fact('Year group', p.yearGroup)}${fact('Class', p.registrationGroup)}${fact('School username', p.userPrincipalName)}${fact('Account id', p.userId)}${fact('Register status', p.status)}${fact('Teams chat reference', doc.teamsConversationHeld ? 'Held, so the app can send this pupil their acceptable-use agreement in Teams' : undefined)}${fact('On the register since', formatUkDateTime(p.createdAt))}${fact('Last updated', formatUkDateTime(p.updatedAt))}</dl>
    <p>No password is kept: each is printed once, on a slip for the pupil.</p>`;
}

function renderOtherRecords(rows: readonly PersonRecordRow[] | undefined, what: string, notApplicable: string | undefined): string {
  if (notApplicable && (!rows || rows.length === 0)) return `<p>${escapeHtml(notApplicable)}</p>`;
  if (!rows) return `<p class="not-held">Not held by this product yet: E-Safety for Teams does not keep ${escapeHtml(what)} records at this school. Check the school's other records.</p>`;
  if (rows.length === 0) return '<p>None recorded.</p>';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `<table><thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(r[c] ?? '')}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function personName(person: SubjectAccessPerson): string {
  if (person.kind === 'staff') return `Member of staff ${person.aadObjectId}`;
  return person.pupil ? `${person.pupil.forename} ${person.pupil.surname}`.trim() : `Pupil ${person.pupilId}`;
}

function isSelf(person: SubjectAccessPerson, id: string): boolean {
  return person.kind === 'staff' ? id === person.aadObjectId : id === person.pupilId || (person.pupil?.userId !== undefined && id === person.pupil.userId);
}

/** A target naming another pupil is shown as a mark, never the id. */
function auditTarget(target: string, doc: SubjectAccessDocument): string {
  const pupil = /^pupil:(.+)$/.exec(target)?.[1];
  if (pupil && !isSelf(doc.person, pupil)) return '[another pupil]';
  return target;
}

function actionLabel(what: string): string {
  return Object.prototype.hasOwnProperty.call(RESPONSE_ACTIONS, what) ? RESPONSE_ACTIONS[what as keyof typeof RESPONSE_ACTIONS] : what;
}
