import type { AupFeature } from '../../../app/aup-feature';
import { AuditStore } from '../../../records/audit-store';
import { AupStore } from '../../../records/aup-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';
import { newUser, type TeamsUser } from '../../support/teams-activities';

verifyGraphContractAfterAll();

const NOW = new Date('2026-11-23T09:00:00Z');
const users = tabRoleUsers();
const heldPupil = newUser('Held Pupil');
const otherPupil = newUser('Other Pupil');
const upn = (user: TeamsUser): string => `${user.aadObjectId.slice(0, 8)}@oakfield.example`;

function registerRow(user: TeamsUser, externalId: string, withAccount = true): PupilRecord {
  return {
    externalId,
    forename: user.name.split(' ')[0]!,
    surname: 'Pupil',
    cohort: '2026',
    userPrincipalName: upn(user),
    ...(withAccount ? { userId: user.aadObjectId } : {}),
    status: 'active',
    groups: [],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
  };
}

describe('POST /api/aup/paper', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;
  let fake: GraphFake;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({
      roles: { ...rolesOf(users), pupil: [heldPupil, otherPupil] },
      env: { ...idp.env, AUP_ACCESS_GATE: 'true' },
      overrides: { clock: () => NOW, graph: createGatewayForFake().gateway },
    });
    call = tabApiCaller(app, idp, users);
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [registerRow(heldPupil, 'P101'), registerRow(otherPupil, 'P102', false)]);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const pupilForm = { documentId: 'pupil-ks1-aup', version: 1, signedBy: 'pupil', name: 'A Carer', signedOn: '2026-11-20' };

  it('only the coordinator, the DSL and the head may record paper forms', async () => {
    for (const who of ['staff', 'governor', 'admin', 'chair'] as const) {
      expect([who, (await call(who, 'POST', '/api/aup/paper', { ...pupilForm, upn: upn(heldPupil) })).status]).toEqual([who, 403]);
    }
    expect((await call(undefined, 'POST', '/api/aup/paper', pupilForm)).status).toBe(401);
    const denied = await new AuditStore(app.services.tables).listAudit(app.schoolId, { target: 'aup' });
    expect(denied.filter((e) => e.action === 'aup.paper.record' && e.outcome === 'denied')).toHaveLength(4);
  });

  it('lists every problem with a form, and never records a stale version', async () => {
    const bad = await call('coordinator', 'POST', '/api/aup/paper', { documentId: 'pupil-ks1-aup', version: 9, signedBy: 'pupil', signedOn: '2030-01-01' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('not the current version'), expect.stringContaining('in the future'), expect.stringContaining("pupil's upn or aadObjectId")]),
    );
    const unknown = await call('coordinator', 'POST', '/api/aup/paper', { ...pupilForm, upn: 'nobody@oakfield.example' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.problems).toEqual([expect.stringContaining('no pupil on the register')]);
    expect((await call('coordinator', 'POST', '/api/aup/paper', { ...pupilForm, documentId: 'staff-aup', version: 1, upn: upn(heldPupil) })).body.problems).toEqual([
      expect.stringContaining('is not signed by a pupil'),
    ]);
  });

  it("a pupil's paper form releases them from the access gate, once", async () => {
    fake = new GraphFake();
    fake.addUser({ id: heldPupil.aadObjectId, userPrincipalName: upn(heldPupil), accountEnabled: true });
    fake.intercept();
    const aup = (app.services.features.find((f) => f.name === 'aup') as AupFeature).aup;
    expect(await aup.holdPupilsWithoutAup({ aadObjectId: users.admin.aadObjectId, roles: new Set(['admin']) })).toMatchObject({ kind: 'held', newlyHeld: 1 });
    expect(fake.users.get(heldPupil.aadObjectId)!.accountEnabled).toBe(false);

    const first = await call('dsl', 'POST', '/api/aup/paper', { ...pupilForm, upn: upn(heldPupil).toUpperCase() });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ personId: heldPupil.aadObjectId, signedBy: 'pupil', duplicate: false });
    expect(fake.users.get(heldPupil.aadObjectId)!.accountEnabled).toBe(true);
    const stored = await new AupStore(app.services.tables).getAcknowledgement(app.schoolId, 'pupil-ks1-aup', 1, heldPupil.aadObjectId);
    expect(stored).toMatchObject({ channel: 'paper', parentName: 'A Carer', acknowledgedAt: '2026-11-20T12:00:00.000Z', recordedBy: users.dsl.aadObjectId });

    const again = await call('dsl', 'POST', '/api/aup/paper', { ...pupilForm, aadObjectId: heldPupil.aadObjectId });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true });
  });

  it("links a parent's agreement to their child, also before the child has an account", async () => {
    const documents = await call('coordinator', 'GET', '/api/aup/documents');
    expect((documents.body.documents as { id: string }[]).map((d) => d.id)).toContain('parent-agreement');
    const parent = await call('coordinator', 'POST', '/api/aup/paper', { documentId: 'parent-agreement', version: 1, signedBy: 'parent', upn: upn(otherPupil), name: 'B Parent', signedOn: '2026-11-21' });
    expect(parent.status).toBe(201);
    expect(parent.body).toMatchObject({ forPupil: 'pupil-P102', personId: 'parent-of-pupil-P102' });
    expect(await new AupStore(app.services.tables).getAcknowledgement(app.schoolId, 'parent-agreement', 1, 'parent-of-pupil-P102')).toMatchObject({ forPupil: 'pupil-P102', parentName: 'B Parent', role: 'parent' });
  });

  it('records a CSV of forms with the same fields, reporting each bad row by its line', async () => {
    const csv = [
      'document_id,version,signed_by,upn,aad_object_id,name,signed_on',
      'visitor-aup,1,visitor,,,Dee Visitor,2026-11-19',
      `staff-aup,1,staff,,${users.staff.aadObjectId},,2026-11-18`,
      'visitor-aup,1,visitor,,,,2026-11-19',
    ].join('\n');
    const first = await call('headteacher', 'POST', '/api/aup/paper/csv', { csv });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ recorded: 2, alreadyRecorded: 0, problems: [{ row: 4, message: expect.stringContaining("visitor's name") }] });
    const second = await call('headteacher', 'POST', '/api/aup/paper/csv', { csv });
    expect(second.body).toMatchObject({ recorded: 0, alreadyRecorded: 2 });
    expect((await call('headteacher', 'POST', '/api/aup/paper/csv', { csv: '' })).status).toBe(400);
  });
});
