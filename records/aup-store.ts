import { odata, type TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, isConflict, isNotFound, TABLE_NAMES, type Tables } from './tables';

/** How an acknowledgement reached the school. */
export type AupChannel = 'teams-card' | 'paper';

/** One person's acknowledgement of one version of one document. */
export interface AupAcknowledgement {
  /** Entra object id, or the school's reference for someone without an account (paper only). */
  personId: string;
  name: string;
  role: string;
  documentId: string;
  version: number;
  /** SHA-256 of the text the person was shown. */
  textHash: string;
  /** When they acknowledged (for paper: the date on the form). */
  acknowledgedAt: string;
  channel: AupChannel;
  /** Pupil documents: the parent or carer who read it with the child. */
  parentName?: string;
  /** Paper: the coordinator who entered the form. */
  recordedBy?: string;
  /** A parent's agreement: the child it is for (their Entra object id, or `pupil-<register key>`). */
  forPupil?: string;
  /** Annual documents: the academic year (starting calendar year) this acknowledgement counts for. */
  academicYear?: number;
  recordedAt: string;
}

interface AcknowledgementEntity extends Omit<AupAcknowledgement, 'parentName' | 'recordedBy' | 'forPupil' | 'academicYear'> {
  partitionKey: string;
  rowKey: string;
  parentName: string;
  recordedBy: string;
  forPupil?: string;
  academicYear?: number;
}

/** A campaign asking an audience to acknowledge the current version of a document. */
export interface AupCampaign {
  campaignId: string;
  documentId: string;
  version: number;
  /** The role whose members were asked. */
  audience: string;
  startedBy: string;
  startedAt: string;
  /** Annual documents: the academic year the campaign asks for; a new one starts each September. */
  academicYear?: number;
}

/**
 * Where a campaign stands for one person.
 * - `sent`: the card reached them (`lastSentAt`); reminders follow every reminderDays while they owe it.
 * - `pending`: the bot could not reach them yet (no conversation); each job run tries again.
 * - `sending`: an instance claimed them at `lastSentAt` and is sending the card. A claim whose holder died
 *   (older than AUP_SEND_CLAIM_MS) counts as `pending` again, so the card still goes out within a minute.
 */
export interface AupCampaignRecipient {
  campaignId: string;
  personId: string;
  status: 'sent' | 'pending' | 'sending';
  lastSentAt: string;
  reminders: number;
  etag: string;
}

interface CampaignEntity extends Omit<AupCampaign, 'campaignId'> {
  partitionKey: string;
  rowKey: string;
  campaignId: string;
}

interface RecipientEntity extends Omit<AupCampaignRecipient, 'etag'> {
  partitionKey: string;
  rowKey: string;
}

/**
 * The access gate's record that it keeps one pupil's account disabled until their AUP arrives.
 * - `disabling`: written before Graph is asked to disable the account; a later hold retries it.
 * - `held`: Graph disabled the account. The row is deleted once the account is enabled again.
 */
export interface AupAccessHold {
  /** Entra object id of the pupil's account. */
  userId: string;
  /** The pupil's register key (records/pupil-register-store.ts). */
  externalId: string;
  state: 'disabling' | 'held';
  heldAt: string;
  /** Object id of the admin who applied the hold. */
  heldBy: string;
  /** Failed attempts to enable the account again; the reminder job retries. */
  releaseAttempts: number;
}

type AccessHoldEntity = AupAccessHold & { partitionKey: string; rowKey: string };

/**
 * The deterministic key of one acknowledgement, so a repeat (double tap, retry, paper after card) writes nothing.
 * An annual document's key carries the academic year (`staff-aup|v1.2026|…`), so each September a person
 * acknowledges it afresh while last year's record stays; `doc|v1|` and `doc|v1.2026|` never share a prefix.
 */
export function acknowledgementRowKey(documentId: string, version: number, personId: string, academicYear?: number): string {
  return `${versionPrefix(documentId, version, academicYear)}${personId}`;
}

function versionPrefix(documentId: string, version: number, academicYear?: number): string {
  return academicYear === undefined ? `${documentId}|v${version}|` : `${documentId}|v${version}.${academicYear}|`;
}

/** The id of the campaign for a document version and audience (and, for an annual document, academic year); starting it again finds the same campaign. */
export function campaignIdFor(documentId: string, version: number, audience: string, academicYear?: number): string {
  return academicYear === undefined ? `${documentId}-v${version}-${audience}` : `${documentId}-v${version}-${audience}-${academicYear}`;
}

