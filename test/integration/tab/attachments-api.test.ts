import { randomBytes } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { createTabFeature } from '../../../app/tab-feature';
import { AttachmentStore } from '../../../records/attachment-store';
import { AuditStore } from '../../../records/audit-store';
import { IncidentStore } from '../../../records/incident-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { testTablesConnectionString } from '../../support/tables';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const NOW = new Date('2026-05-12T10:00:00Z');
const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PART = 512 * 1024;

describe('evidence attachments in Azure Blob (Azurite)', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;
  const uploadId = () => randomBytes(10).toString('hex');

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => NOW, features: [createTabFeature()] } });
    call = tabApiCaller(app, idp, users);
    const deps = { incidents: new IncidentStore(app.services.tables), tables: app.services.tables };
    await seedIncident(deps, app.schoolId, { reference: 'ES-2026-0801', type: 'cyberbullying', createdAt: '2026-05-11T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: 'ES-2026-0802', type: 'safeguarding-contact', audience: 'child-protection', childProtection: true, createdAt: '2026-05-11T09:00:00.000Z' });
    await seedIncident(deps, app.schoolId, { reference: 'ES-2026-0803', type: 'illegal-content', audience: 'child-protection', childProtection: true, createdAt: '2026-05-11T09:00:00.000Z' });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  async function upload(reference: string, file: Buffer, contentType: string, who: 'dsl' | 'coordinator' = 'dsl') {
    const id = uploadId();
    const parts = Math.ceil(file.length / PART);
    for (let i = 0; i < parts; i++) {
      const sent = await call(who, 'PUT', `/api/incidents/${reference}/attachments/${id}/parts/${i}`, { data: file.subarray(i * PART, (i + 1) * PART).toString('base64') });
      if (sent.status !== 200) return { id, answer: sent };
    }
    const etag = (await call(who, 'GET', `/api/incidents/${reference}`)).etag!;
    return { id, answer: await call(who, 'POST', `/api/incidents/${reference}/attachments/${id}`, { fileName: '..\\screenshot of chat.png', contentType, parts }, { 'if-match': etag }) };
  }

  it('stores an image in parts, lists it on the case, and serves it only as a download to people who may see the incident, auditing each read', async () => {
    const file = Buffer.concat([PNG_HEAD, randomBytes(PART + 1000)]);
    const { id, answer } = await upload('ES-2026-0801', file, 'image/png');
    expect(answer.status).toBe(200);
    const attachments = answer.body.attachments as { id: string; fileName: string; size: number }[];
    expect(attachments).toEqual([expect.objectContaining({ id, fileName: 'screenshot of chat.png', size: file.length })]);
    expect((answer.body.chronology as { kind: string }[]).at(-1)!.kind).toBe('attachment');

    const response = await fetch(`${app.url}/api/incidents/ES-2026-0801/attachments/${id}`, { headers: { authorization: `Bearer ${await idp.token(users.coordinator.aadObjectId)}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''screenshot%20of%20chat.png");
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await response.arrayBuffer()).equals(file)).toBe(true);
    expect((await call('staff', 'GET', `/api/incidents/ES-2026-0801/attachments/${id}`)).status).toBe(403);
    expect((await call('governor', 'GET', `/api/incidents/ES-2026-0801/attachments/${id}`)).status).toBe(403);

    const reads = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: 'ES-2026-0801', action: 'incident.attachment.read' });
    expect(reads.map((r) => [r.actorId, r.outcome])).toEqual(expect.arrayContaining([[users.coordinator.aadObjectId, 'succeeded'], [users.staff.aadObjectId, 'denied']]));
  });

  it('keeps a child-protection incident’s evidence from the coordinator', async () => {
    const { id, answer } = await upload('ES-2026-0802', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2000)]), 'application/pdf');
    expect(answer.status).toBe(200);
    expect((await call('coordinator', 'GET', `/api/incidents/ES-2026-0802/attachments/${id}`)).status).toBe(403);
    const asDsl = await fetch(`${app.url}/api/incidents/ES-2026-0802/attachments/${id}`, { headers: { authorization: `Bearer ${await idp.token(users.dsl.aadObjectId)}` } });
    expect([asDsl.status, asDsl.headers.get('content-type')]).toEqual([200, 'application/pdf']);
  });

  it('checks the type by content: a text file named .png is refused, and so is a PDF sent as an image', async () => {
    const text = await upload('ES-2026-0801', Buffer.from('just some text pretending to be a picture'), 'image/png');
    expect(text.answer.status).toBe(400);
    const pdfAsPng = await upload('ES-2026-0801', Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(100)]), 'image/png');
    expect(pdfAsPng.answer.status).toBe(400);
    const store = new AttachmentStore({ connectionString: testTablesConnectionString() });
    expect((await store.listAttachments(app.schoolId, 'ES-2026-0801')).map((a) => a.id)).not.toContain(pdfAsPng.id);
  });

  it('refuses more than 10 MB in parts, and refuses attachments for illegal content with the guidance', async () => {
    const tooMany = await call('dsl', 'PUT', `/api/incidents/ES-2026-0801/attachments/${uploadId()}/parts/20`, { data: PNG_HEAD.toString('base64') });
    expect(tooMany.status).toBe(400);
    const grave = await call('dsl', 'PUT', `/api/incidents/ES-2026-0803/attachments/${uploadId()}/parts/0`, { data: PNG_HEAD.toString('base64') });
    expect(grave.status).toBe(400);
    expect((grave.body.problems as string[]).join(' ')).toContain('switch off or cover the monitor');
  });

  it('keeps each school’s evidence in its own private container, and deletes an incident’s evidence with it', async () => {
    const store = new AttachmentStore({ connectionString: testTablesConnectionString() });
    const container = BlobServiceClient.fromConnectionString(testTablesConnectionString()).getContainerClient(AttachmentStore.containerName(app.schoolId));
    expect((await container.getAccessPolicy()).blobPublicAccess).toBeUndefined();
    expect(AttachmentStore.containerName('another-school')).not.toBe(AttachmentStore.containerName(app.schoolId));
    expect((await store.listAttachments(app.schoolId, 'ES-2026-0801')).length).toBeGreaterThan(0);
    expect(await store.deleteAll(app.schoolId, 'ES-2026-0801')).toBeGreaterThan(0);
    expect(await store.listAttachments(app.schoolId, 'ES-2026-0801')).toEqual([]);
  });
});
