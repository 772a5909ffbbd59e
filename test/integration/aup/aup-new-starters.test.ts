import type { ConversationReference } from 'botbuilder';
import { AupDocumentFolder } from '../../../app/aup-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { ConversationStore } from '../../../records/conversation-store';
import type { AupDocument } from '../../../school/aup-documents';
import type { Role } from '../../../school/roles';
import { sendAupReminders, startAupCampaign, type AupCampaignDependencies } from '../../../usecases/aup-campaigns';
import { startTestApp, type TestApp } from '../../support/test-app';

const NOW = new Date('2026-11-23T09:00:00Z');
const id = (n: number): string => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;

describe('new members of a role get the current AUP', () => {
  let app: TestApp;
  const members: Record<string, string[]> = { staff: [id(1), id(2)], coordinator: [id(9)] };
  const sent: { to: string; document: string; reminder: boolean }[] = [];
  let deps: AupCampaignDependencies;

  beforeAll(async () => {
    app = await startTestApp({ roles: {}, overrides: { clock: () => NOW } });
    const conversations = new ConversationStore(app.services.tables);
    deps = {
      schoolId: app.schoolId,
      documents: new AupDocumentFolder('aup'),
      store: new AupStore(app.services.tables),
      audit: new AuditStore(app.services.tables),
      roles: { listRoleMembers: async (role: Role) => members[role] ?? [], getPrincipal: async (aadObjectId: string) => ({ aadObjectId, roles: new Set<Role>() }) },
      clock: () => NOW,
      logger: createMemoryLogger('warn'),
      conversations,
      sender: {
        async sendAupCard(reference: Partial<ConversationReference>, document: AupDocument, options: { reminder: boolean }) {
          sent.push({ to: reference.user!.aadObjectId!, document: document.id, reminder: options.reminder });
        },
      },
      reminderDays: 7,
    };
    for (const n of [1, 2, 3, 4]) await conversations.upsertConversation(app.schoolId, id(n), { user: { id: `29:${n}`, name: 'x', aadObjectId: id(n) }, conversation: { id: `a:${n}`, isGroup: false, conversationType: 'personal', name: '' }, serviceUrl: 'http://127.0.0.1/' }, NOW);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('adds a new member of the campaign’s role on the next run and sends them the card once', async () => {
    const started = await startAupCampaign(deps, { principal: { aadObjectId: id(9), roles: new Set(['coordinator']) }, documentId: 'staff-aup', audience: 'staff', correlationId: 'test' });
    expect(started).toMatchObject({ kind: 'started', sent: 2 });
    expect(sent.map((s) => s.to).sort()).toEqual([id(1), id(2)]);

    members.staff = [id(1), id(3), id(4)];
    const run = await sendAupReminders(deps);
    expect(run).toMatchObject({ newStarters: 2, delivered: 2, reminded: 0 });
    expect(sent.slice(2).map((s) => [s.to, s.reminder]).sort()).toEqual([[id(3), false], [id(4), false]]);

    const again = await sendAupReminders(deps);
    expect(again).toMatchObject({ newStarters: 0, delivered: 0 });
    expect(sent).toHaveLength(4);
  });
});
