import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { IncidentType } from '../school/incident-types';
import type { RetentionBasis } from '../school/retention';
import { getEntityOrUndefined, guardStorage, isConflict, isNotFound, TABLE_NAMES, type Tables } from './tables';

/** Rows per entity-group transaction (the service's limit). */
const MAX_TRANSACTION_ACTIONS = 100;

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** Where an incident stands in the retention review. */
export type RetentionReviewStatus = 'pending' | 'approved' | 'withdrawn';

/**
 * One incident listed by the retention review. It holds no description and names no pupil (the approver's
 * rationale is its only free text), so an approved row stays after the incident is deleted, as the school's
 * record of what was deleted, when, by whom and why.
 */
export interface RetentionReviewRecord {
  schoolId: string;
  reference: string;
  type: IncidentType;
  /** When the incident was reported. */
  createdAt: string;
  retentionDate: string;
  basis: RetentionBasis;
  /**
   * - `pending`: past retention and waiting for the DSL or the head.
   * - `approved`: deleted on their approval.
   * - `withdrawn`: no longer due (a legal hold, or a corrected date); a later review can list it again.
   */
  status: RetentionReviewStatus;
  /** When a review first listed it (since it was last withdrawn). */
  listedAt: string;
  /** The last review that found it due. */
  reviewedAt: string;
  withdrawnAt?: string | undefined;
  approvedBy?: string | undefined;
  approvedAt?: string | undefined;
  rationale?: string | undefined;
  /** The row's etag as read; `saveReviews` writes only over that version of the row. */
  etag?: string | undefined;
}

/** A review row changed, or appeared, since the review read it (an approval was recorded meanwhile): read again. */
export class ReviewConflictError extends Error {
  override name = 'ReviewConflictError';
}

/**
 * The retention review list. Keys: PartitionKey = school id, RowKey = incident reference.
 * The daily review writes only over the version of a row it read (etag), or inserts a row that did not
 * exist, so it can never overwrite an approval recorded while it ran; an approval always writes its row.
 */
