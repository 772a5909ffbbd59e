import type { AuditStore } from '../records/audit-store';
import { ConsentStore, type ConsentChange } from '../records/consent-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import {
  checkConsentForm,
  checkWithdrawal,
  CONSENT_AREA_IDS,
  consentAreaLabel,
  countConsent,
  nextConsentState,
  readConsentCsv,
  type ConsentArea,
  type ConsentDecision,
  type ConsentEvent,
  type ConsentRelationship,
  type ConsentState,
  type ConsentStatus,
} from '../school/consent';
import { canReportIncidents, hasAnyRole, type Principal, type Role } from '../school/roles';
import { formatUkDate, formatUkDateTime, londonDate } from '../school/uk-dates';

/** Who records forms and withdrawal letters, and sees who signed them and the history. */
export const CONSENT_RECORD_ROLES: readonly Role[] = ['coordinator', 'dsl', 'headteacher', 'admin'];

export const CONSENT_AUDIT = { read: 'consent.read', history: 'consent.history', record: 'consent.record', withdraw: 'consent.withdraw' } as const;

export interface ConsentDependencies {
  schoolId: string;
  store: Pick<ConsentStore, 'getConsent' | 'applyConsentChanges' | 'listConsentHistory' | 'listConsentStates'>;
  pupils: Pick<PupilRegisterStore, 'getPupil' | 'findPupilByUserPrincipalName' | 'listPupils'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
}

export type ConsentOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'forbidden' }
  | { kind: 'not-found' }
  | { kind: 'invalid'; problems: string[] }
  | { kind: 'conflict'; message: string; reason?: string };

/** One area as answered to staff: whether the use is allowed, and since when. */
export interface ConsentAnswerArea {
  area: ConsentArea;
  label: string;
  status: ConsentStatus;
  /** The only answer a member of staff needs: given and not withdrawn. */
  mayUse: boolean;
  on?: string;
  givenOn?: string;
  relationship?: ConsentRelationship;
  /** Who signed; only for the roles that record consent. */
  by?: string;
}

export interface PupilConsent {
  pupil: { pupilId: string; name: string; registrationGroup?: string; onRoll: boolean };
  areas: ConsentAnswerArea[];
}

export type ConsentVia = 'bot' | 'tab';

const WRITE_ATTEMPTS = 3;

const DECISION_LABELS: Readonly<Record<ConsentDecision, string>> = { given: 'Consent given', refused: 'Consent refused', withdrawn: 'Consent withdrawn' };
const RELATIONSHIP_LABELS: Readonly<Record<ConsentRelationship, string>> = { parent: 'Parent', carer: 'Carer', guardian: 'Guardian', 'local-authority': 'Local authority' };

/** Staff (and the leaders, who are staff too) read consent; governors and pupils never do. */
export function mayReadConsent(principal: Principal): boolean {
  return canReportIncidents(principal) || hasAnyRole(principal, ...CONSENT_RECORD_ROLES);
}

export function mayRecordConsent(principal: Principal): boolean {
  return hasAnyRole(principal, ...CONSENT_RECORD_ROLES);
}

/**
 * One pupil's consent for the five areas. Every answer, and every refusal, is audited (who, which pupil, how asked)
 * before anything leaves; the parent's name never goes to the audit.
 */
export async function getPupilConsent(deps: ConsentDependencies, principal: Principal, pupilRef: string, via: ConsentVia, correlationId?: string): Promise<ConsentOutcome<PupilConsent>> {
  const audit = (outcome: 'succeeded' | 'denied', target: string, details: Record<string, string | number> = {}) =>
    deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: CONSENT_AUDIT.read, target, outcome, details: { via, ...details }, ...(correlationId ? { correlationId } : {}) });
  if (!mayReadConsent(principal)) {
    await audit('denied', 'consent');
    return { kind: 'forbidden' };
  }
  const pupil = await resolvePupil(deps, pupilRef);
  if (!pupil) return { kind: 'not-found' };
  const states = ConsentStore.statesOf(await deps.store.getConsent(deps.schoolId, pupil.externalId), CONSENT_AREA_IDS);
  const withNames = mayRecordConsent(principal);
  await audit('succeeded', `pupil:${pupil.externalId}`, { given: states.filter((s) => s.state.status === 'given').length });
  return { kind: 'ok', value: { pupil: pupilSummary(pupil), areas: states.map((s) => answerArea(s.state, withNames)) } };
}

