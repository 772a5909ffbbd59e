import type { AuditStore } from '../records/audit-store';
import type { ConsentStore } from '../records/consent-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';

/** What the consent clean-up reads and deletes. */
export interface ConsentRetentionDependencies {
  schoolId: string;
  store: Pick<ConsentStore, 'listConsentStates' | 'deletePupilConsent'>;
  pupils: Pick<PupilRegisterStore, 'listPupils'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
}

const DAY_MS = 86_400_000;

/**
 * Whether a pupil's consent is past keeping. The privacy notice says consent is kept while the pupil is at the
 * school: it goes once the pupil has been off the roll for the leaver grace (LEAVER_GRACE_DAYS, the same days after
 * which their account is deleted), so a pupil taken off the roll by mistake and put back keeps it.
 */
export function consentExpired(pupil: Pick<PupilRecord, 'status' | 'disabledAt' | 'deletedAt'> | undefined, graceDays: number, now: Date): boolean {
  if (!pupil || (pupil.status !== 'leaver-disabled' && pupil.status !== 'deleted')) return false;
  const left = pupil.disabledAt ?? pupil.deletedAt;
  if (!left) return pupil.status === 'deleted';
  return Date.parse(left) + graceDays * DAY_MS <= now.getTime();
}

/**
 * Deletes the consent (states and history) of every pupil who has left for longer than the grace, with an audit
 * entry per pupil naming only the register id. Safe on every instance at once: a second deletion finds nothing.
 * A pupil whose consent was recorded but who is not on the register at all is left alone (the register decides).
 */
export async function deleteLeaversConsent(deps: ConsentRetentionDependencies, graceDays: number): Promise<{ pupils: number; rows: number }> {
  const [states, register] = await Promise.all([deps.store.listConsentStates(deps.schoolId), deps.pupils.listPupils(deps.schoolId)]);
  if (states.size === 0) return { pupils: 0, rows: 0 };
  const byId = new Map(register.map((p) => [p.externalId, p]));
  const now = deps.clock();
  let pupils = 0;
  let rows = 0;
  for (const pupilId of states.keys()) {
    if (!consentExpired(byId.get(pupilId), graceDays, now)) continue;
    const deleted = await deps.store.deletePupilConsent(deps.schoolId, pupilId);
    if (deleted === 0) continue;
    pupils++;
    rows += deleted;
    await deps.audit.appendAudit(deps.schoolId, { actorId: 'system', action: 'consent.delete-leaver', target: `pupil:${pupilId}`, outcome: 'succeeded', details: { rows: deleted } });
  }
  return { pupils, rows };
}
