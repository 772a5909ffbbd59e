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

/**
 * Whether a pupil's consent is past keeping. The privacy notice says consent is kept while the pupil is at the
 * school: it goes when the leavers run deletes the pupil's account, which it does only for a pupil still off the roll
 * after the leaver grace (LEAVER_GRACE_DAYS). A pupil merely disabled keeps it: they may be back on the roll, waiting
 * for their account to be enabled again.
 */
export function consentExpired(pupil: Pick<PupilRecord, 'status'> | undefined): boolean {
  return pupil?.status === 'deleted';
}

/**
 * Deletes the consent (history, then states) of every pupil whose account the leavers run has deleted, with an
 * audit entry per pupil naming only the register id. Safe on every instance at once: a second deletion finds nothing.
 * A pupil whose consent was recorded but who is not on the register at all is left alone (the register decides).
 */
export async function deleteLeaversConsent(deps: ConsentRetentionDependencies): Promise<{ pupils: number; rows: number }> {
  const [states, register] = await Promise.all([deps.store.listConsentStates(deps.schoolId), deps.pupils.listPupils(deps.schoolId)]);
  if (states.size === 0) return { pupils: 0, rows: 0 };
  const byId = new Map(register.map((p) => [p.externalId, p]));
  let pupils = 0;
  let rows = 0;
  for (const pupilId of states.keys()) {
    if (!consentExpired(byId.get(pupilId))) continue;
    const deleted = await deps.store.deletePupilConsent(deps.schoolId, pupilId);
    if (deleted === 0) continue;
    pupils++;
    rows += deleted;
    await deps.audit.appendAudit(deps.schoolId, { actorId: 'system', action: 'consent.delete-leaver', target: `pupil:${pupilId}`, outcome: 'succeeded', details: { rows: deleted } });
  }
  return { pupils, rows };
}
