import { TableClient } from '@azure/data-tables';
import { TABLE_NAMES } from '../../../records/tables';
import { startAzurite, type AzuriteTables } from '../../../scripts/azurite';
import { cardElements as elementsOf } from '../../support/adaptive-cards';
import { startTestApp, type TestApp } from '../../support/test-app';
import { cardActionInvoke, messageActivity, newUser } from '../../support/teams-activities';

const teacher = newUser('Outage Teacher');
const coordinator = newUser('Outage Coordinator');

const typed = {
  occurredOn: '2026-03-02',
  occurredAt: '10:15',
  involved: 'pupil-unlisted,visitor',
  location: 'Year 5 classroom, laptop 7',
  incidentType: 'cyberbullying',
  description: 'Unkind messages about a pupil were posted in the class team during the lesson.',
  actionTaken: 'Took screenshots and removed the posts.',
  childProtection: 'true',
};

type Element = Record<string, unknown>;
type InvokeBody = { statusCode: number; type: string; value: Element };

async function restoreTables(connectionString: string): Promise<void> {
  for (const name of Object.values(TABLE_NAMES)) await TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true }).createTable();
}

async function health(app: TestApp): Promise<number> {
  return (await fetch(`${app.url}/healthz`)).status;
}

describe('when the storage account goes away while a teacher is filling in a report', () => {
  let storage: AzuriteTables;
  let app: TestApp;

  beforeAll(async () => {
    storage = await startAzurite();
    app = await startTestApp({
      connectionString: storage.connectionString,
      roles: { staff: [teacher, coordinator], coordinator: [coordinator] },
      overrides: { clock: () => new Date('2026-03-02T14:00:00Z') },
    });
  });

  afterAll(async () => {
    await app?.close();
    await storage?.stop();
  });

  it('keeps what was typed, says it was not saved, and stores it exactly once when storage is back', async () => {
    const port = storage.port;
    expect(await health(app)).toBe(200);

    const before = app.connector.sent.length;
    expect((await app.post(messageActivity(teacher, '/report', app.connector.serviceUrl))).status).toBe(200);
    const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.activity.attachments !== undefined);
    const card = reply.activity.attachments![0]!.content as Element;
    const submissionId = (card.actions as { data: { submissionId: string } }[])[0]!.data.submissionId;

    await storage.stop();
    expect(await health(app)).toBe(503);

    const startedAt = Date.now();
    const refused = await app.post(cardActionInvoke(teacher, 'submitIncident', { ...typed, submissionId }, app.connector.serviceUrl));
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(refused.status).toBe(200);
    const refusedBody = refused.body as InvokeBody;
    expect(refusedBody.type).toBe('application/vnd.microsoft.card.adaptive');
    const shown = elementsOf(refusedBody.value);
    expect(shown.some((e) => e.type === 'TextBlock' && String(e.text).includes('has NOT been saved'))).toBe(true);
    for (const [field, value] of Object.entries(typed)) expect(shown.find((e) => e.id === field)?.value).toBe(value);
    expect((refusedBody.value.actions as { data: { submissionId: string } }[])[0]!.data.submissionId).toBe(submissionId);
    expect(JSON.stringify(refusedBody.value)).not.toMatch(/ES-\d{4}-\d{4,}/);

    // An in-memory Azurite comes back empty; Azure Tables comes back with its tables, so put them back first.
    storage = await startAzurite({ port });
    await restoreTables(storage.connectionString);
    expect(await health(app)).toBe(200);

    const accepted = await app.post(cardActionInvoke(teacher, 'submitIncident', { ...typed, submissionId }, app.connector.serviceUrl));
    expect(accepted.status).toBe(200);
    const text = JSON.stringify((accepted.body as InvokeBody).value);
    const reference = /ES-2026-\d{4,}/.exec(text)?.[0];
    expect(reference).toBeDefined();
    expect(text).not.toContain('has NOT been saved');

    const incidents = await app.services.report.incidents.listIncidents(app.schoolId);
    expect(incidents.map((i) => [i.reference, i.submissionId, i.description])).toEqual([[reference, submissionId, typed.description]]);

    // Pressing Submit once more (the teacher was not sure) changes nothing.
    const again = await app.post(cardActionInvoke(teacher, 'submitIncident', { ...typed, submissionId }, app.connector.serviceUrl));
    expect(JSON.stringify((again.body as InvokeBody).value)).toContain(reference!);
    expect(await app.services.report.incidents.listIncidents(app.schoolId)).toHaveLength(1);
  }, 20_000);
});
