import { ConsentStore } from '../../../records/consent-store';
import { Tables } from '../../../records/tables';
import { notRecorded, type ConsentEvent, type ConsentState } from '../../../school/consent';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const at = '2026-11-23T09:00:00.000Z';

function change(sequence: number, status: 'given' | 'withdrawn', etag: string | undefined) {
  const next: ConsentState = { area: 'media', status, on: '2026-11-20', sequence, recordedAt: at };
  const event: ConsentEvent = { pupilId: 'P/1#?', area: 'media', decision: status, on: '2026-11-20', sequence, recordedBy: 'someone', recordedAt: at, source: 'form' };
  return { next, event, etag };
}

describe('ConsentStore against Azurite', () => {
  const store = new ConsentStore(new Tables({ connectionString: testTablesConnectionString() }));
  const school = uniqueSchoolId('consent');

  it('writes state and history together, and a change made from a stale read writes nothing', async () => {
    // A register id with characters Azure Tables refuses in keys is still stored and found.
    expect(await store.applyConsentChanges(school, 'P/1#?', [change(1, 'given', undefined)])).toBe(true);
    // A second "first" write loses: the state row already exists.
    expect(await store.applyConsentChanges(school, 'P/1#?', [change(1, 'given', undefined)])).toBe(false);
    const read = (await store.getConsent(school, 'P/1#?')).get('media')!;
    expect(read.state.status).toBe('given');
    expect(await store.applyConsentChanges(school, 'P/1#?', [change(2, 'withdrawn', read.etag)])).toBe(true);
    // The same etag again is stale now: nothing is written, not even the event.
    expect(await store.applyConsentChanges(school, 'P/1#?', [change(3, 'withdrawn', read.etag)])).toBe(false);
    expect((await store.listConsentHistory(school, 'P/1#?')).map((e) => e.sequence)).toEqual([1, 2]);
    expect(ConsentStore.statesOf(await store.getConsent(school, 'P/1#?'), ['media', 'display-in-school']).map((s) => s.state)).toEqual([
      expect.objectContaining({ status: 'withdrawn', sequence: 2 }),
      notRecorded('display-in-school'),
    ]);
  });

  it('keeps each pupil and each school apart', async () => {
    expect(await store.getConsent(school, 'P/1')).toEqual(new Map());
    expect(await store.getConsent(uniqueSchoolId('other'), 'P/1#?')).toEqual(new Map());
    expect([...(await store.listConsentStates(school)).keys()]).toEqual(['P/1#?']);
  });
});
