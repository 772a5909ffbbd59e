import { createTabFeature } from '../../../app/tab-feature';
import { IncidentStore } from '../../../records/incident-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { rolesOf, tabApiCaller, tabRoleUsers, type Who } from '../../support/tab-api';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const NOW = new Date('2026-11-23T09:00:00Z');

function pupil(externalId: string, forename: string, surname: string, status: PupilRecord['status'] = 'active'): PupilRecord {
  return { externalId, forename, surname, yearGroup: '5', registrationGroup: '5H', cohort: '20', userPrincipalName: `20${forename.toLowerCase()}@hollin.example`, status, groups: [], createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() };
}

describe('transfer pack API (the tab)', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({
      roles: rolesOf(users),
      env: { ...idp.env, SCHOOL_NAME: 'Hollin Bank Primary' },
      overrides: { clock: () => NOW, features: [createTabFeature()] },
    });
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [pupil('P-LEAVER', 'Ottoline', 'Brackenridge', 'leaver-disabled'), pupil('P-STAYS', 'Fenwick', 'Aldous')]);
    const deps = { incidents: new IncidentStore(app.services.tables), tables: app.services.tables };
    await seedIncident(deps, app.schoolId, { reference: 'ES-2026-0601', type: 'cyberbullying', involved: [{ kind: 'pupil', pupilId: 'P-LEAVER' }], description: 'Messages about a classmate in a game chat.' });
    await seedIncident(deps, app.schoolId, { reference: 'ES-2026-0602', type: 'inappropriate-website', involved: [{ kind: 'pupil', pupilId: 'P-STAYS' }], description: 'Opened an unsuitable video site.' });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const call = (who: Who | undefined, method: string, path: string, body?: unknown) => tabApiCaller(app, idp, users)(who, method, path, body);

  const refused: Who[] = ['staff', 'coordinator', 'chair', 'governor', 'admin'];
  it.each([
    ['GET', '/api/transfer-packs/pupils', undefined],
    ['POST', '/api/transfer-packs/list', { pupilId: 'P-LEAVER' }],
    ['POST', '/api/transfer-packs', { pupilId: 'P-LEAVER', receivingSchool: 'Saltmarsh Academy' }],
    ['POST', '/api/transfer-packs/TP-2026-ABCDEFGH/receipt', { receivedBy: 'A Person', receivingSchool: 'Saltmarsh Academy', receivedOn: '2026-11-23' }],
  ])('%s %s: 401 without a token, 403 for everyone but the DSL and the head', async (method, path, body) => {
    expect((await call(undefined, method, path, body)).status).toBe(401);
    for (const who of refused) expect({ who, status: (await call(who, method, path, body)).status }).toEqual({ who, status: 403 });
  });

  it('lists every pupil on the register for the DSL, leavers included', async () => {
    const listed = await call('dsl', 'GET', '/api/transfer-packs/pupils');
    expect(listed.body.pupils).toEqual([
      { pupilId: 'P-STAYS', label: 'Aldous, Fenwick (5H)', status: 'active' },
      { pupilId: 'P-LEAVER', label: 'Brackenridge, Ottoline (5H)', status: 'leaver-disabled' },
    ]);
  });

  it('exports one pupil\'s pack, lists it, and records the receiving school\'s receipt', async () => {
    const exported = await call('dsl', 'POST', '/api/transfer-packs', { pupilId: 'P-LEAVER', receivingSchool: 'Saltmarsh Academy' });
    expect(exported.status).toBe(200);
    expect(exported.body.references).toEqual(['ES-2026-0601']);
    const html = String(exported.body.html);
    expect(html).toContain('Ottoline');
    expect(html).toContain('Messages about a classmate in a game chat.');
    expect(html).not.toContain('ES-2026-0602');
    expect(html).not.toContain('Fenwick');
    const packId = String(exported.body.packId);

    const receipt = await call('headteacher', 'POST', `/api/transfer-packs/${packId}/receipt`, { receivedBy: 'Imogen Castellane', receivedByRole: 'DSL', receivingSchool: 'Saltmarsh Academy', receivedOn: '2026-11-23' });
    expect(receipt.status).toBe(200);
    const packs = await call('dsl', 'POST', '/api/transfer-packs/list', { pupilId: 'P-LEAVER' });
    expect(packs.body.packs).toMatchObject([{ packId, receivingSchool: 'Saltmarsh Academy', references: ['ES-2026-0601'], receipt: { receivedBy: 'Imogen Castellane', receivedOn: '2026-11-23' } }]);

    expect((await call('dsl', 'POST', '/api/transfer-packs', { pupilId: 'P-NOBODY', receivingSchool: 'Saltmarsh Academy' })).status).toBe(404);
    // A pupil's id never travels in a URL: the old query form is not a route.
    expect((await call('dsl', 'GET', '/api/transfer-packs?pupilId=P-LEAVER')).status).not.toBe(200);
    const invalid = await call('dsl', 'POST', `/api/transfer-packs/${packId}/receipt`, { receivedBy: '', receivingSchool: '', receivedOn: 'soon' });
    expect(invalid.status).toBe(400);
  });
});
