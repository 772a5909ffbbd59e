import { randomBytes } from 'node:crypto';
import type { AuditEntry, AuditRecord, AuditStore } from '../records/audit-store';
import type { AupAcknowledgement, AupStore } from '../records/aup-store';
import type { ConversationStore } from '../records/conversation-store';
import type { IncidentStore, SanctionRecord, StoredIncident } from '../records/incident-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import type { RoleDirectory } from '../identity/role-directory';
import { mayTriageIncident } from '../school/incident-routing';
import { hasAnyRole, ROLES, type Principal, type Role } from '../school/roles';
import { isCalendarDate, londonDate } from '../school/uk-dates';
import {
  renderSubjectAccessPack,
  subjectAccessDueDate,
  type PackIncident,
  type PersonRecordRow,
  type SubjectAccessDocument,
  type SubjectAccessPerson,
  type SubjectRelation,
} from './subject-access-pack';

/** Who may export everything the product holds about a person (a subject access request, UK GDPR Article 15). */
export const SUBJECT_ACCESS_ROLES: readonly Role[] = ['dsl', 'headteacher'];

export const SUBJECT_ACCESS_ACTION = 'subject-access.export';

/** Who made the request: the pack's wording about children's rights and exemptions depends on it. */
export const REQUESTERS = ['self', 'parent-or-carer', 'representative'] as const;
export type Requester = (typeof REQUESTERS)[number];

/** Records another feature keeps about a person (training, consent), as rows of plain-text cells for the pack. */
export type PersonRecordSource = (schoolId: string, person: SubjectAccessPerson) => Promise<PersonRecordRow[]>;

export interface SubjectAccessDependencies {
  schoolId: string;
  schoolName: string;
  incidents: Pick<IncidentStore, 'listIncidents' | 'listChronology' | 'listSanctions'>;
  pupils: Pick<PupilRegisterStore, 'getPupil' | 'findPupilByUserPrincipalName' | 'listPupils'>;
  aup: Pick<AupStore, 'listAcknowledgementsByPerson'>;
  audit: Pick<AuditStore, 'appendAudit' | 'appendAudits' | 'listAudit'>;
  roles: Pick<RoleDirectory, 'getPrincipal'>;
  conversations: Pick<ConversationStore, 'getConversation'>;
  /** Training and consent, once those features exist; a missing one is shown as not held by this product. */
  training?: PersonRecordSource;
  consent?: PersonRecordSource;
  clock: () => Date;
}

export interface SubjectAccessInput {
  /** A member of staff (or governor, volunteer): their Entra object id. */
  aadObjectId?: unknown;
  /** A pupil: their unique pupil number, school username (user principal name) or register id. */
  upn?: unknown;
  /** YYYY-MM-DD: the day the school received the request; the answer is due one calendar month later. */
  requestReceivedOn?: unknown;
  requestedBy?: unknown;
}

export interface ExportedSubjectAccessPack {
  packId: string;
  html: string;
  /** The incidents in the pack, oldest first. */
  references: string[];
}

export type SubjectAccessOutcome = { kind: 'ok'; value: ExportedSubjectAccessPack } | { kind: 'forbidden' } | { kind: 'not-found' } | { kind: 'invalid'; problems: string[] };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Builds the pack of everything this school's records hold about one person, and audits one `incident.read`
 * per incident in it and the export itself before handing it back. Only incidents the exporter may open are
 * included: an allegation the DSL is kept out of, or one about the head, never reaches a pack they export
 * (the pack says where such records would be). Other schools' records are never read: every query is in this
 * school's partition.
 */
