import { odata, type TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, isConflict, TABLE_NAMES, type Tables } from './tables';

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
  recordedAt: string;
}

interface AcknowledgementEntity extends Omit<AupAcknowledgement, 'parentName' | 'recordedBy'> {
  partitionKey: string;
  rowKey: string;
  parentName: string;
  recordedBy: string;
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
}

/**
 * Where a campaign stands for one person.
 * - `sent`: the card reached them (`lastSentAt`); reminders follow every reminderDays while they owe it.
 * - `pending`: the bot could not reach them yet (no conversation); each job run tries again.
 */
export interface AupCampaignRecipient {
  campaignId: string;
  personId: string;
  status: 'sent' | 'pending';
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

/** The deterministic key of one acknowledgement, so a repeat (double tap, retry, paper after card) writes nothing. */
export function acknowledgementRowKey(documentId: string, version: number, personId: string): string {
  return `${documentId}|v${version}|${personId}`;
}

/** The id of the campaign for a document version and audience; starting it again finds the same campaign. */
export function campaignIdFor(documentId: string, version: number, audience: string): string {
  return `${documentId}-v${version}-${audience}`;
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
 */
export class AupStore {
  constructor(private readonly tables: Tables) {}

  /** Stores an acknowledgement unless one exists for that person, document and version; returns the stored one. */
  async recordAcknowledgement(schoolId: string, ack: AupAcknowledgement): Promise<{ created: boolean; acknowledgement: AupAcknowledgement }> {
    return guardStorage('record AUP acknowledgement', async () => {
      const table = await this.acknowledgements();
      const rowKey = acknowledgementRowKey(ack.documentId, ack.version, ack.personId);
      try {
        await table.createEntity<AcknowledgementEntity>({ partitionKey: schoolId, rowKey, ...ack, parentName: ack.parentName ?? '', recordedBy: ack.recordedBy ?? '' });
        return { created: true, acknowledgement: ack };
      } catch (error) {
        if (!isConflict(error)) throw error;
        const existing = await getEntityOrUndefined<AcknowledgementEntity>(table, schoolId, rowKey);
        return { created: false, acknowledgement: existing ? toAcknowledgement(existing) : ack };
      }
    });
  }

  async getAcknowledgement(schoolId: string, documentId: string, version: number, personId: string): Promise<AupAcknowledgement | undefined> {
    return guardStorage('read AUP acknowledgement', async () => {
      const entity = await getEntityOrUndefined<AcknowledgementEntity>(await this.acknowledgements(), schoolId, acknowledgementRowKey(documentId, version, personId));
      return entity ? toAcknowledgement(entity) : undefined;
    });
  }

  /** Everyone who acknowledged one version of a document. */
  async listAcknowledgements(schoolId: string, documentId: string, version: number): Promise<AupAcknowledgement[]> {
    const prefix = `${documentId}|v${version}|`;
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
    recordedAt: e.recordedAt,
  };
}

function toCampaign(e: CampaignEntity): AupCampaign {
  return { campaignId: e.campaignId, documentId: e.documentId, version: e.version, audience: e.audience, startedBy: e.startedBy, startedAt: e.startedAt };
}

function toRecipient(e: RecipientEntity & { etag?: string }): AupCampaignRecipient {
  return { campaignId: e.campaignId, personId: e.personId, status: e.status, lastSentAt: e.lastSentAt, reminders: e.reminders, etag: e.etag ?? '' };
}
