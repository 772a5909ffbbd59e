import { AuditStore } from '../../../records/audit-store';
import { IncidentStore } from '../../../records/incident-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { Tables } from '../../../records/tables';
import { FileRoleDirectory } from '../../../identity/role-directory';
import type { Principal, Role } from '../../../school/roles';
import { exportTransferPack, listTransferPacks, recordTransferReceipt, TRANSFER_PACK_ACTIONS, type TransferPackDependencies } from '../../../usecases/transfer-pack';
import { seedIncident } from '../../support/tab-auth';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const NOW = new Date('2026-11-20T10:00:00.000Z');
const TODAY = '2026-11-20';

const people = {
  dsl: '0b7e0000-0000-4000-8000-0000000000d1',
  headteacher: '0b7e0000-0000-4000-8000-0000000000e1',
  coordinator: '0b7e0000-0000-4000-8000-0000000000c1',
  staff: '0b7e0000-0000-4000-8000-0000000000f1',
} as const;

function as(role: keyof typeof people): Principal {
  return { aadObjectId: people[role], roles: new Set<Role>([role]) };
}

// Invented pupils. Everything planted for Oswin and Peregrine must stay out of Marnie's pack.
const marnie = { id: 'T800000000001', forename: 'Marnie', surname: 'Quillfeather', yearGroup: '4', registrationGroup: '4K' };
const oswin = { id: 'T800000000002', forename: 'Oswin', surname: 'Barrowdale', yearGroup: '4', registrationGroup: '4K' };
const peregrine = { id: 'T800000000003', forename: 'Peregrine', surname: 'Hollowmere', yearGroup: '5', registrationGroup: '5W' };
const wilhelmina = { id: 'T800000000004', forename: 'Wilhelmina', surname: 'Starcross', yearGroup: '3', registrationGroup: '3B' };

const REFS = {
  marnieOnly: 'ES-2026-0301',
  marnieChildProtection: 'ES-2026-0302',
  marnieAndOswin: 'ES-2026-0303',
  oswinOnly: 'ES-2026-0304',
  peregrineChildProtection: 'ES-2026-0305',
  staffConcernAboutMarnie: 'ES-2026-0306',
  unlistedPupil: 'ES-2026-0307',
};
const MARNIES = [REFS.marnieOnly, REFS.marnieChildProtection, REFS.marnieAndOswin];
const DESCRIPTIONS = {
  marnieOnly: 'Unkind messages were posted in the class team about one pupil.',
  marnieChildProtection: 'A pupil said an adult they met in a game asked for photos.',
  marnieAndOswin: 'Two pupils searched for a violent video during a lesson.',
  oswinOnly: 'OSWIN-ONLY: a pupil got past the filter with a proxy site.',
  peregrineChildProtection: 'PEREGRINE-ONLY: a pupil disclosed contact from a stranger online.',
  staffConcernAboutMarnie: 'STAFF-CONCERN: a teaching assistant messaged a pupil privately.',
  unlistedPupil: 'UNLISTED: a visiting pupil used a shared login.',
};

function registerRow(p: typeof marnie, extra: Partial<PupilRecord> = {}): PupilRecord {
  return {
    externalId: p.id,
    forename: p.forename,
    surname: p.surname,
    yearGroup: p.yearGroup,
    registrationGroup: p.registrationGroup,
    cohort: '22',
    userPrincipalName: `22${p.forename.toLowerCase()}${p.surname[0]!.toLowerCase()}@larkfield.example`,
    status: 'active',
    groups: [],
    createdAt: '2026-09-01T08:00:00.000Z',
    updatedAt: '2026-09-01T08:00:00.000Z',
    ...extra,
  };
}

