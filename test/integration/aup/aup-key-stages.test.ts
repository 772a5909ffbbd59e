import type { ConversationReference } from 'botbuilder';
import { AupDocumentFolder, pupilYearGroups } from '../../../app/aup-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { ConversationStore } from '../../../records/conversation-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import type { AupDocument } from '../../../school/aup-documents';
import type { Role } from '../../../school/roles';
import { getAupStatus } from '../../../usecases/acknowledge-aup';
import { startAupCampaign, type AupCampaignDependencies } from '../../../usecases/aup-campaigns';
import { getAupCoverageSummary, listPupilsWithoutAup } from '../../../usecases/aup-coverage';
import { recordPaperForm, recordPaperFormsCsv } from '../../../usecases/aup-paper-forms';
import { startTestApp, type TestApp } from '../../support/test-app';

const NOW = new Date('2026-11-23T09:00:00Z');
const id = (n: number): string => `00000000-0000-4000-8000-0000000002${String(n).padStart(2, '0')}`;
const coordinator = { aadObjectId: id(90), roles: new Set<Role>(['coordinator']) };

function pupil(externalId: string, yearGroup: string | undefined, userId?: string): PupilRecord {
  return {
    externalId,
    forename: 'Pupil',
    surname: externalId,
    cohort: '2020',
    ...(yearGroup ? { yearGroup } : {}),
    userPrincipalName: `${externalId.toLowerCase()}@oakfield.example`,
    ...(userId ? { userId } : {}),
    status: 'active',
    groups: [],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  };
}

