import { join } from 'node:path';
import { AupDocumentFolder } from '../../../app/aup-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { FileRoleDirectory } from '../../../identity/role-directory';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { ConversationStore } from '../../../records/conversation-store';
import { Tables } from '../../../records/tables';
import { startAupCampaign, type AupCampaignDependencies } from '../../../usecases/aup-campaigns';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

describe('startAupCampaign with a Graph installer', () => {
  it('asks Graph to install the app for people the bot cannot reach, keeps them pending, and reports them', async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    const schoolId = uniqueSchoolId('aup');
    const conversations = new ConversationStore(tables);
    const now = new Date('2026-11-23T09:00:00Z');
    await conversations.upsertConversation(schoolId, 'reachable', { conversation: { id: 'c1' } as never, user: { id: '29:reachable', name: '' } }, now);
    const sent: string[] = [];
    const installed: string[][] = [];
    const deps: AupCampaignDependencies = {
      schoolId,
      documents: new AupDocumentFolder(join(__dirname, '../../../aup')),
      store: new AupStore(tables),
      audit: new AuditStore(tables, () => now),
      roles: new FileRoleDirectory({ governor: ['reachable', 'new-1', 'new-2'], coordinator: ['boss'] }),
      clock: () => now,
      logger: createMemoryLogger(),
      conversations,
      sender: { sendAupCard: async (reference) => void sent.push(String(reference.user?.id)) },
      installer: { installForUsers: async (ids) => (installed.push([...ids]), ids.map((userId) => ({ userId, ok: userId === 'new-1' }))) },
      reminderDays: 7,
    };
    const boss = { aadObjectId: 'boss', roles: new Set(['coordinator'] as const) };

    const outcome = await startAupCampaign(deps, { principal: boss, documentId: 'governor-aup', audience: 'governor', correlationId: 'c' });

    expect(outcome).toMatchObject({ kind: 'started', asked: 3, sent: 1, pendingIds: ['new-1', 'new-2'], installRequested: 1 });
    expect(sent).toEqual(['29:reachable']);
    expect(installed).toEqual([['new-1', 'new-2']]);
    const recipients = await deps.store.listRecipients(schoolId, 'governor-aup-v1-governor');
    expect(recipients.map((r) => [r.personId, r.status]).sort()).toEqual([['new-1', 'pending'], ['new-2', 'pending'], ['reachable', 'sent']]);
    expect(await startAupCampaign(deps, { principal: boss, documentId: 'visitor-aup', audience: 'staff', correlationId: 'c' })).toMatchObject({ kind: 'bad-audience', allowed: [] });
  });
});
