import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { notRecorded, type ConsentArea, type ConsentEvent, type ConsentState } from '../school/consent';
import { guardStorage, isConflict, storageStatus, type Tables } from './tables';

/** Table of pupils' photo and video consent (one table per record type, as records/tables.ts keeps them). */
export const CONSENT_TABLE = 'consent';

type StateEntity = { partitionKey: string; rowKey: string; pupilId: string; state: string };
type EventEntity = { partitionKey: string; rowKey: string; pupilId: string; event: string };

/** One area's state as read, with the etag a change must match (undefined: no row yet). */
export interface StoredConsentState {
  state: ConsentState;
  etag: string | undefined;
}

/** A change to one area: its new state and the chronology entry that explains it. */
export interface ConsentChange {
  next: ConsentState;
  event: ConsentEvent;
  etag: string | undefined;
}

/** Keys must not hold `/`, `\`, `#`, `?` or control characters, and `|` separates ours; the id is percent-encoded. */
function pupilKey(pupilId: string): string {
  return encodeURIComponent(pupilId);
}

const stateKey = (pupilId: string, area: ConsentArea): string => `state|${pupilKey(pupilId)}|${area}`;
const eventKey = (pupilId: string, area: ConsentArea, sequence: number): string => `event|${pupilKey(pupilId)}|${area}|${String(sequence).padStart(6, '0')}`;

/** Every row whose RowKey starts with `prefix` (which ends in '|'; '}' sorts just after it). */
function prefixFilter(schoolId: string, prefix: string): string {
  return odata`PartitionKey eq ${schoolId} and RowKey ge ${prefix} and RowKey lt ${`${prefix.slice(0, -1)}}`}`;
}

/**
 * Pupils' photo and video consent, one school per partition. Keys: `state|<pupil>|<area>` holds where an area
 * stands now; `event|<pupil>|<area>|<sequence>` is the append-only chronology. A change writes the new state
 * (etag-guarded, or created when there was none) and its event in one entity-group transaction, so the state and
 * the history never disagree and two recorders never both win: the loser's transaction fails whole and they read
 * again. A transaction holds at most 100 operations in one partition
 * (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions); a form changes at
 * most five areas, so ten.
 */
export class ConsentStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(CONSENT_TABLE);
  }

  /** The areas recorded for one pupil (one range query of at most five rows). */
  async getConsent(schoolId: string, pupilId: string): Promise<Map<ConsentArea, StoredConsentState>> {
    return guardStorage('read consent', async () => {
      const found = new Map<ConsentArea, StoredConsentState>();
      for await (const entity of (await this.table()).listEntities<StateEntity>({ queryOptions: { filter: prefixFilter(schoolId, `state|${pupilKey(pupilId)}|`) } })) {
        const state = JSON.parse(entity.state) as ConsentState;
        found.set(state.area, { state, etag: entity.etag });
      }
      return found;
    });
  }

  /** The state for each area, `not-recorded` where there is no row. */
  static statesOf(found: ReadonlyMap<ConsentArea, StoredConsentState>, areas: readonly ConsentArea[]): StoredConsentState[] {
    return areas.map((area) => found.get(area) ?? { state: notRecorded(area), etag: undefined });
  }

  /** Writes the changes for one pupil all together; false when another change got there first (nothing written). */
  async applyConsentChanges(schoolId: string, pupilId: string, changes: readonly ConsentChange[]): Promise<boolean> {
    if (changes.length === 0) return true;
    return guardStorage('record consent', async () => {
      const actions: TransactionAction[] = changes.flatMap((change): TransactionAction[] => {
        const state: StateEntity = { partitionKey: schoolId, rowKey: stateKey(pupilId, change.next.area), pupilId, state: JSON.stringify(change.next) };
        const event: EventEntity = { partitionKey: schoolId, rowKey: eventKey(pupilId, change.event.area, change.event.sequence), pupilId, event: JSON.stringify(change.event) };
        return [change.etag ? ['update', state, 'Replace', { etag: change.etag }] : ['create', state], ['create', event]];
      });
      try {
        await (await this.table()).submitTransaction(actions);
        return true;
      } catch (error) {
        if (isConflict(error) || isTransactionConflict(error)) return false;
        throw error;
      }
    });
  }

  /** One pupil's chronology, area by area, oldest first. */
  async listConsentHistory(schoolId: string, pupilId: string): Promise<ConsentEvent[]> {
    return guardStorage('read consent history', async () => {
      const events: ConsentEvent[] = [];
      for await (const entity of (await this.table()).listEntities<EventEntity>({ queryOptions: { filter: prefixFilter(schoolId, `event|${pupilKey(pupilId)}|`) } })) {
        events.push(JSON.parse(entity.event) as ConsentEvent);
      }
      return events;
    });
  }

  /**
   * Deletes every row about one pupil, 100 to a transaction: the chronology first and the states last, so that a
   * deletion cut short leaves the state rows by which the next run finds the pupil again. Safe to repeat: a row that
   * another instance deleted first ends the batch with 404, and the rest are deleted one by one. Returns the rows deleted.
   */
  async deletePupilConsent(schoolId: string, pupilId: string): Promise<number> {
    return guardStorage('delete consent', async () => {
      const table = await this.table();
      const keys: string[] = [];
      for (const prefix of [`event|${pupilKey(pupilId)}|`, `state|${pupilKey(pupilId)}|`]) {
        for await (const entity of table.listEntities<StateEntity>({ queryOptions: { filter: prefixFilter(schoolId, prefix), select: ['RowKey'] } })) keys.push(entity.rowKey);
      }
      let deleted = 0;
      for (let i = 0; i < keys.length; i += 100) {
        const chunk = keys.slice(i, i + 100);
        try {
          await table.submitTransaction(chunk.map((rowKey): TransactionAction => ['delete', { partitionKey: schoolId, rowKey }]));
          deleted += chunk.length;
        } catch (error) {
          if (storageStatus(error) !== 404) throw error;
          for (const rowKey of chunk) {
            try {
              await table.deleteEntity(schoolId, rowKey);
              deleted++;
            } catch (e) {
              if (storageStatus(e) !== 404) throw e;
            }
          }
        }
      }
      return deleted;
    });
  }

  /** Every recorded state in the school, by pupil (one partition range scan; for coverage counts). */
  async listConsentStates(schoolId: string): Promise<Map<string, ConsentState[]>> {
    return guardStorage('list consent', async () => {
      const byPupil = new Map<string, ConsentState[]>();
      for await (const entity of (await this.table()).listEntities<StateEntity>({ queryOptions: { filter: prefixFilter(schoolId, 'state|'), select: ['pupilId', 'state'] } })) {
        const list = byPupil.get(entity.pupilId) ?? [];
        list.push(JSON.parse(entity.state) as ConsentState);
        byPupil.set(entity.pupilId, list);
      }
      return byPupil;
    });
  }
}

/** A failed entity-group transaction may carry the failing operation's status on its response; 409 and 412 are lost races. */
function isTransactionConflict(error: unknown): boolean {
  const status = (error as { response?: { status?: unknown } })?.response?.status;
  return status === 409 || status === 412;
}
