import type { ConversationReference } from 'botbuilder';
import { AupDocumentFolder } from '../../../app/aup-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { ConversationStore } from '../../../records/conversation-store';
import type { Role } from '../../../school/roles';
import { AUP_SEND_CLAIM_MS, sendAupReminders, startAupCampaign, type AupCampaignDependencies } from '../../../usecases/aup-campaigns';
import { startTestApp, type TestApp } from '../../support/test-app';

const START = new Date('2026-11-23T09:00:00Z');
const id = (n: number): string => `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;

/**
 * Each AUP card send is claimed with the recipient's etag. An instance that dies holding the claim (its send
 * never returns, as a killed process never answers) must not cost the person their card: another instance
 * sends it once the claim has expired, within a minute.
 */
describe('an AUP card send whose instance dies', () => {
  let app: TestApp;
  let now = START;
  const delivered: string[] = [];

  function instance(send: (to: string) => Promise<void>): AupCampaignDependencies {
    return {
      schoolId: app.schoolId,
      documents: new AupDocumentFolder('aup'),
      store: new AupStore(app.services.tables),
      audit: new AuditStore(app.services.tables),
      roles: { listRoleMembers: async (role: Role) => (role === 'staff' ? [id(1)] : []), getPrincipal: async (aadObjectId: string) => ({ aadObjectId, roles: new Set<Role>() }) },
      clock: () => now,
      logger: createMemoryLogger('warn'),
      conversations: new ConversationStore(app.services.tables),
      sender: { sendAupCard: async (reference: Partial<ConversationReference>) => send(reference.user!.aadObjectId!) },
      reminderDays: 7,
    };
  }

  beforeAll(async () => {
    app = await startTestApp({ roles: {}, overrides: { clock: () => now } });
    await new ConversationStore(app.services.tables).upsertConversation(app.schoolId, id(1), { user: { id: '29:1', name: 'x', aadObjectId: id(1) }, conversation: { id: 'a:1', isGroup: false, conversationType: 'personal', name: '' }, serviceUrl: 'http://127.0.0.1/' }, START);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('is sent by another instance once the claim has expired, and only then', async () => {
    expect(AUP_SEND_CLAIM_MS).toBeLessThanOrEqual(60_000);
    const dying = instance(() => new Promise<never>(() => undefined));
    const alive = instance(async (to) => void delivered.push(to));

    // The first instance claims the send, then never finishes it.
    void startAupCampaign(dying, { principal: { aadObjectId: id(9), roles: new Set(['coordinator']) }, documentId: 'staff-aup', audience: 'staff', correlationId: 'test' });
    const store = new AupStore(app.services.tables);
    await waitFor(async () => {
      const [campaign] = await store.listCampaigns(app.schoolId);
      return campaign ? (await store.listRecipients(app.schoolId, campaign.campaignId))[0]?.status === 'sending' : false;
    });

    now = new Date(START.getTime() + 30_000);
    expect(await sendAupReminders(alive)).toMatchObject({ delivered: 0 });
    expect(delivered).toEqual([]);

    now = new Date(START.getTime() + AUP_SEND_CLAIM_MS + 1_000);
    const [a, b] = await Promise.all([sendAupReminders(alive), sendAupReminders(alive)]);
    expect(a.delivered + b.delivered).toBe(1);
    expect(delivered).toEqual([id(1)]);

    // Marked sent: the next run neither sends again nor reminds before the reminder is due.
    expect(await sendAupReminders(alive)).toMatchObject({ delivered: 0, reminded: 0 });
    const [campaign] = await store.listCampaigns(app.schoolId);
    expect((await store.listRecipients(app.schoolId, campaign!.campaignId))[0]?.status).toBe('sent');
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('The first instance never claimed the send.');
}
