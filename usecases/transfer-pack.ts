import { formatUkDate, formatUkTime, londonDate } from '../school/uk-dates';
import { randomBytes } from 'node:crypto';
import type { AuditEntry, AuditRecord, AuditStore } from '../records/audit-store';
import type { ChronologyEvent, IncidentRecord, IncidentStore, StoredIncident } from '../records/incident-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import type { RoleDirectory } from '../identity/role-directory';
import { incidentTypeLabel } from '../school/incident-types';
import { rolesThatMayView, type IncidentAudience } from '../school/incident-routing';
import { schoolDate } from '../school/incident-submission';
import { RESPONSE_ACTIONS } from '../school/response-matrix';
import { ROLE_LABELS, hasAnyRole, type Principal, type Role } from '../school/roles';
import { escapeHtml } from './credential-slips';

/** Who may export a pupil's child-protection transfer pack and record its receipt. */
export const TRANSFER_PACK_ROLES: readonly Role[] = ['dsl', 'headteacher'];

/**
 * Audiences whose incidents belong in a pupil's pack. Concerns about staff or the headteacher are
 * allegations against adults: they are kept under the allegations (LADO) procedure, not in the
 * child's file, so they are left out even when the pupil is named in them.
 */
export const TRANSFER_PACK_AUDIENCES: readonly IncidentAudience[] = ['standard', 'child-protection'];

export const TRANSFER_PACK_ACTIONS = { export: 'transfer-pack.export', receipt: 'transfer-pack.receipt' } as const;

const LIMITS = { pupilId: 100, school: 200, person: 200, role: 100 } as const;
const TIME_ZONE = 'Europe/London';

export interface TransferPackDependencies {
  schoolId: string;
  schoolName: string;
  incidents: Pick<IncidentStore, 'listIncidents' | 'listChronology'>;
  pupils: Pick<PupilRegisterStore, 'getPupil'>;
  audit: Pick<AuditStore, 'appendAudit' | 'appendAudits' | 'listAudit'>;
  /** Labels chronology actors with the role they hold now; without it they appear by object id only. */
  roles?: Pick<RoleDirectory, 'getPrincipal'>;
  clock: () => Date;
}

export type TransferPackOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] };

export interface ExportTransferPackInput {
  pupilId?: unknown;
  receivingSchool?: unknown;
}

export interface ExportedTransferPack {
  packId: string;
  html: string;
  /** The incidents in the pack, oldest first. */
  references: string[];
}

export interface TransferReceiptInput {
  packId?: unknown;
  receivedBy?: unknown;
  /** Optional: the receiver's role, e.g. "Designated Safeguarding Lead". */
  receivedByRole?: unknown;
  receivingSchool?: unknown;
  /** YYYY-MM-DD, the date the receiving school confirmed it had the pack. */
  receivedOn?: unknown;
}

export interface TransferReceipt {
  receivedBy: string;
  receivedByRole: string | undefined;
  receivingSchool: string;
  receivedOn: string;
  recordedBy: string;
  recordedAt: string;
  /** False when the school that signed is not the one the pack was exported to. */
  schoolMatchesExport: boolean;
}

/** One export as the audit log holds it, with its receipt once recorded. */
export interface TransferPackRecord {
  packId: string;
  pupilId: string;
  exportedAt: string;
  exportedBy: string;
  receivingSchool: string;
  references: string[];
  receipt: TransferReceipt | undefined;
}

/**
 * Builds the pupil's pack, audits one `incident.read` per incident in it and the export itself (all
 * written before the document is handed back), and returns the printable page.
 * A pupil on the register with no incidents gets a pack that says so, which the receiving school can
 * file as a nil return; a pupil id that is neither on the register nor in any incident is not found.
 */
