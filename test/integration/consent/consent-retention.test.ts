import { AuditStore } from '../../../records/audit-store';
import { ConsentStore } from '../../../records/consent-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { Tables } from '../../../records/tables';
import type { ConsentArea, ConsentEvent, ConsentState } from '../../../school/consent';
import { consentExpired, deleteLeaversConsent } from '../../../usecases/consent-retention';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const now = new Date('2026-11-30T09:00:00Z');
const DAY = 86_400_000;

function pupil(externalId: string, status: PupilRecord['status'], disabledDaysAgo?: number): PupilRecord {
  const at = '2025-09-01T08:00:00.000Z';
  return {
    externalId,
    forename: 'Test',
    surname: 'Pupil',
    yearGroup: '6',
    cohort: '19',
    userPrincipalName: `${externalId.toLowerCase()}@school.example`,
    status,
    groups: [],
    createdAt: at,
    updatedAt: at,
    ...(disabledDaysAgo === undefined ? {} : { disabledAt: new Date(now.getTime() - disabledDaysAgo * DAY).toISOString() }),
  };
}

function given(pupilId: string, area: ConsentArea, sequence: number, status: 'given' | 'withdrawn' = 'given') {
  const recordedAt = '2025-09-10T09:00:00.000Z';
  const next: ConsentState = { area, status, on: '2025-09-10', sequence, recordedAt };
  const event: ConsentEvent = { pupilId, area, decision: status, on: '2025-09-10', sequence, recordedBy: 'coordinator-1', recordedAt, source: 'form' };
  return { next, event, etag: undefined as string | undefined };
}

describe('consentExpired: consent is kept until the leavers run deletes the pupil’s account', () => {
  it.each([
    ['on roll', pupil('A', 'active'), false],
    ['pending account', pupil('A', 'pending'), false],
    ['disabled 10 days ago', pupil('A', 'leaver-disabled', 10), false],
    ['disabled 200 days ago (perhaps back on the roll, waiting to be enabled)', pupil('A', 'leaver-disabled', 200), false],
    ['account deleted by the leavers run', pupil('A', 'deleted'), true],
    ['not on the register at all', undefined, false],
  ])('%s', (_label, record, expired) => {
    expect(consentExpired(record)).toBe(expired);
  });
});

describe('deleteLeaversConsent against Azurite', () => {
  it('deletes a deleted leaver’s states and history, audits it by register id, keeps everyone else, and can run twice at once', async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    const schoolId = uniqueSchoolId('consentret');
    const store = new ConsentStore(tables);
    const audit = new AuditStore(tables, () => now);
    await new PupilRegisterStore(tables).savePupils(schoolId, [pupil('P-STAYS', 'active'), pupil('P-LEFT', 'deleted', 45), pupil('P-JUSTLEFT', 'leaver-disabled', 5)]);
    for (const id of ['P-STAYS', 'P-LEFT', 'P-JUSTLEFT', 'P-UNKNOWN']) {
      expect(await store.applyConsentChanges(schoolId, id, [given(id, 'media', 1), given(id, 'display-in-school', 1)])).toBe(true);
    }
    const media = (await store.getConsent(schoolId, 'P-LEFT')).get('media')!;
    expect(await store.applyConsentChanges(schoolId, 'P-LEFT', [{ ...given('P-LEFT', 'media', 2, 'withdrawn'), etag: media.etag }])).toBe(true);

    const deps = { schoolId, store, pupils: new PupilRegisterStore(tables), audit, clock: () => now };
    const [a, b] = await Promise.all([deleteLeaversConsent(deps), deleteLeaversConsent(deps)]);
    // Two states and three history lines, deleted once between the two runs.
    expect(a.rows + b.rows).toBe(5);

    expect(await store.getConsent(schoolId, 'P-LEFT')).toEqual(new Map());
    expect(await store.listConsentHistory(schoolId, 'P-LEFT')).toEqual([]);
    expect([...(await store.listConsentStates(schoolId)).keys()].sort()).toEqual(['P-JUSTLEFT', 'P-STAYS', 'P-UNKNOWN']);
    expect((await store.listConsentHistory(schoolId, 'P-STAYS')).length).toBe(2);

    const entries = (await audit.listAudit(schoolId)).filter((e) => e.action === 'consent.delete-leaver');
    expect(entries.map((e) => [e.target, e.actorId])).toEqual([['pupil:P-LEFT', 'system']]);
    expect(await deleteLeaversConsent(deps)).toEqual({ pupils: 0, rows: 0 });
  });
});
