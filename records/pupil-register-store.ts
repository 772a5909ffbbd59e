import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { getEntityOrUndefined, guardStorage, TABLE_NAMES, type Tables } from './tables';

/**
 * Where a pupil's account stands.
 * - `pending`: written before the account is created, or while steps are still to do (a run stopped part-way).
 * - `active`: every step done.
 * - `leaver-disabled`: off the roll; sign-in disabled and sessions revoked on `disabledAt`.
 * - `deleted`: the account was deleted on `deletedAt`; the row stays as the school's record.
 */
export type PupilStatus = 'pending' | 'active' | 'leaver-disabled' | 'deleted';

/** A security group the pupil was added to. */
export interface RegisterGroup {
  id: string;
  name: string;
}

/**
 * One pupil in the school's record of users and usernames. Names are kept here because this is that
 * record; they never go to logs or audit. No password is ever stored.
 */
export interface PupilRecord {
  /** The MIS key written to the account's employeeId: the unique pupil number, else the admission number or SDS sourcedId. */
  externalId: string;
  uniquePupilNumber?: string;
  admissionNumber?: string;
  forename: string;
  surname: string;
  yearGroup?: string;
  /** The class (registration group). */
  registrationGroup?: string;
  cohort: string;
  /** YYYY-MM-DD from the roll, when it has a date of birth column; it sets how long incidents about the pupil are kept. */
  dateOfBirth?: string;
  /** The username, lower case. Kept for life, even when the pupil's name changes. */
  userPrincipalName: string;
  /** Entra object id, once the account exists. */
  userId?: string;
  status: PupilStatus;
  /** `created` by this app, or `adopted`: an account that already had this pupil's employeeId. */
  accountOrigin?: 'created' | 'adopted';
  /** What was assigned, as `SKU:disabled,plans`; differs from the settings while the step is still to do. */
  licence?: string;
  licenceSkuId?: string;
  /** Groups the pupil was added to; empty until that step is done. */
  groups: RegisterGroup[];
  /** Teams policies assigned, as `messaging|meeting` names; empty until that step is done. */
  policies?: string;
  /** When slips carrying the account's current password were produced. Unset: nobody has seen the password. */
  credentialsIssuedAt?: string;
  createdAt: string;
  updatedAt: string;
  activeSince?: string;
  disabledAt?: string;
  deletedAt?: string;
  leaverReason?: 'not-on-roll' | 'leavers-file';
  /** The run that last changed this row. */
  lastRunId?: string;
}

/** A pupil for the report card's picker. */
export interface RegisterPupilChoice {
  pupilId: string;
  label: string;
  yearGroup: string;
  /** For the incident's retention date; never shown on the card. */
  dateOfBirth?: string;
}

type PupilEntity = { partitionKey: string; rowKey: string } & Record<string, string | undefined>;

/** Azure Tables takes at most 100 operations per entity-group transaction. */
const TRANSACTION_SIZE = 100;
const PARALLEL_TRANSACTIONS = 4;

/**
 * The pupil register. Keys: PartitionKey = school id, RowKey = externalId, with `%`, `/`, `\`, `#`, `?`
 * and control characters percent-encoded because Azure Tables refuses them in keys
 * (https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model).
 * Writes replace the whole row with the state the caller holds, so repeating one is harmless; a school's
 * rows share a partition, so up to 100 are written per transaction.
 */
export class PupilRegisterStore {
  constructor(private readonly tables: Tables) {}

  private table(): Promise<TableClient> {
    return this.tables.getTable(TABLE_NAMES.pupilRegister);
  }

  /** Every pupil the school has ever provisioned, leavers and deleted accounts included. */
  async listPupils(schoolId: string): Promise<PupilRecord[]> {
    return guardStorage('list pupils', async () => {
      const table = await this.table();
      const pupils: PupilRecord[] = [];
      for await (const entity of table.listEntities<PupilEntity>({ queryOptions: { filter: odata`PartitionKey eq ${schoolId}` } })) {
        pupils.push(fromEntity(entity));
      }
      return pupils;
    });
  }

  async getPupil(schoolId: string, externalId: string): Promise<PupilRecord | undefined> {
    return guardStorage('get pupil', async () => {
      const entity = await getEntityOrUndefined<PupilEntity>(await this.table(), schoolId, toRowKey(externalId));
      return entity ? fromEntity(entity) : undefined;
    });
  }

  /** The pupil holding a username (compared in lower case), or undefined. */
  async findPupilByUserPrincipalName(schoolId: string, userPrincipalName: string): Promise<PupilRecord | undefined> {
    const upn = userPrincipalName.trim().toLowerCase();
    return guardStorage('find pupil', async () => {
      const table = await this.table();
      for await (const entity of table.listEntities<PupilEntity>({ queryOptions: { filter: odata`PartitionKey eq ${schoolId} and userPrincipalName eq ${upn}` } })) {
        return fromEntity(entity);
      }
      return undefined;
    });
  }