/** The chronology of one pupil's consent (recorders only), audited. */
export async function getConsentHistory(deps: ConsentDependencies, principal: Principal, pupilRef: string): Promise<ConsentOutcome<{ pupil: PupilConsent['pupil']; events: ConsentEvent[] }>> {
  if (!mayRecordConsent(principal)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: CONSENT_AUDIT.history, target: 'consent', outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const pupil = await resolvePupil(deps, pupilRef);
  if (!pupil) return { kind: 'not-found' };
  const events = (await deps.store.listConsentHistory(deps.schoolId, pupil.externalId)).sort((a, b) => a.recordedAt.localeCompare(b.recordedAt) || a.area.localeCompare(b.area) || a.sequence - b.sequence);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: CONSENT_AUDIT.history, target: `pupil:${pupil.externalId}`, outcome: 'succeeded', details: { events: events.length } });
  return { kind: 'ok', value: { pupil: pupilSummary(pupil), events } };
}

export interface ConsentWriteResult {
  pupilId: string;
  recorded: ConsentArea[];
  unchanged: ConsentArea[];
  superseded: { area: ConsentArea; reason: string }[];
  areas: ConsentAnswerArea[];
}

/** Records a parent's or carer's form (recorders only). Repeating it changes nothing; an older form never overrides a later record. */
export async function recordConsentForm(deps: ConsentDependencies, principal: Principal, body: Record<string, unknown>, source: 'form' | 'csv' = 'form'): Promise<ConsentOutcome<ConsentWriteResult>> {
  if (!mayRecordConsent(principal)) return deny(deps, principal, CONSENT_AUDIT.record);
  const checked = checkConsentForm(body, londonDate(deps.clock()));
  if ('problems' in checked) return { kind: 'invalid', problems: checked.problems };
  const { form } = checked;
  return write(deps, principal, form.pupil, CONSENT_AUDIT.record, form.answers.map((a) => ({ area: a.area, decision: a.decision, on: form.signedOn, by: form.givenBy, relationship: form.relationship })), source);
}

/** Records a written withdrawal (recorders only). It takes effect at once: the next read, by anyone, says no. */
export async function withdrawConsent(deps: ConsentDependencies, principal: Principal, body: Record<string, unknown>): Promise<ConsentOutcome<ConsentWriteResult>> {
  if (!mayRecordConsent(principal)) return deny(deps, principal, CONSENT_AUDIT.withdraw);
  const checked = checkWithdrawal(body, londonDate(deps.clock()));
  if ('problems' in checked) return { kind: 'invalid', problems: checked.problems };
  const { withdrawal } = checked;
  return write(
    deps,
    principal,
    withdrawal.pupil,
    CONSENT_AUDIT.withdraw,
    withdrawal.areas.map((area) => ({ area, decision: 'withdrawn' as const, on: withdrawal.withdrawnOn, by: withdrawal.withdrawnBy, relationship: withdrawal.relationship })),
    'letter',
  );
}

/** Counts per area for pupils on the roll (recorders only): how many may appear in each kind of publication. */
export async function getConsentCoverage(deps: ConsentDependencies, principal: Principal): Promise<ConsentOutcome<{ pupils: number; areas: { area: ConsentArea; label: string; counts: Record<ConsentStatus, number> }[] }>> {
  if (!mayRecordConsent(principal)) return { kind: 'forbidden' };
  const { pupils, counts } = await countConsentCoverage(deps);
  return { kind: 'ok', value: { pupils, areas: CONSENT_AREA_IDS.map((area) => ({ area, label: consentAreaLabel(area), counts: counts[area] })) } };
}

export interface ConsentCsvResult {
  recorded: number;
  alreadyRecorded: number;
  problems: { row: number; message: string }[];
}

/**
 * Records a CSV of paper forms (recorders only): each good row as one form, each bad row reported by its line.
 * The register is read once to find pupils by unique pupil number or username, so a row costs a consent read and
 * one transaction, whatever the size of the roll.
 */