describe('pupils get the pupil AUP for their key stage (Azurite)', () => {
  let app: TestApp;
  let deps: AupCampaignDependencies & { register: PupilRegisterStore };
  const sent: { to: string; document: string }[] = [];
  const pupils = { year1: id(1), year4: id(4), year6: id(6), unknown: id(9) };

  beforeAll(async () => {
    app = await startTestApp({ roles: {}, overrides: { clock: () => NOW } });
    const register = new PupilRegisterStore(app.services.tables);
    await register.savePupils(app.schoolId, [
      pupil('P-Y1', '1', pupils.year1),
      pupil('P-Y4', '4', pupils.year4),
      pupil('P-Y6', '6', pupils.year6),
      pupil('P-UNKNOWN', undefined, pupils.unknown),
      pupil('P-Y5-NOACCOUNT', '5'),
    ]);
    const conversations = new ConversationStore(app.services.tables);
    for (const personId of Object.values(pupils)) await conversations.upsertConversation(app.schoolId, personId, { user: { id: `29:${personId}`, name: 'x', aadObjectId: personId }, conversation: { id: `a:${personId}`, isGroup: false, conversationType: 'personal', name: '' }, serviceUrl: 'http://127.0.0.1/' }, NOW);
    deps = {
      schoolId: app.schoolId,
      documents: new AupDocumentFolder('aup'),
      store: new AupStore(app.services.tables),
      audit: new AuditStore(app.services.tables),
      roles: { listRoleMembers: async (role: Role) => (role === 'pupil' ? Object.values(pupils) : []), getPrincipal: async (aadObjectId: string) => ({ aadObjectId, roles: new Set<Role>() }) },
      clock: () => NOW,
      logger: createMemoryLogger('warn'),
      conversations,
      sender: {
        async sendAupCard(reference: Partial<ConversationReference>, document: AupDocument) {
          sent.push({ to: reference.user!.aadObjectId!, document: document.id });
        },
      },
      reminderDays: 7,
      register,
      pupilYearGroups: () => pupilYearGroups(register, app.schoolId),
    };
  });

  afterAll(async () => {
    await app?.close();
  });

  const form = (documentId: string, upn: string) => ({ documentId, version: 1, signedBy: 'pupil', upn, name: 'A Carer', signedOn: '2026-11-20' });

  it('refuses a paper form for the wrong key stage, naming the pupil’s document, and records the right one', async () => {
    const wrong = await recordPaperForm(deps, coordinator, form('pupil-ks2-aup', 'p-y1@oakfield.example'), 't');
    expect(wrong).toEqual({ kind: 'invalid', problems: ['pupil-ks2-aup is for Year 3, Year 4, Year 5, Year 6, and this pupil is in Year 1: record their form against pupil-ks1-aup'] });
    const wrongKs1 = await recordPaperForm(deps, coordinator, form('pupil-ks1-aup', 'p-y4@oakfield.example'), 't');
    expect(wrongKs1).toMatchObject({ kind: 'invalid', problems: [expect.stringContaining('this pupil is in Year 4: record their form against pupil-ks2-aup')] });
    expect(await deps.store.listAcknowledgements(app.schoolId, 'pupil-ks2-aup', 1)).toEqual([]);

    expect(await recordPaperForm(deps, coordinator, form('pupil-ks1-aup', 'p-y1@oakfield.example'), 't')).toMatchObject({ kind: 'ok', value: { personId: pupils.year1 } });
    expect(await recordPaperForm(deps, coordinator, form('pupil-ks2-aup', 'p-y4@oakfield.example'), 't')).toMatchObject({ kind: 'ok', value: { personId: pupils.year4 } });
    // A pupil without an account yet is matched by register key and checked the same way.
    const csv = ['document_id,version,signed_by,upn,aad_object_id,name,signed_on', 'pupil-ks1-aup,1,pupil,p-y5-noaccount@oakfield.example,,A Carer,2026-11-20', 'pupil-ks2-aup,1,pupil,p-y5-noaccount@oakfield.example,,A Carer,2026-11-20'].join('\n');
    const imported = await recordPaperFormsCsv(deps, coordinator, csv, 't');
    expect(imported).toMatchObject({ kind: 'ok', value: { recorded: 1, problems: [{ row: 2, message: expect.stringContaining('this pupil is in Year 5') }] } });
  });

  it('counts each pupil against their own key stage’s document, and the access gate needs that one', async () => {
    const summary = await getAupCoverageSummary(deps);
    const group = (documentId: string) => summary.documents.find((d) => d.documentId === documentId)!.groups.find((g) => g.group === 'pupil')!;
    // Year 1 and the pupil with no year group count for KS1; Years 4 and 6 and that pupil for KS2.
    expect(group('pupil-ks1-aup')).toMatchObject({ members: 2, acknowledged: 1 });
    expect(group('pupil-ks2-aup')).toMatchObject({ members: 3, acknowledged: 1 });

    // A Year 6 pupil with only the KS1 form on record (entered before this rule) is still owed the KS2 one.
    await deps.store.recordAcknowledgement(app.schoolId, { personId: pupils.year6, name: 'x', role: 'pupil', documentId: 'pupil-ks1-aup', version: 1, textHash: 'h', acknowledgedAt: NOW.toISOString(), channel: 'paper', recordedAt: NOW.toISOString() });
    const without = await listPupilsWithoutAup({ ...deps, accessGate: true });
    expect(without.pupilIds.sort()).toEqual([pupils.year6, pupils.unknown].sort());
  });

  it('sends the KS2 campaign only to pupils in Years 3 to 6 (and one whose year the register does not know)', async () => {
    const outcome = await startAupCampaign(deps, { principal: coordinator, documentId: 'pupil-ks2-aup', audience: 'pupil', correlationId: 't' });
    expect(outcome).toMatchObject({ kind: 'started', asked: 3, alreadyAcknowledged: 1 });
    expect(sent.map((s) => s.to).sort()).toEqual([pupils.year6, pupils.unknown].sort());
  });

  it('shows a pupil in Teams only their own key stage’s document', async () => {
    const year4 = await getAupStatus(deps, { aadObjectId: pupils.year4, roles: new Set<Role>(['pupil']) });
    expect(year4.map((s) => s.document.id)).toEqual(['pupil-ks2-aup']);
    expect(year4[0]!.acknowledgement).toMatchObject({ channel: 'paper' });
    const year1 = await getAupStatus(deps, { aadObjectId: pupils.year1, roles: new Set<Role>(['pupil']) });
    expect(year1.map((s) => s.document.id)).toEqual(['pupil-ks1-aup']);
  });
});
