import { randomUUID } from 'node:crypto';
import { odata, type TransactionAction } from '@azure/data-tables';
import { guardStorage, TABLE_NAMES, type Tables } from './tables';

/** One audited event. It names people by object id and records by reference; never their content. */
export interface AuditEntry {
  actorId: string;
  action: string;
  target: string;
  outcome: 'succeeded' | 'denied' | 'failed' | 'attempted';
  correlationId?: string;
  /** Extra ids or categories, never free text. */
  details?: Record<string, string | number | boolean>;
}

export interface AuditRecord extends AuditEntry {
  at: string;
}

/** An entity-group transaction holds at most 100 operations: https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions */
const MAX_TRANSACTION_ACTIONS = 100;

/** A type, not an interface, so it fits the Tables SDK's `Record<string, unknown>` entity type in transactions. */
type AuditEntity = {
  partitionKey: string;
  rowKey: string;
  at: string;
  actorId: string;
  action: string;
  target: string;
  outcome: string;
  correlationId: string;
  details: string;
};

/**
 * Where an audit entry lives when it must commit in one entity-group transaction with the record it audits.
 * A transaction covers one table and one partition (https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions),
 * so such an entry is written into that record's table, in the school's partition, under RowKey `audit|…`.
 */
const EMBEDDED_AUDIT = { table: TABLE_NAMES.incidents, prefix: 'audit|' } as const;

/**
 * Append-only audit log. Keys: PartitionKey = school id, RowKey = ISO time + monotonic tick + random id,
 * so entries sort by time and are never overwritten. Entries written with an incident (`auditRowFor`) sit
 * in the incidents table under `audit|` + the same key; `listAudit` reads both and merges them in order.
 */
export class AuditStore {
  constructor(
    private readonly tables: Tables,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async appendAudit(schoolId: string, entry: AuditEntry): Promise<void> {
    const entity = this.toEntity(schoolId, entry);
    await guardStorage('append audit', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.audit);
      await table.createEntity<AuditEntity>(entity);
    });
  }

  /**
   * Appends entries in the order given, up to 100 per entity-group transaction (one school is one partition),
   * so a run's thousands of entries cost tens of storage round trips rather than thousands. Each transaction
   * is all-or-nothing; one that fails throws (like `appendAudit`) and the later ones are not sent.
   */
  async appendAudits(schoolId: string, entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // Keys are made up front, in order, so entries sort as given across transactions too.
    const entities = entries.map((entry) => this.toEntity(schoolId, entry));
    await guardStorage('append audit', async () => {
      const table = await this.tables.getTable(TABLE_NAMES.audit);
      for (let i = 0; i < entities.length; i += MAX_TRANSACTION_ACTIONS) {
        await table.submitTransaction(entities.slice(i, i + MAX_TRANSACTION_ACTIONS).map((entity): TransactionAction => ['create', entity]));
      }
    });
  }

  /**
   * The audit entry as a row for the caller's entity-group transaction in the incidents table (same partition,
   * and the transaction's 100-operation limit counts it), so the record and its audit line exist together or not at all.
   */
  auditRowFor(schoolId: string, entry: AuditEntry): AuditEntity {
    const entity = this.toEntity(schoolId, entry);
    return { ...entity, rowKey: `${EMBEDDED_AUDIT.prefix}${entity.rowKey}` };
  }

  private toEntity(schoolId: string, entry: AuditEntry): AuditEntity {
    const at = this.clock().toISOString();
    return {
      partitionKey: schoolId,
      // The monotonic clock keeps one instance's entries in order even within a millisecond.
      rowKey: `${at}|${process.hrtime.bigint().toString().padStart(20, '0')}|${randomUUID()}`,
      at,
      actorId: entry.actorId,
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome,
      correlationId: entry.correlationId ?? '',
      details: JSON.stringify(entry.details ?? {}),
    };
  }

  /** Entries for a school, oldest first, optionally only for one target (e.g. an incident reference) or one action. */
  async listAudit(schoolId: string, options: { target?: string; action?: string; since?: Date } = {}): Promise<AuditRecord[]> {
    const since = (options.since ?? new Date(0)).toISOString();
    let extra = '';
    if (options.target) extra += ` and ${odata`target eq ${options.target}`}`;
    if (options.action) extra += ` and ${odata`action eq ${options.action}`}`;
    const own = odata`PartitionKey eq ${schoolId} and RowKey ge ${since}` + extra;
    const embedded = odata`PartitionKey eq ${schoolId} and RowKey ge ${EMBEDDED_AUDIT.prefix + since} and RowKey lt ${'audit}'}` + extra;
    return guardStorage('list audit', async () => {
      const [ownRows, embeddedRows] = await Promise.all([
        this.query(TABLE_NAMES.audit, own),
        this.query(EMBEDDED_AUDIT.table, embedded).then((rows) => rows.map((r) => ({ ...r, rowKey: r.rowKey.slice(EMBEDDED_AUDIT.prefix.length) }))),
      ]);
      return [...ownRows, ...embeddedRows]
        .sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0))
        .map((entity) => ({
          at: entity.at,
          actorId: entity.actorId,
          action: entity.action,
          target: entity.target,
          outcome: entity.outcome as AuditRecord['outcome'],
          correlationId: entity.correlationId || undefined,
          details: JSON.parse(entity.details) as AuditRecord['details'],
        }));
    });
  }

  private async query(tableName: string, filter: string): Promise<AuditEntity[]> {
    const table = await this.tables.getTable(tableName);
    const rows: AuditEntity[] = [];
    for await (const entity of table.listEntities<AuditEntity>({ queryOptions: { filter } })) rows.push(entity);
    return rows;
  }
}