export async function exportTransferPack(deps: TransferPackDependencies, principal: Principal, input: ExportTransferPackInput): Promise<TransferPackOutcome<ExportedTransferPack>> {
  const pupilId = text(input.pupilId);
  if (!hasAnyRole(principal, ...TRANSFER_PACK_ROLES)) {
    await audit(deps, principal, TRANSFER_PACK_ACTIONS.export, `pupil:${pupilId.slice(0, LIMITS.pupilId)}`, 'denied');
    return { kind: 'forbidden' };
  }
  const receivingSchool = oneLine(input.receivingSchool);
  const problems = [
    ...required(pupilId, 'Choose the pupil (pupilId).', LIMITS.pupilId, 'The pupil id'),
    ...required(receivingSchool, 'Enter the receiving school (receivingSchool).', LIMITS.school, 'The receiving school'),
  ];
  if (problems.length > 0) return { kind: 'invalid', problems };

  const [pupil, all] = await Promise.all([deps.pupils.getPupil(deps.schoolId, pupilId), deps.incidents.listIncidents(deps.schoolId)]);
  const included = all.filter((incident) => namesPupil(incident, pupilId) && belongsInPack(principal, incident)).sort(byOccurrence);
  if (!pupil && included.length === 0) return { kind: 'not-found' };
  const chronologies = await Promise.all(included.map((incident) => deps.incidents.listChronology(deps.schoolId, incident.reference)));

  const now = deps.clock();
  const packId = newPackId(now);
  const references = included.map((incident) => incident.reference);
  const actorIds = [...new Set(chronologies.flat().map((event) => event.actorId))];
  const html = renderTransferPack({
    packId,
    schoolName: deps.schoolName,
    receivingSchool,
    exportedAt: now,
    exportedBy: { objectId: principal.aadObjectId, role: principal.roles.has('dsl') ? 'dsl' : 'headteacher' },
    pupil: pupilDetails(pupilId, pupil),
    incidents: included.map((incident, i) => ({ ...incident, chronology: chronologies[i] ?? [] })),
    actorRoles: await actorRolesOf(deps, actorIds),
  });

  const actor = principal.aadObjectId;
  const reads = included.map((incident): AuditEntry => ({ actorId: actor, action: 'incident.read', target: incident.reference, outcome: 'succeeded', details: { packId, via: 'transfer-pack' } }));
  const exported: AuditEntry = {
    actorId: actor,
    action: TRANSFER_PACK_ACTIONS.export,
    target: `pupil:${pupilId}`,
    outcome: 'succeeded',
    details: { packId, receivingSchool, references: references.join(','), incidentCount: references.length },
  };
  await deps.audit.appendAudits(deps.schoolId, [...reads, exported]);
  return { kind: 'ok', value: { packId, html, references } };
}

/**
 * Records that the receiving school confirmed it has the pack. The receipt goes to the audit log next to
 * the export, so it carries the receiver's name and school: professional contact details, never a child's.
 * A pack has one receipt; a second attempt is refused rather than rewriting what was signed.
 */
export async function recordTransferReceipt(deps: TransferPackDependencies, principal: Principal, input: TransferReceiptInput): Promise<TransferPackOutcome<TransferPackRecord>> {
  const packId = text(input.packId).toUpperCase();
  if (!hasAnyRole(principal, ...TRANSFER_PACK_ROLES)) {
    await audit(deps, principal, TRANSFER_PACK_ACTIONS.receipt, `transfer-pack:${packId.slice(0, 40)}`, 'denied');
    return { kind: 'forbidden' };
  }
  const receivedBy = oneLine(input.receivedBy);
  const receivedByRole = oneLine(input.receivedByRole);
  const receivingSchool = oneLine(input.receivingSchool);
  const receivedOn = text(input.receivedOn);
  const today = schoolDate(deps.clock(), TIME_ZONE);
  const problems = [
    ...(PACK_ID_PATTERN.test(packId) ? [] : ['Enter the pack id printed on the pack, like TP-2026-7F3K9Q2M (packId).']),
    ...required(receivedBy, 'Enter who received the pack (receivedBy).', LIMITS.person, 'The receiver\'s name'),
    ...(receivedByRole.length > LIMITS.role ? [`The receiver's role must be at most ${LIMITS.role} characters.`] : []),
    ...required(receivingSchool, 'Enter the school that received the pack (receivingSchool).', LIMITS.school, 'The receiving school'),
    ...(!receivedOn
      ? ['Enter the date the pack was received (receivedOn).']
      : !isCalendarDate(receivedOn)
        ? ['Enter the date received as a calendar date (YYYY-MM-DD).']
        : receivedOn > today
          ? ['The date received cannot be in the future.']
          : []),
  ];
  if (problems.length > 0) return { kind: 'invalid', problems };

  const exported = await findExport(deps, packId);
  if (!exported) return { kind: 'not-found' };
  const pack = packsFrom(await deps.audit.listAudit(deps.schoolId, { target: exported.target })).find((p) => p.packId === packId);
  if (!pack) return { kind: 'not-found' };
  if (pack.receipt) return { kind: 'invalid', problems: [`A receipt for ${packId} was already recorded on ${pack.receipt.recordedAt.slice(0, 10)}; it cannot be changed.`] };
  if (receivedOn < schoolDate(new Date(pack.exportedAt), TIME_ZONE)) return { kind: 'invalid', problems: ['The date received cannot be before the pack was exported.'] };

  const schoolMatchesExport = sameSchool(receivingSchool, pack.receivingSchool);
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: principal.aadObjectId,
    action: TRANSFER_PACK_ACTIONS.receipt,
    target: exported.target,
    outcome: 'succeeded',
    details: { packId, receivedBy, ...(receivedByRole ? { receivedByRole } : {}), receivingSchool, receivedOn, schoolMatchesExport },
  });
  const recorded = packsFrom(await deps.audit.listAudit(deps.schoolId, { target: exported.target })).find((p) => p.packId === packId);
  return { kind: 'ok', value: recorded ?? pack };
}

