import type { Logger } from '../infra/logger';
import type { RoleDirectory } from '../identity/role-directory';
import type { AuditStore } from '../records/audit-store';
import type { AupAcknowledgement, AupStore } from '../records/aup-store';
import { acknowledgingRole, checkAcknowledgedVersion, documentsForRoles, fitsYearGroup, renewalYear, type AupDocument } from '../school/aup-documents';
import { parsePaperAcknowledgements, type PaperRowProblem } from '../school/aup-paper';
import { hasAnyRole, type Principal } from '../school/roles';

/** Where the current AUP documents come from (the school's folder of Markdown files). */
export interface AupDocumentSource {
  listAupDocuments(): Promise<AupDocument[]>;
}

/** Told when pupil AUPs are recorded, so the access gate can enable accounts it holds (usecases/aup-access-gate.ts). */
export interface AupAcknowledgementListener {
  pupilAupRecorded(personIds: readonly string[], correlationId: string): Promise<void>;
}

/** What the AUP use cases are built from. */
export interface AupDependencies {
  schoolId: string;
  documents: AupDocumentSource;
  store: AupStore;
  audit: AuditStore;
  roles: RoleDirectory;
  clock: () => Date;
  logger: Logger;
  /** The access gate, when the feature has one. */
  gateListener?: AupAcknowledgementListener;
  /**
   * Pupils' year groups from the register, keyed by lower-case person id (Entra object id, and
   * `pupil-<register key>` for a pupil without an account), so each pupil gets the pupil AUP for their key stage.
   */
  pupilYearGroups?: () => Promise<ReadonlyMap<string, string>>;
}

/** A pupil's year group by person id (undefined when the register does not know it). */
export type YearGroupOf = (personId: string) => string | undefined;

/** Reads the register's year groups once for a whole run. */
export async function pupilYearGroupLookup(deps: Pick<AupDependencies, 'pupilYearGroups'>): Promise<YearGroupOf> {
  if (!deps.pupilYearGroups) return () => undefined;
  const years = await deps.pupilYearGroups();
  return (personId) => years.get(personId.toLowerCase());
}

/** The documents this person owes: those for their roles, and of the pupil documents only the one for their year group. */
async function documentsForPrincipal(deps: AupDependencies, principal: Principal): Promise<AupDocument[]> {
  const documents = documentsForRoles(await deps.documents.listAupDocuments(), principal.roles);
  if (!principal.roles.has('pupil') || !documents.some((d) => d.yearGroups)) return documents;
  const yearGroup = (await pupilYearGroupLookup(deps))(principal.aadObjectId);
  return documents.filter((d) => !d.audience.includes('pupil') || acknowledgingRole(d, principal.roles) !== 'pupil' || fitsYearGroup(d, yearGroup));
}

/**
 * Lets the access gate release pupils whose AUP has just been recorded. The acknowledgement is already
 * stored, so a failure here is logged and left to the gate's retry (the hourly AUP job), never shown as a failed acknowledgement.
 */
async function tellAccessGate(deps: AupDependencies, personIds: readonly string[], correlationId: string): Promise<void> {
  if (!deps.gateListener || personIds.length === 0) return;
  try {
    await deps.gateListener.pupilAupRecorded(personIds, correlationId);
  } catch (error) {
    deps.logger.warn('aup.gate.release.deferred', { correlationId, errorName: (error as Error).name });
  }
}

/** A document someone is asked to acknowledge, with their acknowledgement of its current version if they made one. */
export interface AupStatus {
  document: AupDocument;
  acknowledgement: AupAcknowledgement | undefined;
}

/** Coordinators, DSLs and the head run campaigns, read coverage and record paper forms. */
export function canManageAups(principal: Principal): boolean {
  return hasAnyRole(principal, 'coordinator', 'dsl', 'headteacher');
}

/** Every document for the caller's roles, each with their acknowledgement of the current version (if any). */
export async function getAupStatus(deps: AupDependencies, principal: Principal): Promise<AupStatus[]> {
  const documents = await documentsForPrincipal(deps, principal);
  const mine = await deps.store.listAcknowledgementsByPerson(deps.schoolId, principal.aadObjectId);
  const now = deps.clock();
  return documents.map((document) => ({
    document,
    acknowledgement: mine.find((a) => a.documentId === document.id && a.version === document.version && a.academicYear === renewalYear(document, now)),
  }));
}

/** The status of one document for the caller, or undefined when it is not one of theirs. */
export async function getAupStatusFor(deps: AupDependencies, principal: Principal, documentId: string): Promise<AupStatus | undefined> {
  const document = (await documentsForPrincipal(deps, principal)).find((d) => d.id === documentId);
  if (!document) return undefined;
  return { document, acknowledgement: await deps.store.getAcknowledgement(deps.schoolId, document.id, document.version, principal.aadObjectId, renewalYear(document, deps.clock())) };
}

export interface AcknowledgeAupRequest {
  principal: Principal;
  /** The display name Teams gives for the caller; stored with the record, never logged. */
  name: string;
  documentId: string;
  version: unknown;
  parentName?: unknown;
  discussed?: unknown;
  correlationId: string;
}

export type AcknowledgeAupOutcome =
  | { kind: 'acknowledged'; document: AupDocument; acknowledgement: AupAcknowledgement; duplicate: boolean }
  | { kind: 'stale'; document: AupDocument; acknowledgement: AupAcknowledgement | undefined }
  | { kind: 'needs-parent'; document: AupDocument; problems: { parentName?: string; discussed?: string } }
  | { kind: 'not-yours' };

