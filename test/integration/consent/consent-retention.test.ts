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

describe('consentExpired: consent is kept while the pupil is at the school, and for the leaver grace after', () => {
  it.each([
    ['on roll', pupil('A', 'active'), false],
    ['pending account', pupil('A', 'pending'), false],
    ['left 10 days ago, grace 30', pupil('A', 'leaver-disabled', 10), false],
    ['left 30 days ago, grace 30', pupil('A', 'leaver-disabled', 30), true],
    ['left 200 days ago', pupil('A', 'leaver-disabled', 200), true],
    ['account deleted, no date kept', pupil('A', 'deleted'), true],
    ['not on the register at all', undefined, false],
  ])('%s', (_label, record, expired) => {
    expect(consentExpired(record, 30, now)).toBe(expired);
  });
});

describe('deleteLeaversConsent against Azurite', () => {
  it('deletes a leaver’s states and history after the grace, audits it by register id, keeps everyone else, and can run twice at once', async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    const schoolId = uniqueSchoolId('consentret');
    const store = new ConsentStore(tables);
    const audit = new AuditStore(tables, () => now);
    await new PupilRegisterStore(tables).savePupils(schoolId, [pupil('P-STAYS', 'active'), pupil('P-LEFT', 'leaver-disabled', 45), pupil('P-JUSTLEFT', 'leaver-disabled', 5)]);
    for (const id of ['P-STAYS', 'P-LEFT', 'P-JUSTLEFT', 'P-UNKNOWN']) {
      expect(await store.applyConsentChanges(schoolId, id, [given(id, 'media', 1), given(id, 'display-in-school', 1)])).toBe(true);
    }
    const media = (await store.getConsent(schoolId, 'P-LEFT')).get('media')!;
    expect(await store.applyConsentChanges(schoolId, 'P-LEFT', [{ ...given('P-LEFT', 'media', 2, 'withdrawn'), etag: media.etag }])).toBe(true);

    const deps = { schoolId, store, pupils: new PupilRegisterStore(tables), audit, clock: () => now };
    const [a, b] = await Promise.all([deleteLeaversConsent(deps, 30), deleteLeaversConsent(deps, 30)]);
    // Two states and three history lines, deleted once between the two runs.
    expect(a.rows + b.rows).toBe(5);

    expect(await store.getConsent(schoolId, 'P-LEFT')).toEqual(new Map());
    expect(await store.listConsentHistory(schoolId, 'P-LEFT')).toEqual([]);
    expect([...(await store.listConsentStates(schoolId)).keys()].sort()).toEqual(['P-JUSTLEFT', 'P-STAYS', 'P-UNKNOWN']);
    expect((await store.listConsentHistory(schoolId, 'P-STAYS')).length).toBe(2);

    const entries = (await audit.listAudit(schoolId)).filter((e) => e.action === 'consent.delete-leaver');
    expect(entries.map((e) => [e.target, e.actorId])).toEqual([['pupil:P-LEFT', 'system']]);
    expect(await deleteLeaversConsent(deps, 30)).toEqual({ pupils: 0, rows: 0 });
  });
});