describe('child-protection transfer pack', () => {
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const incidents = new IncidentStore(tables);
  const register = new PupilRegisterStore(tables);
  const audit = new AuditStore(tables, () => NOW);
  let deps: TransferPackDependencies;

  beforeAll(async () => {
    const schoolId = uniqueSchoolId('transfer');
    deps = {
      schoolId,
      schoolName: 'Larkfield Primary',
      incidents,
      pupils: register,
      audit,
      roles: new FileRoleDirectory({ dsl: [people.dsl], headteacher: [people.headteacher], coordinator: [people.coordinator], staff: [people.staff, people.coordinator] }),
      clock: () => NOW,
    };
    await register.savePupils(schoolId, [registerRow(marnie, { uniquePupilNumber: 'A800000000001' }), registerRow(oswin), registerRow(peregrine), registerRow(wilhelmina)]);

    const seed = { incidents, tables };
    const pupil = (p: typeof marnie) => ({ kind: 'pupil' as const, pupilId: p.id });
    await seedIncident(seed, schoolId, { reference: REFS.marnieOnly, type: 'cyberbullying', involved: [pupil(marnie)], description: DESCRIPTIONS.marnieOnly, createdAt: '2026-09-15T09:00:00.000Z' });
    await seedIncident(seed, schoolId, {
      reference: REFS.marnieChildProtection,
      type: 'safeguarding-contact',
      audience: 'child-protection',
      childProtection: true,
      involved: [pupil(marnie)],
      description: DESCRIPTIONS.marnieChildProtection,
      createdAt: '2026-10-02T09:00:00.000Z',
    });
    await seedIncident(seed, schoolId, { reference: REFS.marnieAndOswin, type: 'inappropriate-website', involved: [pupil(marnie), pupil(oswin)], description: DESCRIPTIONS.marnieAndOswin, createdAt: '2026-10-09T09:00:00.000Z' });
    await seedIncident(seed, schoolId, { reference: REFS.oswinOnly, type: 'filtering-breach', involved: [pupil(oswin)], description: DESCRIPTIONS.oswinOnly, createdAt: '2026-10-10T09:00:00.000Z' });
    await seedIncident(seed, schoolId, {
      reference: REFS.peregrineChildProtection,
      type: 'safeguarding-contact',
      audience: 'child-protection',
      childProtection: true,
      involved: [pupil(peregrine)],
      description: DESCRIPTIONS.peregrineChildProtection,
      yearGroups: ['5'],
      createdAt: '2026-10-11T09:00:00.000Z',
    });
    await seedIncident(seed, schoolId, {
      reference: REFS.staffConcernAboutMarnie,
      type: 'inappropriate-communication',
      audience: 'staff-concern',
      subject: 'staff',
      involved: [pupil(marnie), { kind: 'staff' }],
      description: DESCRIPTIONS.staffConcernAboutMarnie,
      createdAt: '2026-10-12T09:00:00.000Z',
    });
    await seedIncident(seed, schoolId, { reference: REFS.unlistedPupil, type: 'network-misuse', involved: [{ kind: 'pupil-unlisted' }], description: DESCRIPTIONS.unlistedPupil, createdAt: '2026-10-13T09:00:00.000Z' });

    const cp = (await incidents.getIncident(schoolId, REFS.marnieChildProtection))!;
    const acted = await incidents.appendEvent(cp, { at: '2026-10-02T11:00:00.000Z', actorId: people.dsl, kind: 'action', what: 'refer-police', why: 'CHRONOLOGY-WHY: contact from an adult stranger.' }, { status: 'in-progress' });
    await incidents.appendEvent(acted, { at: '2026-10-03T08:30:00.000Z', actorId: people.dsl, kind: 'parents-informed', what: 'Parents or carers informed', why: 'Phoned mother at 08:15.' });
    const oswins = (await incidents.getIncident(schoolId, REFS.oswinOnly))!;
    await incidents.appendEvent(oswins, { at: '2026-10-10T12:00:00.000Z', actorId: people.coordinator, kind: 'action', what: 'remove-network-access', why: 'OSWIN-CHRONOLOGY: proxy used twice.' });
  });

  async function auditFor(packId: string) {
    return (await audit.listAudit(deps.schoolId)).filter((entry) => entry.details?.packId === packId);
  }

  async function exportMarnies(principal = as('dsl')) {
    const outcome = await exportTransferPack(deps, principal, { pupilId: marnie.id, receivingSchool: 'Brackenmoor Academy' });
    if (outcome.kind !== 'ok') throw new Error(`Expected a pack, got ${outcome.kind}.`);
    return outcome.value;
  }

  it("contains exactly one pupil's records: every incident naming them, and nothing of the others'", async () => {
    const { html, references } = await exportMarnies();

    expect(references).toEqual(MARNIES);
    for (const reference of MARNIES) expect(html).toContain(`<h2>${reference}: `);
    expect(html).toContain(DESCRIPTIONS.marnieOnly);
    expect(html).toContain(DESCRIPTIONS.marnieChildProtection);
    expect(html).toContain(DESCRIPTIONS.marnieAndOswin);
    expect(html).toContain('CHRONOLOGY-WHY: contact from an adult stranger.');
    expect(html).toContain('Refer to the police (or CEOP / IWF)');
    expect(html).toContain('Phoned mother at 08:15.');
    expect(html).toContain('Marnie Quillfeather');
    expect(html).toContain('A800000000001');

    for (const reference of [REFS.oswinOnly, REFS.peregrineChildProtection, REFS.staffConcernAboutMarnie, REFS.unlistedPupil]) expect(html).not.toContain(reference);
    for (const marker of ['OSWIN-ONLY', 'OSWIN-CHRONOLOGY', 'PEREGRINE-ONLY', 'STAFF-CONCERN', 'UNLISTED']) expect(html).not.toContain(marker);
    for (const other of [oswin, peregrine, wilhelmina]) {
      expect(html).not.toContain(other.forename);
      expect(html).not.toContain(other.surname);
      expect(html).not.toContain(other.id);
    }
    expect(html).toContain('This pupil and 1 other pupil (not named here)');
  });

  it('audits a read of each incident in the pack and the export itself, before handing the pack back', async () => {
    const { packId, references } = await exportMarnies();

    const entries = await auditFor(packId);
    const reads = entries.filter((e) => e.action === 'incident.read');
    expect(reads.map((e) => e.target).sort()).toEqual([...MARNIES].sort());
    for (const read of reads) expect(read).toMatchObject({ actorId: people.dsl, outcome: 'succeeded', details: { packId, via: 'transfer-pack' } });
    expect(entries.filter((e) => e.action === TRANSFER_PACK_ACTIONS.export)).toEqual([
      expect.objectContaining({
        actorId: people.dsl,
        target: `pupil:${marnie.id}`,
        outcome: 'succeeded',
        at: NOW.toISOString(),
        details: { packId, receivingSchool: 'Brackenmoor Academy', references: references.join(','), incidentCount: 3 },
      }),
    ]);
    expect(JSON.stringify(entries)).not.toContain('Quillfeather');
  });

  it('lets the headteacher export too, and labels chronology actors with their role', async () => {
    const { html, references } = await exportMarnies(as('headteacher'));

    expect(references).toEqual(MARNIES);
    expect(html).toContain(`<dt>Exported by</dt><dd>Headteacher <span class="id">${people.headteacher}</span></dd>`);
    expect(html).toContain(`Designated Safeguarding Lead<br><span class="id">${people.dsl}</span>`);
  });

  it.each(['coordinator', 'staff'] as const)('refuses the %s, and audits the refusal without reading any incident', async (role) => {
    const before = (await audit.listAudit(deps.schoolId)).length;

    const outcome = await exportTransferPack(deps, as(role), { pupilId: marnie.id, receivingSchool: 'Brackenmoor Academy' });

    expect(outcome).toEqual({ kind: 'forbidden' });
    const added = (await audit.listAudit(deps.schoolId)).slice(before);
    expect(added).toEqual([expect.objectContaining({ actorId: people[role], action: TRANSFER_PACK_ACTIONS.export, target: `pupil:${marnie.id}`, outcome: 'denied' })]);
  });

  it('gives a pupil on the register with no incidents a nil-return pack, and a pupil nobody knows not-found', async () => {
    const nil = await exportTransferPack(deps, as('dsl'), { pupilId: wilhelmina.id, receivingSchool: 'Brackenmoor Academy' });
    const unknown = await exportTransferPack(deps, as('dsl'), { pupilId: 'T899999999999', receivingSchool: 'Brackenmoor Academy' });

    expect(nil).toMatchObject({ kind: 'ok', value: { references: [] } });
    expect(nil.kind === 'ok' && nil.value.html).toContain('This pack is a nil return');
    expect(unknown).toEqual({ kind: 'not-found' });
  });

  it('asks for the pupil and the receiving school', async () => {
    expect(await exportTransferPack(deps, as('dsl'), { pupilId: ' ', receivingSchool: 42 })).toEqual({
      kind: 'invalid',
      problems: ['Choose the pupil (pupilId).', 'Enter the receiving school (receivingSchool).'],
    });
  });

  it('records the receiving school\'s receipt in the audit log, next to the export', async () => {
    const { packId } = await exportMarnies();

    const outcome = await recordTransferReceipt(deps, as('dsl'), {
      packId: packId.toLowerCase(),
      receivedBy: 'Rosalind Pemberley-Vance',
      receivedByRole: 'Designated Safeguarding Lead',
      receivingSchool: 'Brackenmoor Academy',
      receivedOn: TODAY,
    });

    expect(outcome).toMatchObject({
      kind: 'ok',
      value: {
        packId,
        pupilId: marnie.id,
        receivingSchool: 'Brackenmoor Academy',
        references: MARNIES,
        receipt: { receivedBy: 'Rosalind Pemberley-Vance', receivedByRole: 'Designated Safeguarding Lead', receivingSchool: 'Brackenmoor Academy', receivedOn: TODAY, recordedBy: people.dsl, schoolMatchesExport: true },
      },
    });
    const pupilLog = await audit.listAudit(deps.schoolId, { target: `pupil:${marnie.id}` });
    expect(pupilLog.filter((e) => e.details?.packId === packId).map((e) => e.action)).toEqual([TRANSFER_PACK_ACTIONS.export, TRANSFER_PACK_ACTIONS.receipt]);

    const listed = await listTransferPacks(deps, as('headteacher'), marnie.id);
    expect(listed.kind === 'ok' && listed.value.find((p) => p.packId === packId)?.receipt?.receivedBy).toBe('Rosalind Pemberley-Vance');
  });

  it('records a single receipt per pack, and flags one signed for a different school', async () => {
    const { packId } = await exportMarnies();
    const receipt = { packId, receivedBy: 'Tobias Wrenhurst', receivingSchool: 'Fernhollow Junior School', receivedOn: TODAY };

    const first = await recordTransferReceipt(deps, as('headteacher'), receipt);
    const second = await recordTransferReceipt(deps, as('dsl'), receipt);

    expect(first).toMatchObject({ kind: 'ok', value: { receipt: { receivedByRole: undefined, schoolMatchesExport: false } } });
    expect(second).toEqual({ kind: 'invalid', problems: [`A receipt for ${packId} was already recorded on ${TODAY}; it cannot be changed.`] });
  });

  it('checks the receipt: every field, a real date, not in the future and not before the export', async () => {
    const { packId } = await exportMarnies();

    expect(await recordTransferReceipt(deps, as('dsl'), { packId: 'ES-2026-0301', receivedBy: '', receivingSchool: '', receivedOn: '2026-02-30' })).toEqual({
      kind: 'invalid',
      problems: [
        'Enter the pack id printed on the pack, like TP-2026-7F3K9Q2M (packId).',
        'Enter who received the pack (receivedBy).',
        'Enter the school that received the pack (receivingSchool).',
        'Enter the date received as a calendar date (YYYY-MM-DD).',
      ],
    });
    expect(await recordTransferReceipt(deps, as('dsl'), { packId, receivedBy: 'Tobias Wrenhurst', receivingSchool: 'Brackenmoor Academy', receivedOn: '2026-11-21' })).toEqual({
      kind: 'invalid',
      problems: ['The date received cannot be in the future.'],
    });
    expect(await recordTransferReceipt(deps, as('dsl'), { packId, receivedBy: 'Tobias Wrenhurst', receivingSchool: 'Brackenmoor Academy', receivedOn: '2026-11-19' })).toEqual({
      kind: 'invalid',
      problems: ['The date received cannot be before the pack was exported.'],
    });
  });

  it('answers not-found for a pack id that was never exported, and forbidden to other roles', async () => {
    const { packId } = await exportMarnies();
    const receipt = { receivedBy: 'Tobias Wrenhurst', receivingSchool: 'Brackenmoor Academy', receivedOn: TODAY };

    expect(await recordTransferReceipt(deps, as('dsl'), { ...receipt, packId: 'TP-2026-00000000' })).toEqual({ kind: 'not-found' });
    expect(await recordTransferReceipt(deps, as('coordinator'), { ...receipt, packId })).toEqual({ kind: 'forbidden' });
    expect(await listTransferPacks(deps, as('coordinator'), marnie.id)).toEqual({ kind: 'forbidden' });
    expect((await auditFor(packId)).map((e) => e.action)).not.toContain(TRANSFER_PACK_ACTIONS.receipt);
  });
});