export async function exportSubjectAccessPack(deps: SubjectAccessDependencies, exporter: Principal, input: SubjectAccessInput): Promise<SubjectAccessOutcome> {
  const asked = text(input.aadObjectId) || text(input.upn);
  if (!hasAnyRole(exporter, ...SUBJECT_ACCESS_ROLES)) {
    // A school username carries the child's name, so a refused request about one is audited without it.
    const target = asked.includes('@') ? 'person:username' : `person:${asked.slice(0, 100)}`;
    await deps.audit.appendAudit(deps.schoolId, { actorId: exporter.aadObjectId, action: SUBJECT_ACCESS_ACTION, target, outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const today = londonDate(deps.clock());
  const problems = validate(input, today);
  if (problems.length > 0) return { kind: 'invalid', problems };

  const person = await resolvePerson(deps, input);
  const all = await deps.incidents.listIncidents(deps.schoolId);
  const related = all.flatMap((incident) => {
    const relations = relationsOf(person, incident);
    return relations.length > 0 && mayTriageIncident(exporter, incident) ? [{ incident, relations }] : [];
  });
  if (person.kind === 'pupil' && !person.pupil && related.length === 0) return { kind: 'not-found' };
  related.sort((a, b) => a.incident.occurredOn.localeCompare(b.incident.occurredOn) || a.incident.createdAt.localeCompare(b.incident.createdAt));

  const references = related.map((r) => r.incident.reference);
  const [chronologies, sanctions, acknowledgements, auditEntries, conversation, otherPupils, training, consent] = await Promise.all([
    Promise.all(references.map((reference) => deps.incidents.listChronology(deps.schoolId, reference))),
    person.kind === 'pupil' ? deps.incidents.listSanctions(deps.schoolId, { pupilId: person.pupilId }) : Promise.resolve([] as SanctionRecord[]),
    acknowledgementsOf(deps, person),
    auditAbout(deps, person, new Set(references)),
    accountIdOf(person) ? deps.conversations.getConversation(deps.schoolId, accountIdOf(person)!) : Promise.resolve(undefined),
    otherPupilsIn(deps, person, related.map((r) => r.incident)),
    deps.training ? deps.training(deps.schoolId, person) : Promise.resolve(undefined),
    deps.consent ? deps.consent(deps.schoolId, person) : Promise.resolve(undefined),
  ]);
  const incidents: PackIncident[] = related.map(({ incident, relations }, i) => ({ incident, relations, chronology: chronologies[i] ?? [] }));
  const peopleIds = new Set<string>([...incidents.flatMap((i) => [i.incident.reporterId, ...i.chronology.map((e) => e.actorId)]), ...auditEntries.map((e) => e.actorId)]);
  const now = deps.clock();
  const packId = newPackId(today);
  const receivedOn = text(input.requestReceivedOn) || undefined;
  const document: SubjectAccessDocument = {
    packId,
    schoolName: deps.schoolName,
    exportedAt: now,
    exportedBy: { objectId: exporter.aadObjectId, role: exporter.roles.has('dsl') ? 'dsl' : 'headteacher' },
    person,
    requestedBy: (text(input.requestedBy) || 'self') as Requester,
    receivedOn,
    dueOn: receivedOn ? subjectAccessDueDate(receivedOn) : undefined,
    incidents,
    sanctions,
    acknowledgements,
    audit: auditEntries,
    teamsConversationHeld: conversation !== undefined,
    otherPupilNames: otherPupils,
    actorRoles: await rolesOf(deps, [...peopleIds]),
    training,
    consent,
    today,
  };
  const html = renderSubjectAccessPack(document);

  const target = person.kind === 'staff' ? `user:${person.aadObjectId}` : `pupil:${person.pupilId}`;
  const reads = references.map((reference): AuditEntry => ({ actorId: exporter.aadObjectId, action: 'incident.read', target: reference, outcome: 'succeeded', details: { packId, via: 'subject-access' } }));
  const exported: AuditEntry = {
    actorId: exporter.aadObjectId,
    action: SUBJECT_ACCESS_ACTION,
    target,
    outcome: 'succeeded',
    details: { packId, incidentCount: references.length, references: references.join(','), requestedBy: document.requestedBy, ...(receivedOn ? { receivedOn } : {}) },
  };
  await deps.audit.appendAudits(deps.schoolId, [...reads, exported]);
  return { kind: 'ok', value: { packId, html, references } };
}

function validate(input: SubjectAccessInput, today: string): string[] {
  const problems: string[] = [];
  const id = text(input.aadObjectId);
  const upn = text(input.upn);
  if (id && upn) problems.push('Ask about one person: give aadObjectId (staff) or upn (a pupil), not both.');
  else if (!id && !upn) problems.push('Say whose records to export: aadObjectId for a member of staff, or upn for a pupil.');
  else if (id && !GUID.test(id)) problems.push('aadObjectId must be the person\'s Microsoft Entra object id (a GUID).');
  else if (upn.length > 200) problems.push('upn must be at most 200 characters.');
  const received = text(input.requestReceivedOn);
  if (received && !isCalendarDate(received)) problems.push('requestReceivedOn must be a calendar date (YYYY-MM-DD).');
  else if (received > today) problems.push('requestReceivedOn cannot be in the future.');
  const requestedBy = text(input.requestedBy);
  if (requestedBy && !(REQUESTERS as readonly string[]).includes(requestedBy)) problems.push(`requestedBy must be one of ${REQUESTERS.join(', ')}.`);
  return problems;
}

/**
 * A pupil is found in the register by register id (a point read), by school username, or by unique pupil number
 * (a read of the register, which only this rare export does). One who is not in the register, but is named in
 * incidents by the id given, is still a person the school holds records about.
 */
async function resolvePerson(deps: SubjectAccessDependencies, input: SubjectAccessInput): Promise<SubjectAccessPerson> {
  const id = text(input.aadObjectId).toLowerCase();
  if (id) {
    const principal = await deps.roles.getPrincipal(id);
    return { kind: 'staff', aadObjectId: id, roles: ROLES.filter((r) => principal.roles.has(r)) };
  }
  const asked = text(input.upn);
  const pupil =
    (await deps.pupils.getPupil(deps.schoolId, asked)) ??
    (asked.includes('@')
      ? await deps.pupils.findPupilByUserPrincipalName(deps.schoolId, asked)
      : (await deps.pupils.listPupils(deps.schoolId)).find((p) => p.uniquePupilNumber?.toUpperCase() === asked.toUpperCase()));
  return { kind: 'pupil', pupilId: pupil?.externalId ?? asked, pupil, asked };
}

/** How the person appears in an incident; empty when they do not. */
export function relationsOf(person: SubjectAccessPerson, incident: StoredIncident): SubjectRelation[] {
  if (person.kind === 'pupil') return incident.involved.some((p) => p.kind === 'pupil' && p.pupilId === person.pupilId) ? ['involved'] : [];
  const id = person.aadObjectId;
  const relations: SubjectRelation[] = [];
  if (incident.subjectId === id) relations.push('subject');
  if (incident.reporterId === id) relations.push('reporter');
  if (incident.referrals?.some((r) => r.byId === id || r.outcomeById === id)) relations.push('referrer');
  if (incident.grantedViewerIds?.includes(id)) relations.push('given-access');
  return relations;
}

async function acknowledgementsOf(deps: SubjectAccessDependencies, person: SubjectAccessPerson): Promise<AupAcknowledgement[]> {
  // A pupil's agreements are kept under their account id, or `pupil-<register id>` for a paper form from a pupil
  // without an account, and a parent's agreement for them under `parent-of-` either of those (aup-paper-forms).
  const own = person.kind === 'pupil' ? [person.pupil?.userId?.toLowerCase(), `pupil-${person.pupilId}`] : [];
  const ids =
    person.kind === 'staff'
      ? [person.aadObjectId]
      : [...new Set([...own, ...own.map((id) => id && `parent-of-${id}`), person.pupilId, person.pupil?.userPrincipalName].filter((v): v is string => Boolean(v)))];
  const found = (await Promise.all(ids.map((id) => deps.aup.listAcknowledgementsByPerson(deps.schoolId, id)))).flat();
  return found.sort((a, b) => a.acknowledgedAt.localeCompare(b.acknowledgedAt));
}

/**
 * Audit entries about the person: what they did, what was done to their account or register entry, and who opened
 * the incidents in the pack. The audit log is keyed by time, not person, so this reads the school's log once:
 * a partition scan a few times a year, for a request the school has a month to answer.
 */
async function auditAbout(deps: SubjectAccessDependencies, person: SubjectAccessPerson, references: ReadonlySet<string>): Promise<AuditRecord[]> {
  const actorIds = new Set(person.kind === 'staff' ? [person.aadObjectId] : person.pupil?.userId ? [person.pupil.userId] : []);
  const targets = new Set(person.kind === 'staff' ? [`user:${person.aadObjectId}`] : [`pupil:${person.pupilId}`, ...(person.pupil?.userId ? [`user:${person.pupil.userId}`] : [])]);
  const entries = await deps.audit.listAudit(deps.schoolId);
  return entries.filter((e) => actorIds.has(e.actorId) || targets.has(e.target) || references.has(e.target));
}

/** The names of the other pupils in the pack's incidents, so the pack can mark them wherever they appear. */
async function otherPupilsIn(deps: SubjectAccessDependencies, person: SubjectAccessPerson, incidents: readonly StoredIncident[]): Promise<Map<string, string>> {
  const self = person.kind === 'pupil' ? person.pupilId : undefined;
  const ids = [...new Set(incidents.flatMap((i) => i.involved.flatMap((p) => (p.kind === 'pupil' && p.pupilId !== self ? [p.pupilId] : []))))];
  const rows = await Promise.all(ids.map((id) => deps.pupils.getPupil(deps.schoolId, id)));
  const names = new Map<string, string>();
  ids.forEach((id, i) => {
    const row: PupilRecord | undefined = rows[i];
    names.set(id, row ? `${row.forename} ${row.surname}`.trim() : '');
  });
  return names;
}

/** The person's Entra account: a member of staff's own id, or a pupil's account from the register. */
function accountIdOf(person: SubjectAccessPerson): string | undefined {
  return person.kind === 'staff' ? person.aadObjectId : person.pupil?.userId;
}

const ROLE_PRIORITY: readonly Role[] = ['headteacher', 'dsl', 'coordinator', 'chair', 'governor', 'admin', 'staff', 'pupil'];

async function rolesOf(deps: SubjectAccessDependencies, ids: readonly string[]): Promise<Map<string, Role>> {
  const principals = await Promise.all(ids.map((id) => deps.roles.getPrincipal(id)));
  const labels = new Map<string, Role>();
  ids.forEach((id, i) => {
    const role = ROLE_PRIORITY.find((r) => principals[i]?.roles.has(r));
    if (role) labels.set(id, role);
  });
  return labels;
}

/** Pack ids are short enough to quote in a letter: `SAR-<year>-` then 8 Crockford base-32 characters. */
const PACK_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function newPackId(today: string): string {
  const code = Array.from(randomBytes(8), (b) => PACK_ID_ALPHABET[b % 32]).join('');
  return `SAR-${today.slice(0, 4)}-${code}`;
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