/** A pupil's exported packs, newest first, each with its receipt once recorded. */
export async function listTransferPacks(deps: TransferPackDependencies, principal: Principal, pupilId: string): Promise<TransferPackOutcome<TransferPackRecord[]>> {
  const id = pupilId.trim();
  if (!hasAnyRole(principal, ...TRANSFER_PACK_ROLES)) {
    await audit(deps, principal, 'transfer-pack.list', `pupil:${id.slice(0, LIMITS.pupilId)}`, 'denied');
    return { kind: 'forbidden' };
  }
  const problems = required(id, 'Choose the pupil (pupilId).', LIMITS.pupilId, 'The pupil id');
  if (problems.length > 0) return { kind: 'invalid', problems };
  const packs = packsFrom(await deps.audit.listAudit(deps.schoolId, { target: `pupil:${id}` }));
  return { kind: 'ok', value: packs.reverse() };
}

/**
 * The export entry for a pack id: the pack id is in the details, so this reads the school's export entries
 * (filtered by action in storage) from the start of the UK year in the pack id (a day early, for the hour
 * between UK and UTC midnight).
 */
async function findExport(deps: TransferPackDependencies, packId: string): Promise<AuditRecord | undefined> {
  const year = Number(packId.slice(3, 7));
  const entries = await deps.audit.listAudit(deps.schoolId, { action: TRANSFER_PACK_ACTIONS.export, since: new Date(Date.UTC(year - 1, 11, 31)) });
  return entries.find((e) => e.action === TRANSFER_PACK_ACTIONS.export && e.outcome === 'succeeded' && e.details?.packId === packId);
}

/** Exports and their receipts from a pupil's audit entries, oldest first. */
function packsFrom(entries: readonly AuditRecord[]): TransferPackRecord[] {
  const packs = new Map<string, TransferPackRecord>();
  for (const entry of entries) {
    if (entry.outcome !== 'succeeded') continue;
    const details = entry.details ?? {};
    const packId = String(details.packId ?? '');
    if (entry.action === TRANSFER_PACK_ACTIONS.export && packId) {
      const references = String(details.references ?? '');
      packs.set(packId, {
        packId,
        pupilId: entry.target.replace(/^pupil:/, ''),
        exportedAt: entry.at,
        exportedBy: entry.actorId,
        receivingSchool: String(details.receivingSchool ?? ''),
        references: references ? references.split(',') : [],
        receipt: undefined,
      });
    } else if (entry.action === TRANSFER_PACK_ACTIONS.receipt) {
      const pack = packs.get(packId);
      if (!pack || pack.receipt) continue;
      pack.receipt = {
        receivedBy: String(details.receivedBy ?? ''),
        receivedByRole: details.receivedByRole === undefined ? undefined : String(details.receivedByRole),
        receivingSchool: String(details.receivingSchool ?? ''),
        receivedOn: String(details.receivedOn ?? ''),
        recordedBy: entry.actorId,
        recordedAt: entry.at,
        schoolMatchesExport: details.schoolMatchesExport === true,
      };
    }
  }
  return [...packs.values()];
}

