import type { ConversationReference } from 'botbuilder';
import { AupDocumentFolder } from '../../../app/aup-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { ConversationStore } from '../../../records/conversation-store';
import type { AupDocument } from '../../../school/aup-documents';
import type { Role } from '../../../school/roles';
import { acknowledgeAup, getAupStatus } from '../../../usecases/acknowledge-aup';
import { RENEWAL_ACTOR, sendAupReminders, startAnnualRenewals, startAupCampaign, type AupCampaignDependencies } from '../../../usecases/aup-campaigns';
import { getAupCoverageSummary } from '../../../usecases/aup-coverage';
import { startTestApp, type TestApp } from '../../support/test-app';

const id = (n: number): string => `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;
const staff = (n: number) => ({ aadObjectId: id(n), roles: new Set<Role>(['staff']) });

describe('the September renewal of annual AUPs (Azurite)', () => {
  let app: TestApp;
  let now = new Date('2026-07-10T09:00:00Z');
  const members: Record<string, string[]> = { staff: [id(1), id(2)], coordinator: [id(9)], governor: [id(5)] };
  const sent: { to: string; document: string; reminder: boolean }[] = [];
  /** Two instances: each has its own store client, as two app servers would. */
  let instanceA: AupCampaignDependencies;
  let instanceB: AupCampaignDependencies;

  beforeAll(async () => {
    app = await startTestApp({ roles: {}, overrides: { clock: () => now } });
    const conversations = new ConversationStore(app.services.tables);
    const make = (): AupCampaignDependencies => ({
      schoolId: app.schoolId,
      documents: new AupDocumentFolder('aup'),
      store: new AupStore(app.services.tables),
      audit: new AuditStore(app.services.tables),
      roles: { listRoleMembers: async (role: Role) => members[role] ?? [], getPrincipal: async (aadObjectId: string) => ({ aadObjectId, roles: new Set<Role>() }) },
      clock: () => now,
      logger: createMemoryLogger('warn'),
      conversations,
      sender: {
        async sendAupCard(reference: Partial<ConversationReference>, document: AupDocument, options: { reminder: boolean }) {
          sent.push({ to: reference.user!.aadObjectId!, document: document.id, reminder: options.reminder });
        },
      },
      reminderDays: 365,
    });
    instanceA = make();
    instanceB = make();
    for (const n of [1, 2, 5]) await conversations.upsertConversation(app.schoolId, id(n), { user: { id: `29:${n}`, name: 'x', aadObjectId: id(n) }, conversation: { id: `a:${n}`, isGroup: false, conversationType: 'personal', name: '' }, serviceUrl: 'http://127.0.0.1/' }, now);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('starts this year’s campaign exactly once when two job runs race on 1 September, and last year’s acknowledgements stop counting', async () => {
    // Summer term 2025/26: the staff AUP (annual) and the governor AUP (not annual) are run and acknowledged.
    const coordinator = { aadObjectId: id(9), roles: new Set<Role>(['coordinator']) };
    expect(await startAupCampaign(instanceA, { principal: coordinator, documentId: 'staff-aup', audience: 'staff', correlationId: 't' })).toMatchObject({ kind: 'started', created: true, sent: 2 });
    expect(await startAupCampaign(instanceA, { principal: coordinator, documentId: 'governor-aup', audience: 'governor', correlationId: 't' })).toMatchObject({ kind: 'started', created: true, sent: 1 });
    for (const n of [1, 2]) expect(await acknowledgeAup(instanceA, { principal: staff(n), name: 'Teacher', documentId: 'staff-aup', version: 1, correlationId: 't' })).toMatchObject({ kind: 'acknowledged', duplicate: false });
    expect(await acknowledgeAup(instanceA, { principal: { aadObjectId: id(5), roles: new Set<Role>(['governor']) }, name: 'Governor', documentId: 'governor-aup', version: 1, correlationId: 't' })).toMatchObject({ kind: 'acknowledged' });
    const staffCoverage = async (): Promise<number> => (await getAupCoverageSummary(instanceA)).documents.find((d) => d.documentId === 'staff-aup')!.groups.find((g) => g.group === 'staff')!.acknowledged;
    expect(await staffCoverage()).toBe(2);
    sent.length = 0;

    // One second before midnight BST on 31 August: still 2025/26, nothing to renew.
    now = new Date('2026-08-31T22:59:59Z');
    expect(await startAnnualRenewals(instanceA)).toEqual({ started: [], alreadyRunning: 1 });
    expect(await staffCoverage()).toBe(2);

    // Midnight on 1 September (23:00 UTC): both instances' hourly jobs run at once.
    now = new Date('2026-08-31T23:00:00Z');
    const [a, b] = await Promise.all([startAnnualRenewals(instanceA), startAnnualRenewals(instanceB)]);
    const started = [...a.started, ...b.started];
    expect(started.map((s) => s.campaignId)).toEqual(['staff-aup-v1-staff-2026']);
    expect(a.alreadyRunning + b.alreadyRunning).toBe(1);
    // Each member of staff got this year's card once; the governor (not annual) got nothing.
    expect(sent.map((s) => s.to).sort()).toEqual([id(1), id(2)]);
    expect(sent.every((s) => s.document === 'staff-aup' && !s.reminder)).toBe(true);

    // Last year's acknowledgements no longer count; the governor's (not annual) still does.
    expect(await staffCoverage()).toBe(0);
    const governorRow = (await getAupCoverageSummary(instanceA)).documents.find((d) => d.documentId === 'governor-aup')!;
    expect(governorRow.acknowledged).toBe(1);
    const [status] = await getAupStatus(instanceA, staff(1));
    expect(status).toMatchObject({ document: { id: 'staff-aup' }, acknowledgement: undefined });

    // Later runs start nothing more and send nothing twice; last year's campaign sends no reminders.
    now = new Date('2026-09-01T10:00:00Z');
    expect(await startAnnualRenewals(instanceB)).toEqual({ started: [], alreadyRunning: 1 });
    expect(await sendAupReminders(instanceA)).toMatchObject({ reminded: 0, delivered: 0, newStarters: 0 });
    expect(sent).toHaveLength(2);

    // Acknowledging again counts for 2026/27, and last year's record is kept.
    expect(await acknowledgeAup(instanceB, { principal: staff(1), name: 'Teacher', documentId: 'staff-aup', version: 1, correlationId: 't' })).toMatchObject({ kind: 'acknowledged', duplicate: false, acknowledgement: { academicYear: 2026 } });
    expect(await staffCoverage()).toBe(1);
    const history = await instanceA.store.listAcknowledgementsByPerson(app.schoolId, id(1));
    expect(history.map((h) => h.academicYear).sort()).toEqual([2025, 2026]);

    // The audit log names the renewal as the starter, once.
    const audit = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: 'aup:staff-aup:v1' });
    const renewals = audit.filter((e) => e.action === 'aup.campaign.start' && e.actorId === RENEWAL_ACTOR);
    expect(renewals).toHaveLength(1);
    expect(renewals[0]!.details).toMatchObject({ academicYear: 2026, created: true });
  });
});
