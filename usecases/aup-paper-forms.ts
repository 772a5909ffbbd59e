import { createHash } from 'node:crypto';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import { fitsYearGroup, renewalYear, type AupDocument } from '../school/aup-documents';
import { checkPaperForm, readPaperFormsCsv, type PaperForm, type PaperRowProblem } from '../school/aup-paper';
import type { Principal } from '../school/roles';
import { canManageAups, type AupDependencies } from './acknowledge-aup';

/** The AUP dependencies, with the register that paper pupil and parent forms are matched to. */
export interface PaperFormDependencies extends AupDependencies {
  register: Pick<PupilRegisterStore, 'findPupilByUserPrincipalName' | 'listPupils'>;
}

export interface RecordedPaperForm {
  documentId: string;
  version: number;
  signedBy: PaperForm['signedBy'];
  /** Whose acknowledgement it is: an Entra object id, `pupil-<register key>`, `parent-of-<pupil>` or `visitor-<hash>`. */
  personId: string;
  /** A parent's agreement: the child it is linked to. */
  forPupil?: string;
  duplicate: boolean;
}

export type PaperFormOutcome =
  | { kind: 'forbidden' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'ok'; value: RecordedPaperForm };

/** A pupil's id for AUP records: their account's object id, or their register key until they have an account. */
function pupilPersonId(pupil: Pick<PupilRecord, 'userId' | 'externalId'>): string {
  return pupil.userId ? pupil.userId.toLowerCase() : `pupil-${pupil.externalId}`;
}

/** A stable id for a visitor without an account, so recording the same form twice stores it once. */
function visitorPersonId(name: string, signedOn: string): string {
  return `visitor-${createHash('sha256').update(`${name.toLowerCase()}|${signedOn}`, 'utf8').digest('hex').slice(0, 20)}`;
}

async function resolvePupil(deps: PaperFormDependencies, form: PaperForm): Promise<{ personId: string; name: string; yearGroup?: string } | undefined> {
  const pupil = form.upn
    ? await deps.register.findPupilByUserPrincipalName(deps.schoolId, form.upn)
    : (await deps.register.listPupils(deps.schoolId)).find((p) => p.userId?.toLowerCase() === form.aadObjectId);
  return pupil ? { personId: pupilPersonId(pupil), name: `${pupil.forename} ${pupil.surname}`, ...(pupil.yearGroup ? { yearGroup: pupil.yearGroup } : {}) } : undefined;
}

/** "Year 4", "Reception", "Nursery". */
function yearGroupName(yearGroup: string): string {
  return yearGroup === 'R' ? 'Reception' : yearGroup === 'N' ? 'Nursery' : `Year ${yearGroup}`;
}

async function recordOne(deps: PaperFormDependencies, actor: Principal, form: PaperForm, document: AupDocument, correlationId: string): Promise<RecordedPaperForm | { problem: string }> {
  const now = deps.clock().toISOString();
  let personId: string;
  let name: string;
  let forPupil: string | undefined;
  let parentName: string | undefined;
  if (form.signedBy === 'pupil' || form.signedBy === 'parent') {
    const pupil = await resolvePupil(deps, form);
    if (!pupil) return { problem: `no pupil on the register has ${form.upn ? `the username ${form.upn}` : 'that aadObjectId'}` };
    // Pupils in Reception to Year 2 sign the Key Stage 1 AUP and Years 3 to 6 the Key Stage 2 one.
    if (!fitsYearGroup(document, pupil.yearGroup)) {
      const theirs = (await deps.documents.listAupDocuments()).filter((d) => d.audience.includes('pupil') && d.yearGroups?.includes(pupil.yearGroup!)).map((d) => d.id);
      return { problem: `${document.id} is for ${document.yearGroups!.map(yearGroupName).join(', ')}, and this pupil is in ${yearGroupName(pupil.yearGroup!)}${theirs.length > 0 ? `: record their form against ${theirs.join(' or ')}` : ''}` };
    }
    if (form.signedBy === 'pupil') {
      personId = pupil.personId;
      name = pupil.name;
      parentName = form.name;
    } else {
      forPupil = pupil.personId;
      personId = `parent-of-${pupil.personId}`;
      name = form.name!;
      parentName = form.name;
    }
  } else if (form.signedBy === 'visitor') {
    personId = visitorPersonId(form.name!, form.signedOn);
    name = form.name!;
  } else {
    personId = form.aadObjectId!;
    name = form.name ?? 'Member of staff (paper form)';
  }
  const { created } = await deps.store.recordAcknowledgement(deps.schoolId, {
    personId,
    name: name.slice(0, 100),
    role: form.signedBy,
    documentId: document.id,
    version: document.version,
    textHash: document.hash,
    acknowledgedAt: `${form.signedOn}T12:00:00.000Z`,
    channel: 'paper',
    ...(parentName ? { parentName: parentName.slice(0, 100) } : {}),
    ...(forPupil ? { forPupil } : {}),
    // An annual document's form counts for the academic year it was signed in.
    ...(renewalYear(document, form.signedOn) === undefined ? {} : { academicYear: renewalYear(document, form.signedOn)! }),
    recordedBy: actor.aadObjectId,
    recordedAt: now,
  });
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: actor.aadObjectId,
    action: 'aup.paper.record',
    target: `aup:${document.id}:v${document.version}`,
    outcome: 'succeeded',
    correlationId,
    details: { signedBy: form.signedBy, duplicate: !created },
  });
  return { documentId: document.id, version: document.version, signedBy: form.signedBy, personId, ...(forPupil ? { forPupil } : {}), duplicate: !created };
}

