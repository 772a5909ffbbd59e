import { createMemoryLogger } from '../../../infra/logger';
import { ConversationStore } from '../../../records/conversation-store';
import { IncidentStore } from '../../../records/incident-store';
import { Tables } from '../../../records/tables';
import { deliverPendingAlerts } from '../../../usecases/deliver-alerts';
import { incidentRecord } from '../../support/incident-records';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');

describe('alert claims when the instance holding them dies', () => {
  it('an alert claimed by a reporting instance that was killed before sending is sent by the sweep once the minute is up, exactly once', async () => {
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    const schoolId = uniqueSchoolId('alertclaim');
    const incidents = new IncidentStore(tables);
    const conversations = new ConversationStore(tables);
    await conversations.upsertConversation(schoolId, 'coordinator-1', { conversation: { id: 'a:coordinator-1' } as never }, new Date(T0));
    const record = incidentRecord(schoolId, new Date(T0).toISOString());
    // Written already claimed by the reporting instance, which is then killed: nothing ever completes the claim.
    await incidents.createIncident(record, { at: record.createdAt, actorId: 'reporter', kind: 'reported', what: 'Concern reported', why: '' }, [{ recipientId: 'coordinator-1', role: 'coordinator', type: record.type, urgent: false }], {
      claimAlertsAt: new Date(T0).toISOString(),
    });

    const sent: string[] = [];
    let now = T0;
    const sweep = () =>
      deliverPendingAlerts({ schoolId, incidents, conversations, messenger: { sendText: async (_ref, text) => void sent.push(text) }, clock: () => new Date(now), logger: createMemoryLogger('debug') });

    now = T0 + 30_000;
    expect(await sweep()).toBe(0);
    now = T0 + 61_000;
    expect(await sweep()).toBe(1);
    now = T0 + 200_000;
    expect(await sweep()).toBe(0);
    expect(sent).toHaveLength(1);
    expect((await incidents.listAlertsForIncident(schoolId, record.reference))[0]?.status).toBe('delivered');
  });
});
