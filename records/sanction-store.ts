import { odata, type TableClient } from '@azure/data-tables';
import { guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';

/**
 * A pupil's access suspended as a sanction, until a date. Kept in the incident's partition under
 * `sanction|<until>|<reference>|<pupil id>` so the restore job lists those due with one range query and
 * claims each with its etag: it is restored exactly once, whichever instance gets there first.
 */
export interface SanctionRecord {
  schoolId: string;
  reference: string;
  pupilId: string;
  userPrincipalName: string;
  userId: string | undefined;
  kind: 'suspend-access';
  until: string;
  byId: string;
  at: string;
  /** `planned`: Graph plan mode recorded what it would do. `failed`: Graph refused; nothing was changed. */
  state: 'applying' | 'active' | 'planned' | 'failed' | 'restoring' | 'restored';
  claimedAt: string | undefined;
  restoredAt: string | undefined;
  etag: string;
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** RowKey of a sanction in the incidents table: by end date first, so those due are one range query. */
export const sanctionKey = (until: string, reference: string, pupilId: string): string => `sanction|${until}|${reference}|${pupilId}`;

/** The row for a new sanction, to write in the same transaction as its chronology line (`appendEvent`'s extras). */
export function sanctionRow(sanction: Omit<SanctionRecord, 'etag' | 'claimedAt' | 'restoredAt'>): Record<string, unknown> {
  return {
    partitionKey: sanction.schoolId,
    rowKey: sanctionKey(sanction.until, sanction.reference, sanction.pupilId),
    reference: sanction.reference,
    pupilId: sanction.pupilId,
    userPrincipalName: sanction.userPrincipalName,
    userId: sanction.userId ?? '',
    kind: sanction.kind,
    until: sanction.until,
    byId: sanction.byId,
    at: sanction.at,
    state: sanction.state,
  };
}

/**
 * Pupils' access suspensions, kept beside their incidents (the incidents table, the school's partition) so each
 * is written in the same transaction as its chronology line, and deleted with the incident (IncidentStore.deleteIncident).
 */
export class SanctionStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.incidents);
  }

  /** Sanctions whose end date has come (until ≤ today), not yet restored; a `restoring` claim older than `staleAfterMs` counts again. */
  async listDueSanctions(schoolId: string, today: string, now: Date, staleAfterMs: number): Promise<SanctionRecord[]> {
    const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'sanction|'} and RowKey lt ${`sanction|${today}}`}`;
    const rows = await this.query(filter, fromSanctionEntity);
    const staleBefore = now.getTime() - staleAfterMs;
    return rows.filter((r) => r.until <= today && (r.state === 'active' || r.state === 'planned' || (r.state === 'restoring' && (!r.claimedAt || Date.parse(r.claimedAt) < staleBefore))));
  }

  /** Every sanction on one incident, or on one pupil (the pupil's history). */
  async listSanctions(schoolId: string, match: { reference?: string; pupilId?: string }): Promise<SanctionRecord[]> {
    let filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${'sanction|'} and RowKey lt ${'sanction}'}`;
    if (match.reference) filter += ` and ${odata`reference eq ${match.reference}`}`;
    if (match.pupilId) filter += ` and ${odata`pupilId eq ${match.pupilId}`}`;
    return this.query(filter, fromSanctionEntity);
  }

  /**
   * Moves a sanction to a new state, guarded by the etag read: undefined when another instance changed it
   * first (a claim lost). Claiming (`restoring`) stamps the claim time, so a claim whose holder died expires.
   */
  async setSanctionState(sanction: SanctionRecord, state: SanctionRecord['state'], now: Date): Promise<SanctionRecord | undefined> {
    const changes = {
      partitionKey: sanction.schoolId,
      rowKey: sanctionKey(sanction.until, sanction.reference, sanction.pupilId),
      state,
      claimedAt: state === 'restoring' ? now.toISOString() : '',
      ...(state === 'restored' ? { restoredAt: now.toISOString() } : {}),
    };
    try {
      const response = await guardStorage('update sanction', async () => (await this.table()).updateEntity(changes, 'Merge', { etag: sanction.etag }));
      return { ...sanction, state, claimedAt: changes.claimedAt || undefined, restoredAt: state === 'restored' ? now.toISOString() : sanction.restoredAt, etag: response.etag ?? sanction.etag };
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  private async query<T>(filter: string, map: (entity: Entity) => T): Promise<T[]> {
    return guardStorage('query sanctions', async () => {
      const results: T[] = [];
      for await (const entity of (await this.table()).listEntities<Entity>({ queryOptions: { filter } })) results.push(map(entity));
      return results;
    });
  }
}

function fromSanctionEntity(entity: Entity): SanctionRecord {
  return {
    schoolId: entity.partitionKey,
    reference: String(entity.reference),
    pupilId: String(entity.pupilId),
    userPrincipalName: String(entity.userPrincipalName ?? ''),
    userId: entity.userId ? String(entity.userId) : undefined,
    kind: 'suspend-access',
    until: String(entity.until),
    byId: String(entity.byId),
    at: String(entity.at),
    state: entity.state as SanctionRecord['state'],
    claimedAt: entity.claimedAt ? String(entity.claimedAt) : undefined,
    restoredAt: entity.restoredAt ? String(entity.restoredAt) : undefined,
    etag: String(entity.etag),
  };
}