/** Tells the access gate; the form is stored already, so a failure is logged and left to the hourly retry. */
async function releaseFromGate(deps: PaperFormDependencies, personIds: readonly string[], correlationId: string): Promise<void> {
  const accounts = personIds.filter((id) => !id.startsWith('pupil-'));
  if (!deps.gateListener || accounts.length === 0) return;
  try {
    await deps.gateListener.pupilAupRecorded(accounts, correlationId);
  } catch (error) {
    deps.logger.warn('aup.gate.release.deferred', { correlationId, errorName: (error as Error).name });
  }
}

/**
 * Records one paper form (`POST /api/aup/paper`), by the coordinator, the DSL or the head. Recording the same
 * form again stores nothing new. A pupil's acknowledgement of a current pupil AUP releases them from the access gate.
 */
export async function recordPaperForm(deps: PaperFormDependencies, actor: Principal, body: Record<string, unknown>, correlationId: string): Promise<PaperFormOutcome> {
  if (!canManageAups(actor)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: actor.aadObjectId, action: 'aup.paper.record', target: 'aup', outcome: 'denied', correlationId });
    return { kind: 'forbidden' };
  }
  const documents = await deps.documents.listAupDocuments();
  const checked = checkPaperForm(body, documents, londonToday(deps.clock()));
  if ('problems' in checked) return { kind: 'invalid', problems: checked.problems };
  const recorded = await recordOne(deps, actor, checked.form, checked.document, correlationId);
  if ('problem' in recorded) return { kind: 'invalid', problems: [recorded.problem] };
  if (checked.form.signedBy === 'pupil' && checked.document.audience.includes('pupil')) await releaseFromGate(deps, [recorded.personId], correlationId);
  return { kind: 'ok', value: recorded };
}

export type PaperCsvOutcome =
  | { kind: 'forbidden' }
  | { kind: 'ok'; value: { recorded: number; alreadyRecorded: number; problems: PaperRowProblem[] } };

/** Records a CSV of paper forms (the same fields as one form); good rows are recorded, each bad row is reported by line. */
export async function recordPaperFormsCsv(deps: PaperFormDependencies, actor: Principal, csv: string, correlationId: string): Promise<PaperCsvOutcome> {
  if (!canManageAups(actor)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: actor.aadObjectId, action: 'aup.paper.import', target: 'aup', outcome: 'denied', correlationId });
    return { kind: 'forbidden' };
  }
  const documents = await deps.documents.listAupDocuments();
  const today = londonToday(deps.clock());
  const { rows, problems } = readPaperFormsCsv(csv);
  let recorded = 0;
  let alreadyRecorded = 0;
  const pupils: string[] = [];
  for (const { row, body } of rows) {
    const checked = checkPaperForm(body, documents, today);
    if ('problems' in checked) {
      problems.push({ row, message: checked.problems.join('; ') });
      continue;
    }
    const result = await recordOne(deps, actor, checked.form, checked.document, correlationId);
    if ('problem' in result) {
      problems.push({ row, message: result.problem });
      continue;
    }
    if (result.duplicate) alreadyRecorded++;
    else recorded++;
    if (result.signedBy === 'pupil' && checked.document.audience.includes('pupil')) pupils.push(result.personId);
  }
  await releaseFromGate(deps, pupils, correlationId);
  return { kind: 'ok', value: { recorded, alreadyRecorded, problems } };
}

/** Today's date in the UK, YYYY-MM-DD (a form signed this evening is not "in the future"). */
export function londonToday(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