function namesPupil(incident: StoredIncident, pupilId: string): boolean {
  return incident.involved.some((party) => party.kind === 'pupil' && party.pupilId === pupilId);
}

function belongsInPack(principal: Principal, incident: StoredIncident): boolean {
  return TRANSFER_PACK_AUDIENCES.includes(incident.audience) && rolesThatMayView(incident.audience).some((role) => principal.roles.has(role));
}

function byOccurrence(a: StoredIncident, b: StoredIncident): number {
  return a.occurredOn.localeCompare(b.occurredOn) || (a.occurredAt ?? '').localeCompare(b.occurredAt ?? '') || a.createdAt.localeCompare(b.createdAt) || a.reference.localeCompare(b.reference);
}

async function actorRolesOf(deps: TransferPackDependencies, actorIds: readonly string[]): Promise<Map<string, Role>> {
  const labels = new Map<string, Role>();
  if (!deps.roles) return labels;
  const principals = await Promise.all(actorIds.map((id) => deps.roles!.getPrincipal(id)));
  actorIds.forEach((id, i) => {
    const role = ROLE_PRIORITY.find((r) => principals[i]?.roles.has(r));
    if (role) labels.set(id, role);
  });
  return labels;
}

function pupilDetails(pupilId: string, pupil: PupilRecord | undefined): TransferPackPupil {
  if (!pupil) return { pupilId, inRegister: false };
  // dateOfBirth is not on every register row (nor, yet, on PupilRecord), so it is read defensively.
  const dateOfBirth = (pupil as unknown as Record<string, unknown>).dateOfBirth;
  return {
    pupilId,
    inRegister: true,
    name: `${pupil.forename} ${pupil.surname}`.trim(),
    yearGroup: pupil.yearGroup,
    registrationGroup: pupil.registrationGroup,
    uniquePupilNumber: pupil.uniquePupilNumber,
    dateOfBirth: typeof dateOfBirth === 'string' && dateOfBirth.trim() ? dateOfBirth.trim() : undefined,
  };
}

/** Pack ids are short enough to write on a paper receipt: `TP-<year>-` then 8 Crockford base-32 characters. */
const PACK_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PACK_ID_PATTERN = /^TP-\d{4}-[0-9A-HJKMNP-TV-Z]{8}$/;

function newPackId(now: Date): string {
  const bytes = randomBytes(8);
  const code = Array.from(bytes, (b) => PACK_ID_ALPHABET[b % 32]).join('');
  return `TP-${schoolDate(now, TIME_ZONE).slice(0, 4)}-${code}`;
}

function audit(deps: TransferPackDependencies, principal: Principal, action: string, target: string, outcome: 'succeeded' | 'denied'): Promise<void> {
  return deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action, target, outcome });
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

/** Free text for the audit log: one line, no control characters. */
function oneLine(value: unknown): string {
  const printable = Array.from(text(value), (c) => {
    const code = c.charCodeAt(0);
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f) ? ' ' : c;
  }).join('');
  return printable.replace(/\s+/g, ' ').trim();
}

function required(value: string, missing: string, max: number, name: string): string[] {
  if (!value) return [missing];
  return value.length > max ? [`${name} must be at most ${max} characters.`] : [];
}

function isCalendarDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) === value;
}

const sameSchool = (a: string, b: string): boolean => a.localeCompare(b, 'en-GB', { sensitivity: 'base' }) === 0;

export interface TransferPackPupil {
  pupilId: string;
  /** False when the pupil has incidents but no row in the register (the pack then shows the id only). */
  inRegister: boolean;
  name?: string;
  yearGroup?: string;
  registrationGroup?: string;
  uniquePupilNumber?: string;
  dateOfBirth?: string;
}

export type TransferPackIncident = Pick<
  IncidentRecord,
  'reference' | 'type' | 'fourC' | 'audience' | 'childProtection' | 'occurredOn' | 'occurredAt' | 'involved' | 'location' | 'description' | 'actionTaken' | 'status' | 'createdAt' | 'updatedAt'