export class RetentionReviewStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.retentionReviews);
  }

  /** Every row of a school, whatever its status. */
  async listReviews(schoolId: string): Promise<RetentionReviewRecord[]> {
    return guardStorage('list retention reviews', async () => {
      const rows: RetentionReviewRecord[] = [];
      for await (const entity of (await this.table()).listEntities<Entity>({ queryOptions: { filter: odata`PartitionKey eq ${schoolId}` } })) {
        rows.push(fromReviewEntity(entity));
      }
      return rows;
    });
  }

  async getReview(schoolId: string, reference: string): Promise<RetentionReviewRecord | undefined> {
    return guardStorage('read retention review', async () => {
      const entity = await getEntityOrUndefined<Entity>(await this.table(), schoolId, reference);
      return entity ? fromReviewEntity(entity) : undefined;
    });
  }

  /**
   * Claims a day's review for one instance: creating `run|YYYY-MM-DD` (PartitionKey `<school>|runs`, so review
   * listings never see it) succeeds for exactly one caller. A claim not renewed (`renewDay`) for `leaseMs` belongs
   * to an instance that died and is taken over, etag-guarded; a finished day (`completeDay`) is never claimed again.
   */
  async claimDay(schoolId: string, day: string, instanceId: string, at: string, leaseMs = 60_000): Promise<boolean> {
    return guardStorage('claim retention review', async () => {
      const table = await this.table();
      try {
        await table.createEntity({ partitionKey: `${schoolId}|runs`, rowKey: `run|${day}`, instanceId, at, heartbeatAt: at, status: 'running' });
        return true;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      const existing = await getEntityOrUndefined<Entity>(table, `${schoolId}|runs`, `run|${day}`);
      if (!existing || existing.status === 'done') return false;
      const last = Date.parse(String(existing.heartbeatAt ?? existing.at ?? ''));
      if (Date.parse(at) - last <= leaseMs) return false;
      try {
        await table.updateEntity({ partitionKey: `${schoolId}|runs`, rowKey: `run|${day}`, instanceId, at, heartbeatAt: at, status: 'running' }, 'Replace', { etag: existing.etag });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  /** The holder's heartbeat; false when the day is no longer `instanceId`'s. */
  async renewDay(schoolId: string, day: string, instanceId: string, at: string): Promise<boolean> {
    return guardStorage('renew retention review', async () => {
      const table = await this.table();
      const existing = await getEntityOrUndefined<Entity>(table, `${schoolId}|runs`, `run|${day}`);
      if (!existing || existing.instanceId !== instanceId || existing.status === 'done') return false;
      try {
        await table.updateEntity({ partitionKey: `${schoolId}|runs`, rowKey: `run|${day}`, heartbeatAt: at }, 'Merge', { etag: existing.etag });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    });
  }

  /** Marks a day's review finished, so no instance claims it again. */
  async completeDay(schoolId: string, day: string, at: string): Promise<void> {
    await guardStorage('complete retention review', async () => {
      await (await this.table()).updateEntity({ partitionKey: `${schoolId}|runs`, rowKey: `run|${day}`, status: 'done', finishedAt: at }, 'Merge');
    });
  }

  /** Gives a day's claim back after a failed review, so a later tick (here or elsewhere) tries again. */
  async releaseDay(schoolId: string, day: string): Promise<void> {
    await guardStorage('release retention review', async () => {
      await (await this.table()).deleteEntity(`${schoolId}|runs`, `run|${day}`).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    });
  }

  /**
   * The daily review's write: a row read with an etag replaces exactly that version; a row without one is
   * inserted and must not exist yet. Up to 100 per transaction, all in the school's partition (Azure Tables:
   * https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions). If any row
   * changed or appeared since it was read, that transaction writes nothing and ReviewConflictError is thrown.
   */
  async saveReviews(schoolId: string, rows: readonly RetentionReviewRecord[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await guardStorage('save retention reviews', async () => {
        const table = await this.table();
        for (let i = 0; i < rows.length; i += MAX_TRANSACTION_ACTIONS) {
          const actions = rows
            .slice(i, i + MAX_TRANSACTION_ACTIONS)
            .map((row): TransactionAction => (row.etag ? ['update', toReviewEntity(schoolId, row), 'Replace', { etag: row.etag }] : ['create', toReviewEntity(schoolId, row)]));
          await table.submitTransaction(actions);
        }
      });
    } catch (error) {
      // 409 (the row appeared) or 412 (the row changed): guardStorage passes both through.
      if (isConflict(error)) throw new ReviewConflictError('A retention review row changed since the review read it.');
      throw error;
    }
  }

  /** Records the DSL's or the head's approval of a deletion: it replaces whatever the review wrote, unconditionally. */
  async recordApproval(schoolId: string, row: RetentionReviewRecord): Promise<void> {
    if (row.status !== 'approved' || !row.approvedBy || !row.approvedAt) throw new Error('recordApproval takes an approved row with who approved it and when.');
    await guardStorage('record retention approval', async () => {
      await (await this.table()).upsertEntity(toReviewEntity(schoolId, row), 'Replace');
    });
  }
}

function toReviewEntity(schoolId: string, row: RetentionReviewRecord): Entity {
  return {
    partitionKey: schoolId,
    rowKey: row.reference,
    reference: row.reference,
    type: row.type,
    createdAt: row.createdAt,
    retentionDate: row.retentionDate,
    basis: row.basis,
    status: row.status,
    listedAt: row.listedAt,
    reviewedAt: row.reviewedAt,
    withdrawnAt: row.withdrawnAt ?? '',
    approvedBy: row.approvedBy ?? '',
    approvedAt: row.approvedAt ?? '',
    rationale: row.rationale ?? '',
  };
}

function fromReviewEntity(entity: Entity): RetentionReviewRecord {
  const optional = (name: string): string | undefined => (entity[name] ? String(entity[name]) : undefined);
  return {
    schoolId: entity.partitionKey,
    reference: String(entity.reference ?? entity.rowKey),
    type: entity.type as IncidentType,
    createdAt: String(entity.createdAt),
    retentionDate: String(entity.retentionDate),
    basis: entity.basis as RetentionBasis,
    status: entity.status as RetentionReviewStatus,
    listedAt: String(entity.listedAt),
    reviewedAt: String(entity.reviewedAt),
    withdrawnAt: optional('withdrawnAt'),
    approvedBy: optional('approvedBy'),
    approvedAt: optional('approvedAt'),
    rationale: optional('rationale'),
    etag: optional('etag'),
  };
}