  /** Writes each pupil's row as given (insert or replace). */
  async savePupils(schoolId: string, pupils: readonly PupilRecord[]): Promise<void> {
    if (pupils.length === 0) return;
    const unique = [...new Map(pupils.map((p) => [p.externalId, p])).values()];
    const chunks: PupilRecord[][] = [];
    for (let i = 0; i < unique.length; i += TRANSACTION_SIZE) chunks.push(unique.slice(i, i + TRANSACTION_SIZE));
    await guardStorage('save pupils', async () => {
      const table = await this.table();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < chunks.length) {
          const chunk = chunks[next++] as PupilRecord[];
          await table.submitTransaction(chunk.map((pupil): TransactionAction => ['upsert', toEntity(schoolId, pupil), 'Replace']));
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_TRANSACTIONS, chunks.length) }, worker));
    });
  }

  /**
   * The named pupils as report-card choices, each read by key (point reads in parallel): the submit path's
   * lookup, whose cost follows the pupils a report names, not the size of the register. Leavers are absent.
   */
  async getPupilChoices(schoolId: string, externalIds: readonly string[]): Promise<RegisterPupilChoice[]> {
    const found = await Promise.all([...new Set(externalIds)].map((id) => this.getPupil(schoolId, id)));
    return found
      .filter((p): p is PupilRecord => p !== undefined && (p.status === 'active' || p.status === 'pending'))
      .map((p) => ({
        pupilId: p.externalId,
        label: `${p.forename} ${p.surname}${p.registrationGroup ? ` (${p.registrationGroup})` : ''}`,
        yearGroup: p.yearGroup ?? '',
        ...(p.dateOfBirth ? { dateOfBirth: p.dateOfBirth } : {}),
      }));
  }

  /** Active and pending pupils for the report card, sorted by class then name. */
  async listPupilChoices(schoolId: string): Promise<RegisterPupilChoice[]> {
    const pupils = (await this.listPupils(schoolId)).filter((p) => p.status === 'active' || p.status === 'pending');
    return pupils
      .map((p) => ({
        pupilId: p.externalId,
        label: `${p.forename} ${p.surname}${p.registrationGroup ? ` (${p.registrationGroup})` : ''}`,
        yearGroup: p.yearGroup ?? '',
        ...(p.dateOfBirth ? { dateOfBirth: p.dateOfBirth } : {}),
        sortKey: `${p.registrationGroup ?? ''}\u0000${p.surname}\u0000${p.forename}`,
      }))
      .sort((a, b) => a.sortKey.localeCompare(b.sortKey, 'en-GB'))
      .map(({ sortKey: _sortKey, ...choice }) => choice);
  }

  /**
   * Every active or pending pupil when there are at most `limit` of them, else undefined: the report card's
   * static list for a tiny school. Reads at most `limit + 1` rows (names and class only), whatever the roll's size.
   */
  async listPupilChoicesIfAtMost(schoolId: string, limit: number): Promise<RegisterPupilChoice[] | undefined> {
    return guardStorage('list pupil choices', async () => {
      const table = await this.table();
      const found: RegisterPupilChoice[] = [];
      const entities = table.listEntities<PupilEntity>({ queryOptions: { filter: `${odata`PartitionKey eq ${schoolId}`} and ${ON_ROLL}`, select: CHOICE_FIELDS } });
      for await (const page of entities.byPage({ maxPageSize: limit + 1 })) {
        for (const entity of page) found.push(choiceOf(entity));
        if (found.length > limit) return undefined;
      }
      return sortChoices(found);
    });
  }

  /**
   * Pupils on the roll whose forename or surname (or the last part of a surname) starts with the first word of
   * `text`, and with every other word too; case and accents are ignored. The prefix is a range filter the table
   * service evaluates, and at most `limit` matches come back, reading no more than SEARCH_READ_LIMIT rows in
   * at most three round trips.
   * Rows written before the search keys existed are still found when their names are capitalised as usual.
   */
  async searchPupilChoices(schoolId: string, text: string, limit: number): Promise<RegisterPupilChoice[]> {
    const words = searchWords(text);
    const first = words[0];
    if (!first || limit <= 0) return [];
    const end = prefixEnd(first);
    const title = first.charAt(0).toUpperCase() + first.slice(1);
    const titleEnd = prefixEnd(title);
    const ranges = [
      odata`(searchForename ge ${first} and searchForename lt ${end})`,
      odata`(searchSurname ge ${first} and searchSurname lt ${end})`,
      odata`(searchSurnameLast ge ${first} and searchSurnameLast lt ${end})`,
      odata`(forename ge ${title} and forename lt ${titleEnd})`,
      odata`(surname ge ${title} and surname lt ${titleEnd})`,
    ];
    const filter = `${odata`PartitionKey eq ${schoolId}`} and ${ON_ROLL} and (${ranges.join(' or ')})`;
    return guardStorage('search pupils', async () => {
      const table = await this.table();
      const found: RegisterPupilChoice[] = [];
      let read = 0;
      let pages = 0;
      for await (const page of table.listEntities<PupilEntity>({ queryOptions: { filter, select: CHOICE_FIELDS } }).byPage({ maxPageSize: SEARCH_READ_LIMIT })) {
        pages++;
        for (const entity of page) {
          read++;
          const names = searchWords(`${entity.forename ?? ''} ${entity.surname ?? ''}`);
          if (words.every((w) => names.some((n) => n.startsWith(w)))) found.push(choiceOf(entity));
        }
        // The service may end a page early with a continuation; a search still stops after a few round trips.
        if (found.length >= limit || read >= SEARCH_READ_LIMIT || pages >= SEARCH_PAGE_LIMIT) break;
      }
      return sortChoices(found).slice(0, limit);
    });
  }
}