> & { chronology: readonly ChronologyEvent[] };

export interface TransferPackDocument {
  packId: string;
  schoolName: string;
  receivingSchool: string;
  exportedAt: Date;
  exportedBy: { objectId: string; role: Role };
  pupil: TransferPackPupil;
  incidents: readonly TransferPackIncident[];
  /** The role each chronology actor holds, when known. */
  actorRoles: ReadonlyMap<string, Role>;
}

const ROLE_PRIORITY: readonly Role[] = ['dsl', 'headteacher', 'coordinator', 'chair', 'governor', 'admin', 'staff'];

const STATUS_LABELS: Readonly<Record<IncidentRecord['status'], string>> = { open: 'Open', 'in-progress': 'In progress', closed: 'Closed' };

/** Keyed by string so a chronology kind added later still prints (as its id) rather than failing. */
const EVENT_LABELS: Readonly<Record<string, string>> = {
  reported: 'Reported',
  action: 'Action',
  status: 'Status changed',
  'parents-informed': 'Parents or carers informed',
  closed: 'Closed',
};

const YEAR_LABELS: Readonly<Record<string, string>> = { N: 'Nursery', R: 'Reception' };

/**
 * The pack as one printable HTML page (A4; each incident starts on a new page). Every value is
 * HTML-escaped and the page loads nothing else. Other pupils in an incident are counted, never named.
 */