/**
 * AUP acknowledgements and campaigns.
 *
 * Table `aupacknowledgements`: PartitionKey = school id, RowKey = `<documentId>|v<version>|<personId>`.
 * Written with createEntity, so the first write wins and every repeat is a no-op.
 *
 * Table `aupcampaigns`: PartitionKey = school id; RowKey = `campaign|<campaignId>` for a campaign and
 * `recipient|<campaignId>|<personId>` for each person asked. Recipients are claimed with their etag
 * before a card is sent, so two instances never send the same reminder.
 *
 * Table `aupaccessholds`: PartitionKey = school id, RowKey = the pupil's Entra object id. One row per pupil
 * the access gate keeps disabled; writing it again replaces it, and deleting a missing row is a no-op.
 */
export class AupStore {
  constructor(private readonly tables: Tables) {}

  /** Stores an acknowledgement unless one exists for that person, document and version; returns the stored one. */
  async recordAcknowledgement(schoolId: string, ack: AupAcknowledgement): Promise<{ created: boolean; acknowledgement: AupAcknowledgement }> {
    return guardStorage('record AUP acknowledgement', async () => {
      const table = await this.acknowledgements();
      const rowKey = acknowledgementRowKey(ack.documentId, ack.version, ack.personId, ack.academicYear);
      try {
        await table.createEntity<AcknowledgementEntity>({ partitionKey: schoolId, rowKey, ...ack, parentName: ack.parentName ?? '', recordedBy: ack.recordedBy ?? '', ...(ack.forPupil ? { forPupil: ack.forPupil } : {}) });
        return { created: true, acknowledgement: ack };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const existing = await getEntityOrUndefined<AcknowledgementEntity>(table, schoolId, rowKey);
        return { created: false, acknowledgement: existing ? toAcknowledgement(existing) : ack };
      }
    });
  }

  async getAcknowledgement(schoolId: string, documentId: string, version: number, personId: string, academicYear?: number): Promise<AupAcknowledgement | undefined> {
    return guardStorage('read AUP acknowledgement', async () => {
      const entity = await getEntityOrUndefined<AcknowledgementEntity>(await this.acknowledgements(), schoolId, acknowledgementRowKey(documentId, version, personId, academicYear));
      return entity ? toAcknowledgement(entity) : undefined;
    });
  }

  /** Everyone who acknowledged one version of a document (for an annual document, in one academic year). */
  async listAcknowledgements(schoolId: string, documentId: string, version: number, academicYear?: number): Promise<AupAcknowledgement[]> {
    const prefix = versionPrefix(documentId, version, academicYear);
    return this.query('list AUP acknowledgements', await this.acknowledgements(), odata`PartitionKey eq ${schoolId} and RowKey ge ${prefix} and RowKey lt ${`${prefix}\uffff`}`, toAcknowledgement);
  }

  /** Every acknowledgement one person has made, any document and version. */
  async listAcknowledgementsByPerson(schoolId: string, personId: string): Promise<AupAcknowledgement[]> {
    return this.query('list AUP acknowledgements by person', await this.acknowledgements(), odata`PartitionKey eq ${schoolId} and personId eq ${personId}`, toAcknowledgement);
  }

  /** Creates the campaign, or returns the one already started for the same document version and audience. */
  async createCampaign(schoolId: string, campaign: AupCampaign): Promise<{ created: boolean; campaign: AupCampaign }> {
    return guardStorage('start AUP campaign', async () => {
      const table = await this.campaigns();
      const rowKey = `campaign|${campaign.campaignId}`;
      try {
        await table.createEntity<CampaignEntity>({ partitionKey: schoolId, rowKey, ...campaign });
        return { created: true, campaign };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const existing = await getEntityOrUndefined<CampaignEntity>(table, schoolId, rowKey);
        return { created: false, campaign: existing ? toCampaign(existing) : campaign };
      }
    });
  }

  async listCampaigns(schoolId: string): Promise<AupCampaign[]> {
    return this.query('list AUP campaigns', await this.campaigns(), odata`PartitionKey eq ${schoolId} and RowKey ge ${'campaign|'} and RowKey lt ${'campaign|\uffff'}`, toCampaign);
  }

  /** Adds a person to a campaign; someone already in it is left as they are. Returns the stored row. */
  async addRecipient(schoolId: string, recipient: Omit<AupCampaignRecipient, 'etag'>): Promise<AupCampaignRecipient> {
    return guardStorage('add AUP campaign recipient', async () => {
      const table = await this.campaigns();
      const rowKey = `recipient|${recipient.campaignId}|${recipient.personId}`;
      try {
        const created = await table.createEntity<RecipientEntity>({ partitionKey: schoolId, rowKey, ...recipient });
        return { ...recipient, etag: created.etag ?? '' };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const existing = await getEntityOrUndefined<RecipientEntity>(table, schoolId, rowKey);
        return toRecipient(existing!);
      }
    });
  }