/** Pupils the report card may offer: on the roll, or being provisioned. */
const ON_ROLL = "(status eq 'active' or status eq 'pending')";
/** Only what a choice needs travels: never the UPN, groups or licence. */
const CHOICE_FIELDS = ['externalId', 'forename', 'surname', 'registrationGroup', 'yearGroup', 'dateOfBirth'];
/** Rows a single search may read, so a search costs one page at most, however common the prefix. */
export const SEARCH_READ_LIMIT = 100;
const SEARCH_PAGE_LIMIT = 3;

function choiceOf(entity: PupilEntity): RegisterPupilChoice {
  const group = entity.registrationGroup ?? '';
  return {
    pupilId: entity.externalId ?? entity.rowKey,
    label: `${entity.forename ?? ''} ${entity.surname ?? ''}${group ? ` (${group})` : ''}`.trim(),
    yearGroup: entity.yearGroup ?? '',
    ...(entity.dateOfBirth ? { dateOfBirth: entity.dateOfBirth } : {}),
  };
}

function sortChoices(choices: RegisterPupilChoice[]): RegisterPupilChoice[] {
  return choices.sort((a, b) => a.label.localeCompare(b.label, 'en-GB') || a.pupilId.localeCompare(b.pupilId));
}

/** A name or query as search words: accents folded, lower case, apostrophes dropped, split at spaces and hyphens. */
export function searchWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** The first string after every string that starts with `prefix` (its last character plus one). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The search keys stored on each row: range filters on them find a name by its start in any case or accent. */
function searchKeysOf(pupil: PupilRecord): Record<string, string> {
  const forename = searchWords(pupil.forename).join(' ');
  const surnameWords = searchWords(pupil.surname);
  const keys: Record<string, string> = {};
  if (forename) keys.searchForename = forename;
  if (surnameWords.length > 0) keys.searchSurname = surnameWords.join(' ');
  if (surnameWords.length > 1) keys.searchSurnameLast = surnameWords[surnameWords.length - 1]!;
  return keys;
}

/** The RowKey for an externalId. */
export function toRowKey(externalId: string): string {
  return Array.from(externalId, (c) => {
    const code = c.charCodeAt(0);
    const refused = '%/\\#?'.includes(c) || code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    return refused ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }).join('');
}

const TEXT_FIELDS = [
  'uniquePupilNumber', 'admissionNumber', 'forename', 'surname', 'yearGroup', 'registrationGroup', 'cohort', 'userPrincipalName', 'userId', 'status',
  'accountOrigin', 'licence', 'licenceSkuId', 'policies', 'credentialsIssuedAt', 'createdAt', 'updatedAt', 'activeSince', 'disabledAt', 'deletedAt',
  'leaverReason', 'lastRunId', 'dateOfBirth',
] as const;

function toEntity(schoolId: string, pupil: PupilRecord): PupilEntity {
  const entity: PupilEntity = { partitionKey: schoolId, rowKey: toRowKey(pupil.externalId), externalId: pupil.externalId, groups: JSON.stringify(pupil.groups) };
  for (const field of TEXT_FIELDS) {
    const value = pupil[field];
    if (value !== undefined && value !== '') entity[field] = value;
  }
  return { ...entity, ...searchKeysOf(pupil) };
}

function fromEntity(entity: PupilEntity): PupilRecord {
  const text = (field: string): string | undefined => (typeof entity[field] === 'string' && entity[field] !== '' ? entity[field] : undefined);
  const record: Record<string, unknown> = {};
  for (const field of TEXT_FIELDS) {
    const value = text(field);
    if (value !== undefined) record[field] = value;
  }
  let groups: RegisterGroup[] = [];
  try {
    const parsed = JSON.parse(text('groups') ?? '[]') as unknown;
    if (Array.isArray(parsed)) groups = parsed.filter((g): g is RegisterGroup => typeof g?.id === 'string' && typeof g?.name === 'string');
  } catch {
    groups = [];
  }
  return {
    ...(record as Omit<PupilRecord, 'externalId' | 'groups'>),
    externalId: text('externalId') ?? entity.rowKey,
    forename: text('forename') ?? '',
    surname: text('surname') ?? '',
    cohort: text('cohort') ?? '',
    userPrincipalName: text('userPrincipalName') ?? '',
    status: (text('status') as PupilStatus | undefined) ?? 'pending',
    createdAt: text('createdAt') ?? '',
    updatedAt: text('updatedAt') ?? '',
    groups,
  };
}