export async function recordConsentCsv(deps: ConsentDependencies, principal: Principal, csv: string): Promise<ConsentOutcome<ConsentCsvResult>> {
  if (!mayRecordConsent(principal)) return deny(deps, principal, CONSENT_AUDIT.record);
  const { rows, problems } = readConsentCsv(csv);
  const register = rows.length > 0 ? await deps.pupils.listPupils(deps.schoolId) : [];
  const byRef = new Map<string, PupilRecord>();
  for (const p of register) {
    byRef.set(p.externalId.toUpperCase(), p);
    if (p.uniquePupilNumber) byRef.set(p.uniquePupilNumber.toUpperCase(), p);
    byRef.set(p.userPrincipalName.toUpperCase(), p);
  }
  const known: Pick<ConsentDependencies, 'schoolId' | 'pupils'> = {
    schoolId: deps.schoolId,
    pupils: {
      getPupil: async (_school, id) => byRef.get(id.trim().toUpperCase()),
      findPupilByUserPrincipalName: async (_school, upn) => byRef.get(upn.trim().toUpperCase()),
      listPupils: async () => register,
    },
  };
  let recorded = 0;
  let alreadyRecorded = 0;
  for (const { row, body } of rows) {
    const outcome = await recordConsentForm({ ...deps, ...known }, principal, body, 'csv');
    if (outcome.kind === 'ok') {
      if (outcome.value.recorded.length > 0) recorded++;
      else alreadyRecorded++;
      for (const s of outcome.value.superseded) problems.push({ row, message: `${s.area}: not recorded, ${s.reason}` });
    } else if (outcome.kind === 'invalid') problems.push({ row, message: outcome.problems.join('; ') });
    else if (outcome.kind === 'not-found') problems.push({ row, message: 'no pupil on the register has that id, unique pupil number or username' });
    else if (outcome.kind === 'conflict') problems.push({ row, message: outcome.message });
    else return outcome;
  }
  problems.sort((a, b) => a.row - b.row);
  return { kind: 'ok', value: { recorded, alreadyRecorded, problems } };
}

/** Counts per area for pupils on the roll, with no caller: for a summary that hides small counts itself. */
export async function countConsentCoverage(deps: Pick<ConsentDependencies, 'schoolId' | 'store' | 'pupils'>): Promise<{ pupils: number; counts: Record<ConsentArea, Record<ConsentStatus, number>> }> {
  const [pupils, states] = await Promise.all([deps.pupils.listPupils(deps.schoolId), deps.store.listConsentStates(deps.schoolId)]);
  const onRoll = pupils.filter(isOnRoll);
  return { pupils: onRoll.length, counts: countConsent(onRoll.map((p) => states.get(p.externalId) ?? [])) };
}

interface Change {
  area: ConsentArea;
  decision: ConsentDecision;
  on: string;
  by: string | undefined;
  relationship: ConsentRelationship | undefined;
}

async function write(deps: ConsentDependencies, principal: Principal, pupilRef: string, action: string, changes: Change[], source: ConsentEvent['source']): Promise<ConsentOutcome<ConsentWriteResult>> {
  const pupil = await resolvePupil(deps, pupilRef);
  if (!pupil) return { kind: 'not-found' };
  const pupilId = pupil.externalId;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const found = await deps.store.getConsent(deps.schoolId, pupilId);
    const current = ConsentStore.statesOf(found, CONSENT_AREA_IDS);
    const recordedAt = deps.clock().toISOString();
    const result: ConsentWriteResult = { pupilId, recorded: [], unchanged: [], superseded: [], areas: [] };
    const writes: ConsentChange[] = [];
    const after = new Map<ConsentArea, ConsentState>(current.map((c) => [c.state.area, c.state]));
    for (const change of changes) {
      const stored = current.find((c) => c.state.area === change.area)!;
      const check = nextConsentState(stored.state, { ...change, recordedAt });
      if (check.kind === 'unchanged') result.unchanged.push(change.area);
      else if (check.kind === 'superseded') result.superseded.push({ area: change.area, reason: check.reason });
      else {
        result.recorded.push(change.area);
        after.set(change.area, check.next);
        const event: ConsentEvent = {
          pupilId,
          area: change.area,
          decision: change.decision,
          on: change.on,
          sequence: check.next.sequence,
          recordedBy: principal.aadObjectId,
          recordedAt,
          source,
          ...(change.by ? { by: change.by } : {}),
          ...(change.relationship ? { relationship: change.relationship } : {}),
        };
        writes.push({ next: check.next, event, etag: stored.etag });
      }
    }
    if (!(await deps.store.applyConsentChanges(deps.schoolId, pupilId, writes))) continue;
    result.areas = CONSENT_AREA_IDS.map((area) => answerArea(after.get(area)!, true));
    await deps.audit.appendAudit(deps.schoolId, {
      actorId: principal.aadObjectId,
      action,
      target: `pupil:${pupilId}`,
      outcome: 'succeeded',
      details: { source, recorded: result.recorded.join(','), unchanged: result.unchanged.length, superseded: result.superseded.map((s) => s.area).join(',') },
    });
    return { kind: 'ok', value: result };
  }
  return { kind: 'conflict', message: 'Someone else changed this pupil\'s consent at the same moment. Reload and check before recording again.', reason: 'changed' };
}