  async listRecipients(schoolId: string, campaignId: string): Promise<AupCampaignRecipient[]> {
    const prefix = `recipient|${campaignId}|`;
    return this.query('list AUP campaign recipients', await this.campaigns(), odata`PartitionKey eq ${schoolId} and RowKey ge ${prefix} and RowKey lt ${`${prefix}\uffff`}`, toRecipient);
  }

  /**
   * Claims a recipient for a send by writing the new state with the etag it was read with. Returns the
   * updated row, or undefined when another instance changed it first (that instance sends instead).
   */
  async claimRecipient(schoolId: string, recipient: AupCampaignRecipient, changes: Pick<AupCampaignRecipient, 'status' | 'lastSentAt' | 'reminders'>): Promise<AupCampaignRecipient | undefined> {
    return guardStorage('claim AUP campaign recipient', async () => {
      const table = await this.campaigns();
      const entity: RecipientEntity = { partitionKey: schoolId, rowKey: `recipient|${recipient.campaignId}|${recipient.personId}`, campaignId: recipient.campaignId, personId: recipient.personId, ...changes };
      try {
        const updated = await table.updateEntity(entity, 'Replace', { etag: recipient.etag });
        return { ...recipient, ...changes, etag: updated.etag ?? '' };
      } catch (error) {
        if (isConflict(error)) return undefined;
        throw error;
      }
    });
  }

  async getAccessHold(schoolId: string, userId: string): Promise<AupAccessHold | undefined> {
    return guardStorage('read AUP access hold', async () => {
      const entity = await getEntityOrUndefined<AccessHoldEntity>(await this.accessHolds(), schoolId, userId);
      return entity ? toAccessHold(entity) : undefined;
    });
  }

  async listAccessHolds(schoolId: string): Promise<AupAccessHold[]> {
    return this.query('list AUP access holds', await this.accessHolds(), odata`PartitionKey eq ${schoolId}`, toAccessHold);
  }

  /** Writes the hold as given (insert or replace). */
  async saveAccessHold(schoolId: string, hold: AupAccessHold): Promise<void> {
    await guardStorage('save AUP access hold', async () => {
      await (await this.accessHolds()).upsertEntity<AccessHoldEntity>({ partitionKey: schoolId, rowKey: hold.userId, ...hold }, 'Replace');
    });
  }

  /** Clears a hold; a hold already cleared (another instance, a retry) is fine. */
  async deleteAccessHold(schoolId: string, userId: string): Promise<void> {
    await guardStorage('clear AUP access hold', async () => {
      try {
        await (await this.accessHolds()).deleteEntity(schoolId, userId);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
  }

  private async query<E extends object, T>(operation: string, table: TableClient, filter: string, map: (entity: E & { etag?: string }) => T): Promise<T[]> {
    return guardStorage(operation, async () => {
      const found: T[] = [];
      for await (const entity of table.listEntities<E>({ queryOptions: { filter } })) found.push(map(entity));
      return found;
    });
  }

  private acknowledgements(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.aupAcknowledgements);
  }

  private campaigns(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.aupCampaigns);
  }

  private accessHolds(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.aupAccessHolds);
  }
}

function toAcknowledgement(e: AcknowledgementEntity): AupAcknowledgement {
  return {
    personId: e.personId,
    name: e.name,
    role: e.role,
    documentId: e.documentId,
    version: e.version,
    textHash: e.textHash,
    acknowledgedAt: e.acknowledgedAt,
    channel: e.channel,
    ...(e.parentName ? { parentName: e.parentName } : {}),
    ...(e.recordedBy ? { recordedBy: e.recordedBy } : {}),
    ...(e.forPupil ? { forPupil: e.forPupil } : {}),
    ...(typeof e.academicYear === 'number' ? { academicYear: e.academicYear } : {}),
    recordedAt: e.recordedAt,
  };
}

function toCampaign(e: CampaignEntity): AupCampaign {
  return { campaignId: e.campaignId, documentId: e.documentId, version: e.version, audience: e.audience, startedBy: e.startedBy, startedAt: e.startedAt, ...(typeof e.academicYear === 'number' ? { academicYear: e.academicYear } : {}) };
}

function toRecipient(e: RecipientEntity & { etag?: string }): AupCampaignRecipient {
  return { campaignId: e.campaignId, personId: e.personId, status: e.status, lastSentAt: e.lastSentAt, reminders: e.reminders, etag: e.etag ?? '' };
}

function toAccessHold(e: AccessHoldEntity): AupAccessHold {
  return { userId: e.userId, externalId: e.externalId, state: e.state === 'held' ? 'held' : 'disabling', heldAt: e.heldAt, heldBy: e.heldBy, releaseAttempts: Number(e.releaseAttempts ?? 0) };
}
