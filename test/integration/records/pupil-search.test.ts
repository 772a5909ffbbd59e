import { PupilRegisterStore, searchWords, toRowKey, type PupilRecord } from '../../../records/pupil-register-store';
import { TABLE_NAMES, Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const now = '2026-11-23T09:00:00.000Z';

function pupil(externalId: string, forename: string, surname: string, overrides: Partial<PupilRecord> = {}): PupilRecord {
  return { externalId, forename, surname, yearGroup: '4', registrationGroup: '4B', cohort: '22', userPrincipalName: `22${externalId.toLowerCase()}@school.example`, status: 'active', groups: [], createdAt: now, updatedAt: now, ...overrides };
}

describe('searchWords', () => {
  it.each([
    ["Zoë O'Brien", ['zoe', 'obrien']],
    ['Smith-Jones', ['smith', 'jones']],
    ['  ÁLVARO  de la Cruz ', ['alvaro', 'de', 'la', 'cruz']],
    ['', []],
  ])('when given "%s", folds it to %j', (text, words) => {
    expect(searchWords(text)).toEqual(words);
  });
});

describe('PupilRegisterStore pupil search against Azurite', () => {
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const store = new PupilRegisterStore(tables);
  const schoolId = uniqueSchoolId('search');

  beforeAll(async () => {
    await store.savePupils(schoolId, [
      pupil('P1', 'Zoë', "O'Brien"),
      pupil('P2', 'Ada', 'Smith-Jones', { registrationGroup: '5A', yearGroup: '5', dateOfBirth: '2016-05-01' }),
      pupil('P3', 'Adam', 'Smith'),
      pupil('P4', 'Ben', 'Adams', { status: 'pending' }),
      pupil('P5', 'Ada', 'Leaver', { status: 'leaver-disabled' }),
      pupil('P6', 'Ada', 'Gone', { status: 'deleted' }),
      // 40 pupils sharing a surname, so a common prefix has more matches than any search returns.
      ...Array.from({ length: 40 }, (_, i) => pupil(`C${i}`, `Child${i}`, 'Common')),
    ]);
    // A row written before the search keys existed: only its stored names, capitalised as the MIS sends them.
    const table = await tables.getTable(TABLE_NAMES.pupilRegister);
    await table.upsertEntity({ partitionKey: schoolId, rowKey: toRowKey('L1'), externalId: 'L1', forename: 'Olwen', surname: 'Legacy', status: 'active', groups: '[]' }, 'Replace');
  });

  const ids = (found: { pupilId: string }[]) => found.map((p) => p.pupilId).sort();

  it('when a query starts a forename or a surname, finds those pupils whatever the case or accents', async () => {
    expect(ids(await store.searchPupilChoices(schoolId, 'zoe', 15))).toEqual(['P1']);
    expect(ids(await store.searchPupilChoices(schoolId, 'OBR', 15))).toEqual(['P1']);
    expect(ids(await store.searchPupilChoices(schoolId, "o'b", 15))).toEqual(['P1']);
    expect(ids(await store.searchPupilChoices(schoolId, 'ada', 15))).toEqual(['P2', 'P3', 'P4']);
  });

  it('when a surname has two parts, finds the pupil by either part', async () => {
    expect(ids(await store.searchPupilChoices(schoolId, 'jon', 15))).toEqual(['P2']);
    expect(ids(await store.searchPupilChoices(schoolId, 'smith', 15))).toEqual(['P2', 'P3']);
  });

  it('when a query has several words, every word must start a name', async () => {
    expect(ids(await store.searchPupilChoices(schoolId, 'ada smi', 15))).toEqual(['P2', 'P3']);
    expect(ids(await store.searchPupilChoices(schoolId, 'smith adam', 15))).toEqual(['P3']);
    expect(ids(await store.searchPupilChoices(schoolId, 'jones ada', 15))).toEqual(['P2']);
    expect(await store.searchPupilChoices(schoolId, 'ada zz', 15)).toEqual([]);
  });

  it('offers a choice with the label, class and year group only, and never leavers or deleted accounts', async () => {
    const [found] = await store.searchPupilChoices(schoolId, 'ada smith-j', 15);
    expect(found).toEqual({ pupilId: 'P2', label: 'Ada Smith-Jones (5A)', yearGroup: '5', dateOfBirth: '2016-05-01' });
    expect(JSON.stringify(await store.searchPupilChoices(schoolId, 'ada', 15))).not.toMatch(/Leaver|Gone|school\.example/);
  });

  it('when more pupils match than the limit, returns the limit', async () => {
    expect(await store.searchPupilChoices(schoolId, 'common', 15)).toHaveLength(15);
    expect(await store.searchPupilChoices(schoolId, 'common', 3)).toHaveLength(3);
  });

  it('when a row predates the search keys, still finds it by its capitalised name', async () => {
    expect(ids(await store.searchPupilChoices(schoolId, 'leg', 15))).toEqual(['L1']);
    expect(ids(await store.searchPupilChoices(schoolId, 'olw', 15))).toEqual(['L1']);
  });

  it('when the query is empty or only punctuation, finds nobody', async () => {
    expect(await store.searchPupilChoices(schoolId, '', 15)).toEqual([]);
    expect(await store.searchPupilChoices(schoolId, " '- ", 15)).toEqual([]);
  });

  it('lists a roll only when it is at most the limit, counting pupils on the roll only', async () => {
    const small = uniqueSchoolId('small');
    await store.savePupils(small, [pupil('S1', 'Ann', 'One'), pupil('S2', 'Bea', 'Two'), pupil('S3', 'Cal', 'Gone', { status: 'leaver-disabled' })]);
    expect((await store.listPupilChoicesIfAtMost(small, 2))?.map((p) => p.label)).toEqual(['Ann One (4B)', 'Bea Two (4B)']);
    expect(await store.listPupilChoicesIfAtMost(small, 1)).toBeUndefined();
    expect(await store.listPupilChoicesIfAtMost(schoolId, 30)).toBeUndefined();
  });
});
