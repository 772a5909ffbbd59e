import { odata } from '@azure/data-tables';
import { IncidentStore, type ChronologyEvent, type IncidentRecord } from '../../../records/incident-store';
import { RetentionReviewStore, ReviewConflictError, type RetentionReviewRecord } from '../../../records/retention-review-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { storageStatus, TABLE_NAMES, Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';
import { incidentRecord } from '../../support/incident-records';

const T0 = '2026-03-02T09:00:00.000Z';
const tables = new Tables({ connectionString: testTablesConnectionString() });
const store = new IncidentStore(tables);

function incident(schoolId: string, overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  return incidentRecord(schoolId, T0, overrides);
}

const reported = (at = T0): Omit<ChronologyEvent, 'sequence'> => ({ at, actorId: 'reporter-1', kind: 'reported', what: 'Concern reported', why: '' });

async function rowKeys(schoolId: string): Promise<string[]> {
  const table = await tables.getTable(TABLE_NAMES.incidents);
  const keys: string[] = [];
  for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${schoolId}` } })) keys.push(entity.rowKey!);
  return keys.sort();
}

describe('incident retention fields', () => {
  it('stores the retention date, its basis and the legal hold, and reads them back', async () => {
    const schoolId = uniqueSchoolId('ret');
    const record = incident(schoolId, { retentionDate: '2042-03-14', retentionBasis: 'date-of-birth', legalHold: false });
    await store.createIncident(record, reported(), []);
    const stored = await store.getIncident(schoolId, record.reference);
    expect(stored).toMatchObject({ retentionDate: '2042-03-14', retentionBasis: 'date-of-birth', legalHold: false, closedAt: undefined });
  });

  it('reads an incident written before retention existed as having no date and no legal hold', async () => {
    const schoolId = uniqueSchoolId('ret');
    const record = incident(schoolId);
    await store.createIncident(record, reported(), []);
    const table = await tables.getTable(TABLE_NAMES.incidents);
    // An older row has none of the retention properties at all.
    const { etag: _etag, timestamp: _timestamp, retentionDate: _d, retentionBasis: _b, legalHold: _h, closedAt: _c, ...older } = await table.getEntity<Record<string, unknown>>(schoolId, `incident|${record.reference}`);
    await table.updateEntity({ ...older, partitionKey: schoolId, rowKey: `incident|${record.reference}` }, 'Replace');
    expect((await table.getEntity(schoolId, `incident|${record.reference}`)).legalHold).toBeUndefined();
    const stored = await store.getIncident(schoolId, record.reference);
    expect(stored).toMatchObject({ retentionDate: undefined, retentionBasis: undefined, legalHold: false, closedAt: undefined });
  });

  it('when an incident is closed, records when; later lines keep that time', async () => {
    const schoolId = uniqueSchoolId('ret');
    const record = incident(schoolId);
    await store.createIncident(record, reported(), []);
    let stored = (await store.getIncident(schoolId, record.reference))!;
    stored = await store.appendEvent(stored, { at: '2026-04-01T10:00:00.000Z', actorId: 'dsl-1', kind: 'closed', what: 'No further action', why: 'Resolved' }, { status: 'closed' });
    expect(stored.closedAt).toBe('2026-04-01T10:00:00.000Z');
    stored = await store.appendEvent(stored, { at: '2027-01-01T10:00:00.000Z', actorId: 'dsl-1', kind: 'status', what: 'Legal hold placed', why: 'Solicitor request' }, { legalHold: true });
    expect(stored).toMatchObject({ closedAt: '2026-04-01T10:00:00.000Z', legalHold: true, updatedAt: '2027-01-01T10:00:00.000Z' });
  });

  it('when an incident was closed before closure was recorded, a later line takes its close time from the last update', async () => {
    const schoolId = uniqueSchoolId('ret');
    const record = incident(schoolId, { status: 'closed', updatedAt: '2026-05-05T15:00:00.000Z' });
    await store.createIncident(record, reported(), []);
    const stored = (await store.getIncident(schoolId, record.reference))!;
    const after = await store.appendEvent(stored, { at: '2027-01-01T10:00:00.000Z', actorId: 'dsl-1', kind: 'status', what: 'Legal hold placed', why: 'Inquiry' }, { legalHold: true });
    expect(after.closedAt).toBe('2026-05-05T15:00:00.000Z');
  });
});

describe('IncidentStore.deleteIncident', () => {
  it('deletes the incident, its chronology, its submission marker and its alerts, and nothing of any other incident', async () => {
    const schoolId = uniqueSchoolId('ret');
    const keep = incident(schoolId);
    const remove = incident(schoolId);
    await store.createIncident(keep, reported(), [{ recipientId: 'dsl-1', role: 'dsl', type: 'cyberbullying', urgent: false }]);
    await store.createIncident(remove, reported(), [
      { recipientId: 'dsl-1', role: 'dsl', type: 'cyberbullying', urgent: false },
      { recipientId: 'coordinator-1', role: 'coordinator', type: 'cyberbullying', urgent: false },
    ]);
    let stored = (await store.getIncident(schoolId, remove.reference))!;
    stored = await store.appendEvent(stored, { at: '2026-03-03T09:00:00.000Z', actorId: 'dsl-1', kind: 'action', what: 'refer-dsl', why: 'Checked' });
    const keptKeys = (await rowKeys(schoolId)).filter((key) => key.includes(keep.reference) || key === `submission|${keep.submissionId}`);

    expect(await store.deleteIncident(stored, '2051-01-01T09:00:00.000Z')).toBe(6);
    expect(await rowKeys(schoolId)).toEqual(keptKeys);
    expect(keptKeys).toHaveLength(4);
  });

  it('when the incident changed since it was read, throws a 412 conflict and deletes nothing', async () => {
    const schoolId = uniqueSchoolId('ret');
    const record = incident(schoolId);
    await store.createIncident(record, reported(), [{ recipientId: 'dsl-1', role: 'dsl', type: 'cyberbullying', urgent: false }]);
    const read = (await store.getIncident(schoolId, record.reference))!;
    await store.appendEvent(read, { at: '2026-03-03T09:00:00.000Z', actorId: 'dsl-1', kind: 'status', what: 'Legal hold placed', why: 'Inquiry' }, { legalHold: true });
    const before = await rowKeys(schoolId);

    const error = await store.deleteIncident(read, '2051-01-01T09:00:00.000Z').catch((e: unknown) => e);
    expect(storageStatus(error)).toBe(412);
    expect(await rowKeys(schoolId)).toEqual(before);
  });

  it('when an incident has more rows than one transaction holds, deletes them all', async () => {
    const schoolId = uniqueSchoolId('ret');
    const record = incident(schoolId);
    await store.createIncident(record, reported(), []);
    let stored = (await store.getIncident(schoolId, record.reference))!;
    for (let i = 0; i < 120; i++) {
      stored = await store.appendEvent(stored, { at: `2026-03-03T09:${String(i % 60).padStart(2, '0')}:00.000Z`, actorId: 'dsl-1', kind: 'action', what: 'note', why: `line ${i}` });
    }
    expect(await store.deleteIncident(stored, '2051-01-01T09:00:00.000Z')).toBe(123);
    expect(await rowKeys(schoolId)).toEqual([]);
  });
});

describe('RetentionReviewStore', () => {
  it('inserts new rows, replaces only the version it read, and never overwrites a recorded approval', async () => {
    const schoolId = uniqueSchoolId('ret');
    const reviews = new RetentionReviewStore(tables);
    const row: RetentionReviewRecord = {
      schoolId,
      reference: 'ES-2026-0001',
      type: 'cyberbullying',
      createdAt: T0,
      retentionDate: '2042-03-14',
      basis: 'date-of-birth',
      status: 'pending',
      listedAt: '2043-01-01T02:00:00.000Z',
      reviewedAt: '2043-01-01T02:00:00.000Z',
    };
    await reviews.saveReviews(schoolId, [row]);
    const [read] = await reviews.listReviews(schoolId);
    expect(read).toEqual({ ...row, etag: expect.any(String) });

    // Insert-only without an etag: a second insert of the same row is refused and changes nothing.
    await expect(reviews.saveReviews(schoolId, [row])).rejects.toBeInstanceOf(ReviewConflictError);
    // With the etag it read, the review replaces exactly that version.
    await reviews.saveReviews(schoolId, [{ ...read!, reviewedAt: '2043-01-02T02:00:00.000Z' }]);
    const reread = (await reviews.getReview(schoolId, row.reference))!;
    expect(reread.reviewedAt).toBe('2043-01-02T02:00:00.000Z');
    // A stale etag (the first read) is refused, in the whole transaction.
    const other = { ...row, reference: 'ES-2026-0002' };
    await expect(reviews.saveReviews(schoolId, [other, { ...read!, status: 'withdrawn', withdrawnAt: '2043-01-03T02:00:00.000Z' }])).rejects.toBeInstanceOf(ReviewConflictError);
    expect(await reviews.getReview(schoolId, 'ES-2026-0002')).toBeUndefined();

    const approved = { ...row, status: 'approved' as const, approvedBy: 'dsl-1', approvedAt: '2043-01-02T09:00:00.000Z', rationale: 'Retention period ended.' };
    await reviews.recordApproval(schoolId, approved);
    expect(await reviews.getReview(schoolId, row.reference)).toEqual({ ...approved, etag: expect.any(String) });
    // The review's write with the version it read before the approval cannot overwrite it.
    await expect(reviews.saveReviews(schoolId, [{ ...reread, status: 'pending' }])).rejects.toBeInstanceOf(ReviewConflictError);
    expect(await reviews.getReview(schoolId, row.reference)).toMatchObject({ status: 'approved', approvedBy: 'dsl-1' });
    await expect(reviews.recordApproval(schoolId, row)).rejects.toThrow(/approved row/);
    expect(await reviews.getReview(schoolId, 'ES-2026-9999')).toBeUndefined();
  });
});

describe('PupilRegisterStore dates of birth', () => {
  it('stores a pupil’s date of birth and offers it with the pupil for the report card', async () => {
    const schoolId = uniqueSchoolId('ret');
    const register = new PupilRegisterStore(tables);
    const base: Omit<PupilRecord, 'externalId' | 'forename'> = { surname: 'Testpupil', cohort: '23', userPrincipalName: '', status: 'active', groups: [], createdAt: T0, updatedAt: T0 };
    await register.savePupils(schoolId, [
      { ...base, externalId: 'A1', forename: 'Ada', dateOfBirth: '2017-03-14' },
      { ...base, externalId: 'A2', forename: 'Bea' },
    ]);
    expect((await register.getPupil(schoolId, 'A1'))?.dateOfBirth).toBe('2017-03-14');
    expect((await register.getPupil(schoolId, 'A2'))?.dateOfBirth).toBeUndefined();
    const choices = await register.listPupilChoices(schoolId);
    expect(choices.map((c) => [c.pupilId, c.dateOfBirth])).toEqual([
      ['A1', '2017-03-14'],
      ['A2', undefined],
    ]);
  });
});
