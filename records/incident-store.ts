import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import type { FourC, IncidentType } from '../school/incident-types';
import type { IncidentAudience, InvolvedParty } from '../school/incident-routing';
import type { MatrixSubject } from '../school/response-matrix';
import type { RetentionBasis } from '../school/retention';
import type { Role } from '../school/roles';
import { pendingCountEntity, type PendingCount } from './pending-count-store';
import { SanctionStore, type SanctionRecord } from './sanction-store';
import { getEntityOrUndefined, guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';

export type { SanctionRecord } from './sanction-store';
export { pendingCountKey, type PendingCount } from './pending-count-store';

export type IncidentStatus = 'open' | 'in-progress' | 'closed';

/** An incident as stored. Pupils appear by register id only; names are looked up when a permitted person reads it. */
export interface IncidentRecord {
  schoolId: string;
  reference: string;
  type: IncidentType;
  fourC: FourC;
  audience: IncidentAudience;
  childProtection: boolean;
  subject: MatrixSubject;
  occurredOn: string;
  occurredAt: string | undefined;
  involved: InvolvedParty[];
  /** Year groups of the pupils involved, for anonymous aggregates. */
  yearGroups: string[];
  location: string;
  description: string;
  actionTaken: string;
  status: IncidentStatus;
  reporterId: string;
  submissionId: string;
  createdAt: string;
  updatedAt: string;
  eventCount: number;
  /**
   * Keep until the end of this day (YYYY-MM-DD, UK), as worked out when the incident was reported
   * (school/retention.ts). Absent on incidents recorded before retention existed, and under a school rule
   * counted from closure; the retention review then works it out from the register and the current rule.
   */
  retentionDate?: string | undefined;
  retentionBasis?: RetentionBasis | undefined;
  /** While true the incident is never listed or approved for deletion. Read as false on older rows. */
  legalHold?: boolean;
  /** When the incident was closed; `appendEvent` sets it. */
  closedAt?: string | undefined;
  /** The incident date was more than a year before it was reported (recorded, never refused). */
  historic?: boolean;
  /**
   * The member of staff the concern is about (Entra object id), when the reporter named them. The subject
   * is never alerted, never lists it and is refused it whatever their role (school/incident-routing.ts).
   */
  subjectId?: string | undefined;
  /** The reporter named a member of staff who could not be resolved; routed as if the most senior plausible person. */
  subjectUnresolved?: boolean;
  /** The DSL is kept out of this allegation: the DSL is its subject, or the subject could not be resolved. */
  dslExcluded?: boolean;
  /** The incident's record in CPOMS or MyConcern. */
  cpomsReference?: string | undefined;
  /** People given access by a referral (to the DSL, the head or the chair), beyond the audience's roles. */
  grantedViewerIds?: string[];
  /** Referrals made, with their outcomes. Bounded (MAX_REFERRALS) so the row stays far inside the 1 MiB entity limit. */
  referrals?: Referral[];
  /** A close waiting for a second senior person's confirmation. */
  pendingClose?: PendingClose | undefined;
}

export type ReferralTarget =
  | 'dsl'
  | 'headteacher'
  | 'chair'
  | 'lado'
  | 'childrens-social-care'
  | 'police'
  | 'ceop'
  | 'iwf'
  | 'prevent'
  | 'local-authority'
  | 'trust';

export interface Referral {
  id: string;
  to: ReferralTarget;
  why: string;
  on: string;
  externalReference?: string | undefined;
  byId: string;
  at: string;
  outcome?: string | undefined;
  outcomeAt?: string | undefined;
  outcomeById?: string | undefined;
}

export interface PendingClose {
  byId: string;
  at: string;
  decision: string;
  rationale: string;
  outcome: string;
  lessonsLearnt: string;
}

export interface StoredIncident extends IncidentRecord {
  etag: string;
}

/** One line of an incident's chronology: who did what, when and why. Lines are only ever added. */
export interface ChronologyEvent {
  sequence: number;
  at: string;
  actorId: string;
  kind: 'reported' | 'action' | 'status' | 'parents-informed' | 'closed' | 'referral' | 'referral-outcome' | 'reclassified' | 'cpoms' | 'sanction' | 'close-requested' | 'attachment';
  what: string;
  why: string;
}

/** An alert waiting to be delivered (or delivered) to one person. It names the category and reference only. */
export interface AlertRecord {
  schoolId: string;
  reference: string;
  recipientId: string;
  role: Role;
  type: IncidentType;
  urgent: boolean;
  status: 'pending' | 'sending' | 'delivered';
  createdAt: string;
  claimedAt: string | undefined;
  deliveredAt: string | undefined;
  etag: string;
}

export type NewAlert = Pick<AlertRecord, 'recipientId' | 'role' | 'type' | 'urgent'>;

/** Rows written in the same entity-group transaction as a chronology line: alerts, and rows such as an embedded audit entry. */
export interface AppendExtras {
  alerts?: NewAlert[];
  rows?: Record<string, unknown>[];
  /** Changes to the governors' counts that this change causes, kept beside it until they are counted. */
  counts?: PendingCount[];
}


/** `alerts` are the alert rows as written (with etags), for the caller that claimed them at creation to deliver. */
export type CreateIncidentResult = { created: true; alerts: AlertRecord[] } | { created: false; existingReference: string };

/**
 * Extra rows for `createIncident`'s transaction: audit rows for the same partition, and alerts created already
 * claimed (`sending`, claimed at `claimAlertsAt`) by the instance that will deliver them at once; an alert whose
 * claim goes stale is sent by the sweep instead.
 */
export interface CreateIncidentOptions {
  auditRows?: Entity[];
  counts?: PendingCount[];
  claimAlertsAt?: string;
}

const rowKeys = {
  incident: (reference: string) => `incident|${reference}`,
  event: (reference: string, sequence: number) => `event|${reference}|${String(sequence).padStart(6, '0')}`,
  submission: (submissionId: string) => `submission|${submissionId}`,
  alert: (reference: string, recipientId: string) => `alert|${reference}|${recipientId}`,
};


/** Row-key ranges for listing one kind of row in a school's partition. */
const range = (prefix: string) => ({ from: `${prefix}|`, to: `${prefix}}` });

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

/** An entity-group transaction holds at most 100 operations: https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions */
const MAX_TRANSACTION_ACTIONS = 100;

/**
 * Incidents with their chronology, submission markers and alert outbox.
 *
 * Keys: PartitionKey = school id; RowKey = `incident|ES-2026-0042`, `event|ES-2026-0042|000001`,
 * `submission|<card submission id>` or `alert|ES-2026-0042|<recipient object id>`. Keeping them in one
 * partition lets a new incident, its first chronology line, its submission marker and its alerts be
 * written in one entity-group transaction: either all of them exist or none do, and a second
 * transaction for the same submission fails on the marker instead of creating a second incident.
 * See https://learn.microsoft.com/rest/api/storageservices/performing-entity-group-transactions
 */
export class IncidentStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.incidents);
  }

  /** Writes a new incident with its first event and alerts, atomically; a repeated submission id returns the first reference. */
  async createIncident(record: IncidentRecord, firstEvent: Omit<ChronologyEvent, 'sequence'>, alerts: NewAlert[], options: CreateIncidentOptions = {}): Promise<CreateIncidentResult> {
    const { schoolId, reference } = record;
    const actions: TransactionAction[] = [
      ['create', { partitionKey: schoolId, rowKey: rowKeys.submission(record.submissionId), reference, createdAt: record.createdAt }],
      ['create', toIncidentEntity({ ...record, eventCount: 1 })],
      ['create', toEventEntity(schoolId, reference, { ...firstEvent, sequence: 1 })],
      ...alerts.map((alert): TransactionAction => [
        'create',
        { ...alertEntity(schoolId, reference, alert, record.createdAt), ...(options.claimAlertsAt ? { status: 'sending', claimedAt: options.claimAlertsAt } : {}) },
      ]),
      ...(options.auditRows ?? []).map((row): TransactionAction => ['create', row]),
      ...(options.counts ?? []).map((count): TransactionAction => ['create', pendingCountEntity(schoolId, count, record.createdAt)]),
    ];
    if (actions.length > MAX_TRANSACTION_ACTIONS) throw new Error(`A new incident can write at most ${MAX_TRANSACTION_ACTIONS} rows (${actions.length} asked for: too many alert recipients).`);
    try {
      const response = await guardStorage('create incident', async () => (await this.table()).submitTransaction(actions));
      const written = alerts.map((alert): AlertRecord => ({
        schoolId,
        reference,
        ...alert,
        status: options.claimAlertsAt ? 'sending' : 'pending',
        createdAt: record.createdAt,
        claimedAt: options.claimAlertsAt,
        deliveredAt: undefined,
        etag: etagIn(response.subResponses, rowKeys.alert(reference, alert.recipientId)),
      }));
      return { created: true, alerts: written };
    } catch (error) {
      if (!isConflict(error)) throw error;
      const existingReference = await this.findReferenceForSubmission(schoolId, record.submissionId);
      if (!existingReference) throw error;
      return { created: false, existingReference };
    }
  }

  /** The reference already given to a card submission, if any. */
  async findReferenceForSubmission(schoolId: string, submissionId: string): Promise<string | undefined> {
    return guardStorage('read submission', async () => {
      const entity = await getEntityOrUndefined<{ reference: string }>(await this.table(), schoolId, rowKeys.submission(submissionId));
      return entity?.reference;
    });
  }

  async getIncident(schoolId: string, reference: string): Promise<StoredIncident | undefined> {
    return guardStorage('read incident', async () => {
      const entity = await getEntityOrUndefined<Entity>(await this.table(), schoolId, rowKeys.incident(reference));
      return entity ? fromIncidentEntity(entity) : undefined;
    });
  }

  /** Incidents a person reported, newest first. */
  async listIncidentsByReporter(schoolId: string, reporterId: string): Promise<StoredIncident[]> {
    const { from, to } = range('incident');
    const filter = odata`PartitionKey eq ${schoolId} and RowKey ge ${from} and RowKey lt ${to} and reporterId eq ${reporterId}`;
    const incidents = await this.query(filter, fromIncidentEntity);
    return incidents.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Every incident of a school (for triage lists and rebuilding aggregates). */
  async listIncidents(schoolId: string): Promise<StoredIncident[]> {
    const { from, to } = range('incident');
    return this.query(odata`PartitionKey eq ${schoolId} and RowKey ge ${from} and RowKey lt ${to}`, fromIncidentEntity);
  }

  async listChronology(schoolId: string, reference: string): Promise<ChronologyEvent[]> {
    const { from, to } = range(`event|${reference}`);
    return this.query(odata`PartitionKey eq ${schoolId} and RowKey ge ${from} and RowKey lt ${to}`, (entity) => ({
      sequence: Number(entity.sequence),
      at: String(entity.at),
      actorId: String(entity.actorId),
      kind: entity.kind as ChronologyEvent['kind'],
      what: String(entity.what),
      why: String(entity.why ?? ''),
    }));
  }

  /**
   * Appends a chronology line and applies `change` to the incident in one transaction, guarded by the
   * etag the caller read: if someone else changed the incident since, this throws a conflict (412).
   * Closing sets `closedAt`; a row closed before that field existed gets its last update time, which was its close.
   */
  async appendEvent(
    incident: StoredIncident,
    event: Omit<ChronologyEvent, 'sequence'>,
    change: Partial<IncidentRecord> = {},
    extra: AppendExtras = {},
  ): Promise<StoredIncident> {
    const sequence = incident.eventCount + 1;
    const closedAt = incident.closedAt ?? (incident.status === 'closed' ? incident.updatedAt : change.status === 'closed' ? event.at : undefined);
    const { etag: _old, ...current } = incident;
    const updated: IncidentRecord = { ...current, ...change, closedAt, eventCount: sequence, updatedAt: event.at };
    const alerts = extra.alerts ?? [];
    const rows = [...(extra.rows ?? []), ...(extra.counts ?? []).map((count) => pendingCountEntity(incident.schoolId, count, event.at))];
    if (2 + alerts.length + rows.length > MAX_TRANSACTION_ACTIONS) throw new Error(`One change to an incident can write at most ${MAX_TRANSACTION_ACTIONS} rows.`);
    const incidentKey = rowKeys.incident(incident.reference);
    const response = await guardStorage('append incident event', async () =>
      (await this.table()).submitTransaction([
        ['update', toIncidentEntity(updated), 'Replace', { etag: incident.etag }],
        ['create', toEventEntity(incident.schoolId, incident.reference, { ...event, sequence })],
        // A new alert for someone alerted before replaces the old row: it is pending again.
        ...alerts.map((alert): TransactionAction => ['upsert', alertEntity(incident.schoolId, incident.reference, alert, event.at), 'Replace']),
        ...rows.map((row): TransactionAction => ['create', { ...row, partitionKey: incident.schoolId } as Entity]),
      ]),
    );
    // The new etag comes back with the transaction: no second read, so a saved change is never reported as a failure.
    const etag = etagIn(response.subResponses, incidentKey);
    if (etag) return { ...updated, etag };
    return (await this.getIncident(incident.schoolId, incident.reference))!;
  }

  /**
   * Deletes an incident with its chronology, submission marker and alerts, guarded by the etag the caller
   * read: when the incident changed since, this throws a conflict (412) and deletes nothing. A transaction
   * cannot guard a delete with an etag, so the first transaction marks the incident (guarded) and deletes
   * the other rows with it, and the incident row goes last: a failure part-way leaves the incident in place
   * (with a new etag) to be deleted again. Returns how many rows were deleted.
   */
  async deleteIncident(incident: StoredIncident, at: string): Promise<number> {
    const { schoolId, reference } = incident;
    const incidentKey = rowKeys.incident(reference);
    return guardStorage('delete incident', async () => {
      const table = await this.table();
      const others: string[] = [];
      const belongs = (rowKey: string): boolean =>
        rowKey.startsWith(`event|${reference}|`) ||
        rowKey.startsWith(`alert|${reference}|`) ||
        (rowKey.startsWith('sanction|') && rowKey.includes(`|${reference}|`)) ||
        rowKey === rowKeys.submission(incident.submissionId);
      for await (const entity of table.listEntities<Entity>({ queryOptions: { filter: odata`PartitionKey eq ${schoolId} and reference eq ${reference}`, select: ['RowKey'] } })) {
        if (belongs(entity.rowKey)) others.push(entity.rowKey);
      }
      const remove = (rowKey: string): TransactionAction => ['delete', { partitionKey: schoolId, rowKey }];
      const first = await table.submitTransaction([
        ['update', { partitionKey: schoolId, rowKey: incidentKey, deletionApprovedAt: at }, 'Merge', { etag: incident.etag }],
        ...others.slice(0, MAX_TRANSACTION_ACTIONS - 1).map(remove),
      ]);
      for (let i = MAX_TRANSACTION_ACTIONS - 1; i < others.length; i += MAX_TRANSACTION_ACTIONS) {
        await table.submitTransaction(others.slice(i, i + MAX_TRANSACTION_ACTIONS).map(remove));
      }
      const etag = first.getResponseForEntity(incidentKey)?.etag ?? (await table.getEntity(schoolId, incidentKey)).etag;
      await table.deleteEntity(schoolId, incidentKey, { etag });
      return others.length + 1;
    });
  }

  /** Alerts not yet delivered; with `recipientId`, only that person's. Alerts stuck in `sending` longer than `staleAfterMs` count as pending. */
  async listPendingAlerts(schoolId: string, options: { recipientId?: string; now: Date; staleAfterMs: number }): Promise<AlertRecord[]> {
    const { from, to } = range('alert');
    const filter = options.recipientId
      ? odata`PartitionKey eq ${schoolId} and RowKey ge ${from} and RowKey lt ${to} and recipientId eq ${options.recipientId} and status ne ${'delivered'}`
      : odata`PartitionKey eq ${schoolId} and RowKey ge ${from} and RowKey lt ${to} and status ne ${'delivered'}`;
    const alerts = await this.query(filter, fromAlertEntity);
    const staleBefore = options.now.getTime() - options.staleAfterMs;
    return alerts.filter((a) => a.status === 'pending' || (a.claimedAt !== undefined && Date.parse(a.claimedAt) < staleBefore));
  }

  async listAlertsForIncident(schoolId: string, reference: string): Promise<AlertRecord[]> {
    const { from, to } = range(`alert|${reference}`);
    return this.query(odata`PartitionKey eq ${schoolId} and RowKey ge ${from} and RowKey lt ${to}`, fromAlertEntity);
  }

  /** Marks an alert as being sent by this instance; false when another instance claimed it first. */
  async claimAlert(alert: AlertRecord, now: Date): Promise<AlertRecord | undefined> {
    try {
      const response = await guardStorage('claim alert', async () =>
        (await this.table()).updateEntity(
          { partitionKey: alert.schoolId, rowKey: rowKeys.alert(alert.reference, alert.recipientId), status: 'sending', claimedAt: now.toISOString() },
          'Merge',
          { etag: alert.etag },
        ),
      );
      return { ...alert, status: 'sending', claimedAt: now.toISOString(), etag: response.etag ?? alert.etag };
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  async completeAlert(alert: AlertRecord, outcome: 'delivered' | 'pending', now: Date): Promise<void> {
    await guardStorage('complete alert', async () =>
      (await this.table()).updateEntity(
        {
          partitionKey: alert.schoolId,
          rowKey: rowKeys.alert(alert.reference, alert.recipientId),
          status: outcome,
          deliveredAt: outcome === 'delivered' ? now.toISOString() : '',
          claimedAt: '',
        },
        'Merge',
        { etag: alert.etag },
      ),
    );
  }

  /** Every sanction on one incident, or on one pupil (records/sanction-store.ts keeps them beside the incidents). */
  listSanctions(schoolId: string, match: { reference?: string; pupilId?: string }): Promise<SanctionRecord[]> {
    return new SanctionStore(this.tables).listSanctions(schoolId, match);
  }

  private async query<T>(filter: string, map: (entity: Entity) => T): Promise<T[]> {
    return guardStorage('query incidents', async () => {
      const results: T[] = [];
      for await (const entity of (await this.table()).listEntities<Entity>({ queryOptions: { filter } })) results.push(map(entity));
      return results;
    });
  }
}

function toIncidentEntity(record: IncidentRecord): Entity {
  return {
    partitionKey: record.schoolId,
    rowKey: rowKeys.incident(record.reference),
    reference: record.reference,
    type: record.type,
    fourC: record.fourC,
    audience: record.audience,
    childProtection: record.childProtection,
    subject: record.subject,
    occurredOn: record.occurredOn,
    occurredAt: record.occurredAt ?? '',
    involved: JSON.stringify(record.involved),
    yearGroups: JSON.stringify(record.yearGroups),
    location: record.location,
    description: record.description,
    actionTaken: record.actionTaken,
    status: record.status,
    reporterId: record.reporterId,
    submissionId: record.submissionId,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    eventCount: record.eventCount,
    retentionDate: record.retentionDate ?? '',
    retentionBasis: record.retentionBasis ?? '',
    legalHold: record.legalHold === true,
    closedAt: record.closedAt ?? '',
    historic: record.historic === true,
    subjectId: record.subjectId ?? '',
    subjectUnresolved: record.subjectUnresolved === true,
    dslExcluded: record.dslExcluded === true,
    cpomsReference: record.cpomsReference ?? '',
    grantedViewerIds: JSON.stringify(record.grantedViewerIds ?? []),
    referrals: JSON.stringify(record.referrals ?? []),
    pendingClose: record.pendingClose ? JSON.stringify(record.pendingClose) : '',
  };
}

function fromIncidentEntity(entity: Entity): StoredIncident {
  return {
    schoolId: entity.partitionKey,
    reference: String(entity.reference),
    type: entity.type as IncidentType,
    fourC: entity.fourC as FourC,
    audience: entity.audience as IncidentAudience,
    childProtection: entity.childProtection === true,
    subject: entity.subject as MatrixSubject,
    occurredOn: String(entity.occurredOn),
    occurredAt: entity.occurredAt ? String(entity.occurredAt) : undefined,
    involved: JSON.parse(String(entity.involved)) as InvolvedParty[],
    yearGroups: JSON.parse(String(entity.yearGroups ?? '[]')) as string[],
    location: String(entity.location ?? ''),
    description: String(entity.description),
    actionTaken: String(entity.actionTaken ?? ''),
    status: entity.status as IncidentStatus,
    reporterId: String(entity.reporterId),
    submissionId: String(entity.submissionId),
    createdAt: String(entity.createdAt),
    updatedAt: String(entity.updatedAt),
    eventCount: Number(entity.eventCount),
    retentionDate: entity.retentionDate ? String(entity.retentionDate) : undefined,
    retentionBasis: entity.retentionBasis ? (entity.retentionBasis as RetentionBasis) : undefined,
    legalHold: entity.legalHold === true,
    closedAt: entity.closedAt ? String(entity.closedAt) : undefined,
    historic: entity.historic === true,
    subjectId: entity.subjectId ? String(entity.subjectId) : undefined,
    subjectUnresolved: entity.subjectUnresolved === true,
    dslExcluded: entity.dslExcluded === true,
    cpomsReference: entity.cpomsReference ? String(entity.cpomsReference) : undefined,
    grantedViewerIds: JSON.parse(String(entity.grantedViewerIds || '[]')) as string[],
    referrals: JSON.parse(String(entity.referrals || '[]')) as Referral[],
    pendingClose: entity.pendingClose ? (JSON.parse(String(entity.pendingClose)) as PendingClose) : undefined,
    etag: String(entity.etag),
  };
}

function toEventEntity(schoolId: string, reference: string, event: ChronologyEvent): Entity {
  return { partitionKey: schoolId, rowKey: rowKeys.event(reference, event.sequence), reference, ...event };
}

function alertEntity(schoolId: string, reference: string, alert: NewAlert, createdAt: string): Entity {
  return {
    partitionKey: schoolId,
    rowKey: rowKeys.alert(reference, alert.recipientId),
    reference,
    recipientId: alert.recipientId,
    role: alert.role,
    type: alert.type,
    urgent: alert.urgent,
    status: 'pending',
    createdAt,
  };
}


function fromAlertEntity(entity: Entity): AlertRecord {
  return {
    schoolId: entity.partitionKey,
    reference: String(entity.reference),
    recipientId: String(entity.recipientId),
    role: entity.role as Role,
    type: entity.type as IncidentType,
    urgent: entity.urgent === true,
    status: entity.status as AlertRecord['status'],
    createdAt: String(entity.createdAt),
    claimedAt: entity.claimedAt ? String(entity.claimedAt) : undefined,
    deliveredAt: entity.deliveredAt ? String(entity.deliveredAt) : undefined,
    etag: String(entity.etag),
  };
}

/** A row's etag from a transaction's sub-responses, whose row keys arrive URL-encoded (from each Location header); '' when absent. */
function etagIn(subResponses: readonly { rowKey?: string; etag?: string }[], rowKey: string): string {
  const decode = (value: string): string => {
    try {
      return decodeURIComponent(value.replace(/''/g, "'"));
    } catch {
      return value;
    }
  };
  return subResponses.find((r) => r.rowKey !== undefined && (r.rowKey === rowKey || decode(r.rowKey) === rowKey))?.etag?.trim() ?? '';
}