/**
 * Records "I have read and understood" for the current version of a document. An out-of-date version is
 * refused (the caller shows the current one); a repeat stores nothing and returns the first record.
 */
export async function acknowledgeAup(deps: AupDependencies, request: AcknowledgeAupRequest): Promise<AcknowledgeAupOutcome> {
  const { principal } = request;
  const target = `aup:${request.documentId}`;
  const status = await getAupStatusFor(deps, principal, request.documentId);
  if (!status) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'aup.acknowledge', target, outcome: 'denied', correlationId: request.correlationId });
    return { kind: 'not-yours' };
  }
  const { document } = status;
  if (checkAcknowledgedVersion(document, request.version) !== 'current') {
    await deps.audit.appendAudit(deps.schoolId, {
      actorId: principal.aadObjectId,
      action: 'aup.acknowledge',
      target,
      outcome: 'denied',
      correlationId: request.correlationId,
      details: { reason: 'stale-version', currentVersion: document.version },
    });
    return { kind: 'stale', document, acknowledgement: status.acknowledgement };
  }
  let parentName: string | undefined;
  if (document.needsParent && !status.acknowledgement) {
    const problems: { parentName?: string; discussed?: string } = {};
    parentName = typeof request.parentName === 'string' ? request.parentName.trim() : '';
    if (parentName.length < 2 || parentName.length > 100) problems.parentName = 'Type the name of the parent or carer who read this with the child.';
    if (request.discussed !== true && request.discussed !== 'true') problems.discussed = 'Tick the box to confirm you talked about the rules together.';
    if (problems.parentName || problems.discussed) return { kind: 'needs-parent', document, problems };
  }
  const at = deps.clock();
  const now = at.toISOString();
  const academicYear = renewalYear(document, at);
  const { created, acknowledgement } = await deps.store.recordAcknowledgement(deps.schoolId, {
    personId: principal.aadObjectId,
    name: request.name.slice(0, 100),
    role: acknowledgingRole(document, principal.roles) ?? 'unknown',
    documentId: document.id,
    version: document.version,
    textHash: document.hash,
    acknowledgedAt: now,
    channel: 'teams-card',
    ...(parentName ? { parentName } : {}),
    ...(academicYear === undefined ? {} : { academicYear }),
    recordedAt: now,
  });
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: principal.aadObjectId,
    action: 'aup.acknowledge',
    target: `${target}:v${document.version}`,
    outcome: 'succeeded',
    correlationId: request.correlationId,
    details: { channel: 'teams-card', duplicate: !created },
  });
  deps.logger.info('aup.acknowledged', { documentId: document.id, version: document.version, duplicate: !created, correlationId: request.correlationId });
  // A repeat tap is passed on too, so a release that failed earlier is tried again at once.
  if (document.audience.includes('pupil')) await tellAccessGate(deps, [principal.aadObjectId], request.correlationId);
  return { kind: 'acknowledged', document, acknowledgement, duplicate: !created };
}

export type PaperImportOutcome =
  | { kind: 'forbidden' }
  | { kind: 'imported'; recorded: number; alreadyRecorded: number; problems: PaperRowProblem[] };

/**
 * Records paper forms in bulk from the coordinator's CSV (see school/aup-paper.ts for the columns). Good rows
 * are recorded even when others are wrong; each bad row is reported by its line number. Re-importing the
 * same file records nothing new.
 */
export async function recordPaperAcknowledgements(deps: AupDependencies, actor: Principal, csv: string, correlationId = 'paper-import'): Promise<PaperImportOutcome> {
  if (!canManageAups(actor)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: actor.aadObjectId, action: 'aup.paper.import', target: 'aup', outcome: 'denied', correlationId });
    return { kind: 'forbidden' };
  }
  const now = deps.clock();
  const documents = await deps.documents.listAupDocuments();
  const { rows, problems } = parsePaperAcknowledgements(csv, documents, now.toISOString().slice(0, 10));
  let recorded = 0;
  let alreadyRecorded = 0;
  const pupilIds: string[] = [];
  for (const row of rows) {
    const document = documents.find((d) => d.id === row.documentId)!;
    if (document.audience.includes('pupil')) pupilIds.push(row.personId);
    // An annual document's form counts for the academic year it was signed in.
    const academicYear = renewalYear(document, row.signedOn);
    const { created } = await deps.store.recordAcknowledgement(deps.schoolId, {
      personId: row.personId,
      name: row.name,
      role: row.role,
      documentId: row.documentId,
      version: row.version,
      textHash: document.hash,
      acknowledgedAt: `${row.signedOn}T12:00:00.000Z`,
      channel: 'paper',
      ...(row.parentName ? { parentName: row.parentName } : {}),
      ...(academicYear === undefined ? {} : { academicYear }),
      recordedBy: actor.aadObjectId,
      recordedAt: now.toISOString(),
    });
    if (created) recorded++;
    else alreadyRecorded++;
  }
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: actor.aadObjectId,
    action: 'aup.paper.import',
    target: 'aup',
    outcome: 'succeeded',
    correlationId,
    details: { recorded, alreadyRecorded, rejected: problems.length },
  });
  await tellAccessGate(deps, pupilIds, correlationId);
  return { kind: 'imported', recorded, alreadyRecorded, problems };
}
