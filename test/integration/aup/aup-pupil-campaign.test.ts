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

describe('a pupil AUP campaign', () => {
  it('never asks Graph to install the app for pupils, who acknowledge on paper, while a staff campaign still does', async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    const schoolId = uniqueSchoolId('aup-pupil');
    const now = new Date('2026-11-23T09:00:00Z');
    const installed: string[][] = [];
    const deps: AupCampaignDependencies = {
      schoolId,
      documents: new AupDocumentFolder(join(__dirname, '../../../aup')),
      store: new AupStore(tables),
      audit: new AuditStore(tables, () => now),
      roles: new FileRoleDirectory({ pupil: ['pupil-1', 'pupil-2'], staff: ['teacher-1'], coordinator: ['boss'] }),
      clock: () => now,
      logger: createMemoryLogger(),
      conversations: new ConversationStore(tables),
      sender: { sendAupCard: async () => undefined },
      installer: { installForUsers: async (ids) => (installed.push([...ids]), ids.map((userId) => ({ userId, ok: true }))) },
      reminderDays: 7,
    };
    const boss = { aadObjectId: 'boss', roles: new Set(['coordinator'] as const) };

    const pupils = await startAupCampaign(deps, { principal: boss, documentId: 'pupil-ks1-aup', audience: 'pupil', correlationId: 'c' });

    expect(pupils).toMatchObject({ kind: 'started', asked: 2, sent: 0, pendingIds: ['pupil-1', 'pupil-2'], installRequested: 0 });
    expect(installed).toEqual([]);

    const staff = await startAupCampaign(deps, { principal: boss, documentId: 'staff-aup', audience: 'staff', correlationId: 'c' });

    expect(staff).toMatchObject({ kind: 'started', installRequested: 1 });
    expect(installed).toEqual([['teacher-1']]);
  });
});