async function deny(deps: ConsentDependencies, principal: Principal, action: string): Promise<{ kind: 'forbidden' }> {
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action, target: 'consent', outcome: 'denied' });
  return { kind: 'forbidden' };
}

function answerArea(state: ConsentState, withNames: boolean): ConsentAnswerArea {
  return {
    area: state.area,
    label: consentAreaLabel(state.area),
    status: state.status,
    mayUse: state.status === 'given',
    ...(state.on ? { on: state.on } : {}),
    ...(state.givenOn && state.status === 'withdrawn' ? { givenOn: state.givenOn } : {}),
    ...(state.relationship ? { relationship: state.relationship } : {}),
    ...(withNames && state.by ? { by: state.by } : {}),
  };
}

function isOnRoll(pupil: PupilRecord): boolean {
  return pupil.status === 'active' || pupil.status === 'pending';
}

function pupilSummary(pupil: PupilRecord): PupilConsent['pupil'] {
  return { pupilId: pupil.externalId, name: `${pupil.forename} ${pupil.surname}`.trim(), ...(pupil.registrationGroup ? { registrationGroup: pupil.registrationGroup } : {}), onRoll: isOnRoll(pupil) };
}

/**
 * A pupil by register id (a point read; what the bot's picker submits), school username, or unique pupil number
 * (a read of the register, as the subject access export does). Consent is kept only for pupils on the register.
 */
export async function resolvePupil(deps: Pick<ConsentDependencies, 'schoolId' | 'pupils'>, pupilRef: string): Promise<PupilRecord | undefined> {
  const ref = pupilRef.trim();
  if (!ref) return undefined;
  const byId = await deps.pupils.getPupil(deps.schoolId, ref);
  if (byId) return byId;
  if (ref.includes('@')) return deps.pupils.findPupilByUserPrincipalName(deps.schoolId, ref);
  return (await deps.pupils.listPupils(deps.schoolId)).find((p) => p.uniquePupilNumber?.toUpperCase() === ref.toUpperCase());
}

/**
 * The pack's rows for one pupil (subject access): every event in date order. The signer is a third party, so the
 * pack says who they were to the pupil and leaves their name in the register, where the school can add it if it
 * decides to release it.
 */
export async function consentRowsForPupil(deps: Pick<ConsentDependencies, 'store'>, schoolId: string, pupilId: string): Promise<Record<string, string>[]> {
  const events = await deps.store.listConsentHistory(schoolId, pupilId);
  return events
    .sort((a, b) => a.on.localeCompare(b.on) || a.recordedAt.localeCompare(b.recordedAt))
    .map((e) => ({
      Use: consentAreaLabel(e.area),
      Decision: DECISION_LABELS[e.decision],
      Dated: formatUkDate(e.on),
      'Given or written by': e.relationship ? RELATIONSHIP_LABELS[e.relationship] : e.by ? 'Parent or carer' : 'Not stated',
      'Recorded at': formatUkDateTime(e.recordedAt),
    }));
}