export function renderTransferPack(pack: TransferPackDocument): string {
  const school = escapeHtml(pack.schoolName);
  const pupilName = pack.pupil.name || `Pupil ${pack.pupil.pupilId}`;
  const count = pack.incidents.length;
  const incidents =
    count === 0
      ? `
  <section class="none">
    <h2>E-safety incidents</h2>
    <p>No e-safety incidents naming this pupil are recorded at ${school}, other than any concerns about adults, which are not part of this pack (see above). This pack is a nil return: keep it with the pupil's child-protection file.</p>
  </section>`
      : pack.incidents.map((incident, i) => renderIncident(incident, i + 1, count, pack)).join('');
  return `<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CONFIDENTIAL: child protection – transfer pack ${escapeHtml(pack.packId)} – ${escapeHtml(pupilName)}</title>
  <style>
    @page { size: A4 portrait; margin: 15mm; }
    * { box-sizing: border-box; }
    body { margin: 0 auto; max-width: 190mm; padding: 8mm; font-family: "Segoe UI", system-ui, Arial, sans-serif; color: #000; background: #fff; font-size: 10.5pt; }
    .notice { margin: 0 0 6mm; padding: 3mm 5mm; border: 2px solid #b00020; border-radius: 2mm; }
    .confidential { margin: 0 0 2mm; font-weight: bold; letter-spacing: 0.05em; color: #b00020; text-transform: uppercase; }
    h1 { font-size: 17pt; margin: 0 0 4mm; }
    h2 { font-size: 13pt; margin: 0 0 3mm; }
    h3 { font-size: 11pt; margin: 4mm 0 2mm; }
    dl.facts { display: grid; grid-template-columns: 42mm 1fr; gap: 1mm 4mm; margin: 0 0 4mm; }
    dt { font-weight: bold; }
    dd { margin: 0; }
    .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    .scope { font-size: 9.5pt; }
    section.incident, section.receipt, section.none { break-before: page; page-break-before: always; }
    section.incident .confidential { font-size: 8.5pt; }
    table { width: 100%; border-collapse: collapse; font-size: 9.5pt; }
    th, td { border: 1px solid #777; padding: 1.5mm 2mm; text-align: left; vertical-align: top; }
    tr { break-inside: avoid; page-break-inside: avoid; }
    .id { font-family: Consolas, "Courier New", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
    .sign { display: grid; grid-template-columns: 45mm 1fr; gap: 7mm 4mm; margin: 5mm 0; }
    .sign span:nth-child(2n) { border-bottom: 1px solid #000; min-height: 7mm; }
    @media print { .notice { display: none; } body { padding: 0; max-width: none; } }
  </style>
</head>
<body>
  <div class="notice">
    <p><strong>Before you send this pack:</strong> read the descriptions and chronologies for the names of other children and redact them if needed; this pack names no other pupil itself.</p>
    <p>Send it securely and separately from the main pupil file, to the receiving school's Designated Safeguarding Lead, and ask for the receipt on the last page to be signed and returned. Record the receipt against pack ${escapeHtml(pack.packId)}.</p>
  </div>
  <header>
    <p class="confidential">CONFIDENTIAL: child protection</p>
    <h1>E-safety records: child-protection transfer pack</h1>
    <dl class="facts">
      <dt>Pupil</dt><dd>${escapeHtml(pupilName)}</dd>${pack.pupil.inRegister ? '' : `
      <dt>Register</dt><dd>This pupil is not in ${school}'s pupil register; only their id is known.</dd>`}${optionalFact('Date of birth', pack.pupil.dateOfBirth && formatDate(pack.pupil.dateOfBirth))}${optionalFact('Year group', pack.pupil.yearGroup && yearLabel(pack.pupil.yearGroup))}${optionalFact('Class', pack.pupil.registrationGroup)}${optionalFact('Unique pupil number', pack.pupil.uniquePupilNumber)}
      <dt>School record id</dt><dd class="id">${escapeHtml(pack.pupil.pupilId)}</dd>
      <dt>From</dt><dd>${school}</dd>
      <dt>To</dt><dd>${escapeHtml(pack.receivingSchool)}</dd>
      <dt>Pack</dt><dd class="id">${escapeHtml(pack.packId)}</dd>
      <dt>Exported by</dt><dd>${escapeHtml(ROLE_LABELS[pack.exportedBy.role])} <span class="id">${escapeHtml(pack.exportedBy.objectId)}</span></dd>
      <dt>Exported at</dt><dd>${escapeHtml(formatTime(pack.exportedAt))} (UK time)</dd>
      <dt>Incidents</dt><dd>${count === 0 ? 'None recorded' : `${count} ${count === 1 ? 'incident' : 'incidents'}: ${pack.incidents.map((i) => escapeHtml(i.reference)).join(', ')}`}</dd>
    </dl>
    <p class="scope">This pack holds every e-safety incident recorded at ${school} in which this pupil is named, each with its full chronology, as at the time of export. Other pupils are counted but not named. Concerns about members of staff or the headteacher are kept under the allegations procedure (and referred to the LADO), not in a child's file, so they are not part of this pack. People are shown by their Microsoft Entra object id at ${school}, with the role they held when the pack was exported where it is known.</p>
  </header>${incidents}
  <section class="receipt">
    <p class="confidential">CONFIDENTIAL: child protection</p>
    <h2>Receipt</h2>
    <p>To the Designated Safeguarding Lead at ${escapeHtml(pack.receivingSchool)}: please sign this page to confirm you have received this pack, and return it to the Designated Safeguarding Lead at ${school}, quoting pack <span class="id">${escapeHtml(pack.packId)}</span>.</p>
    <p>Pack ${escapeHtml(pack.packId)} for ${escapeHtml(pupilName)}, ${count === 0 ? 'a nil return (no incidents)' : `${count} ${count === 1 ? 'incident' : 'incidents'}`}, sent by ${school}.</p>
    <h3>Sent by</h3>
    <div class="sign">
      <span>Name</span><span></span>
      <span>Role</span><span></span>
      <span>Signature</span><span></span>
      <span>Date sent</span><span></span>
    </div>
    <h3>Received by</h3>
    <div class="sign">
      <span>Name</span><span></span>
      <span>Role</span><span></span>
      <span>School</span><span></span>
      <span>Signature</span><span></span>
      <span>Date received</span><span></span>
    </div>
  </section>
</body>
</html>
`;
}

function renderIncident(incident: TransferPackIncident, position: number, count: number, pack: TransferPackDocument): string {
  const rows = incident.chronology
    .slice()
    .sort((a, b) => a.sequence - b.sequence)
    .map(
      (event) => `
          <tr><td>${escapeHtml(formatTime(new Date(event.at)))}</td><td>${actorCell(event.actorId, pack.actorRoles)}</td><td>${escapeHtml(EVENT_LABELS[event.kind] ?? event.kind)}</td><td class="text">${escapeHtml(eventWhat(event.what))}</td><td class="text">${escapeHtml(event.why)}</td></tr>`,
    )
    .join('');
  return `
  <section class="incident">
    <p class="confidential">CONFIDENTIAL: child protection · pack ${escapeHtml(pack.packId)} · incident ${position} of ${count}</p>
    <h2>${escapeHtml(incident.reference)}: ${escapeHtml(incidentTypeLabel(incident.type))}</h2>
    <dl class="facts">
      <dt>Type</dt><dd>${escapeHtml(incidentTypeLabel(incident.type))}</dd>
      <dt>Four Cs</dt><dd>${escapeHtml(capitalise(incident.fourC))}</dd>
      <dt>Child protection</dt><dd>${incident.childProtection || incident.audience === 'child-protection' ? 'Yes' : 'No'}</dd>
      <dt>Occurred</dt><dd>${escapeHtml(formatDate(incident.occurredOn))}${incident.occurredAt ? ` at ${escapeHtml(incident.occurredAt)}` : ''}</dd>${optionalFact('Where', incident.location)}
      <dt>Reported</dt><dd>${escapeHtml(formatTime(new Date(incident.createdAt)))}</dd>
      <dt>Status</dt><dd>${escapeHtml(STATUS_LABELS[incident.status] ?? incident.status)} (last updated ${escapeHtml(formatTime(new Date(incident.updatedAt)))})</dd>
      <dt>Who was involved</dt><dd>${escapeHtml(involvedSummary(incident, pack.pupil.pupilId))}</dd>
    </dl>
    <h3>Description</h3>
    <p class="text">${escapeHtml(incident.description)}</p>
    <h3>Action taken when reported</h3>
    <p class="text">${escapeHtml(incident.actionTaken || 'None recorded.')}</p>
    <h3>Chronology</h3>
    <table>
      <thead><tr><th>When (UK time)</th><th>Who</th><th>Event</th><th>What</th><th>Why</th></tr></thead>
      <tbody>${rows}
      </tbody>
    </table>
  </section>`;
}

function optionalFact(label: string, value: string | undefined): string {
  return value ? `
      <dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>` : '';
}

function actorCell(actorId: string, roles: ReadonlyMap<string, Role>): string {
  const role = roles.get(actorId);
  return `${role ? `${escapeHtml(ROLE_LABELS[role])}<br>` : ''}<span class="id">${escapeHtml(actorId)}</span>`;
}

/** Chronology actions chosen from the response matrix are stored by id; the pack shows their label. */
function eventWhat(what: string): string {
  return Object.prototype.hasOwnProperty.call(RESPONSE_ACTIONS, what) ? RESPONSE_ACTIONS[what as keyof typeof RESPONSE_ACTIONS] : what;
}

function involvedSummary(incident: TransferPackIncident, pupilId: string): string {
  const parts = ['this pupil'];
  const others = new Set(incident.involved.flatMap((p) => (p.kind === 'pupil' && p.pupilId !== pupilId ? [p.pupilId] : []))).size;
  const unlisted = incident.involved.filter((p) => p.kind === 'pupil-unlisted').length;
  const otherPupils = others + unlisted;
  if (otherPupils > 0) parts.push(`${otherPupils} other ${otherPupils === 1 ? 'pupil' : 'pupils'} (not named here)`);
  if (incident.involved.some((p) => p.kind === 'visitor')) parts.push('a visitor');
  if (incident.involved.some((p) => p.kind === 'unknown')) parts.push('someone unknown');
  const sentence = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return capitalise(sentence);
}

function yearLabel(yearGroup: string): string {
  return YEAR_LABELS[yearGroup] ?? (/^\d+$/.test(yearGroup) ? `Year ${yearGroup}` : yearGroup);
}

const capitalise = (value: string): string => value.charAt(0).toUpperCase() + value.slice(1);

/** A calendar date (YYYY-MM-DD) as "1 October 2026"; anything else as given. */
function formatDate(value: string): string {
  return formatUkDate(value);
}

/** An instant as "1 October 2026 at 14:05" in UK time (BST in summer), the same on every Node version. */
function formatTime(value: Date): string {
  if (Number.isNaN(value.getTime())) return 'unknown';
  return `${formatUkDate(londonDate(value))} at ${formatUkTime(value)}`;
}
