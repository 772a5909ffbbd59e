import { consentFeature } from '../../../app/consent-feature';
import { privacyFeature } from '../../../app/privacy-feature';
import { AuditStore } from '../../../records/audit-store';
import { ConsentStore } from '../../../records/consent-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { CONSENT_AREA_IDS } from '../../../school/consent';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();
const PARENT = 'Morwenna Quillfeather';

function pupil(externalId: string, forename: string, surname: string, uniquePupilNumber: string): PupilRecord {
  const at = '2026-09-01T08:00:00.000Z';
  return { externalId, uniquePupilNumber, forename, surname, yearGroup: '3', registrationGroup: '3B', cohort: '23', userPrincipalName: `23${forename.toLowerCase()}@hollin.example`, status: 'active', groups: [], createdAt: at, updatedAt: at };
}

type Area = { area: string; status: string; mayUse: boolean; on?: string; by?: string; givenOn?: string };

describe('consent register API', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;
  let now = new Date('2026-09-10T09:00:00Z');

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => now, features: [consentFeature, privacyFeature] } });
    call = tabApiCaller(app, idp, users);
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, [pupil('P-IVY', 'Ivy', 'Thistlewood', 'K123456789012'), pupil('P-OWEN', 'Owen', 'Marchbank', 'L123456789012')]);
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const form = { pupil: 'P-IVY', signedOn: '2026-09-03', givenBy: PARENT, relationship: 'parent', areas: { 'website-social-media': true, 'display-in-school': true, 'display-off-site': true, 'video-conference': false, media: true } };

  it('the coordinator records a form; recording it again changes nothing; staff and governors cannot record', async () => {
    const first = await call('coordinator', 'POST', '/api/consent', form);
    expect(first.status).toBe(201);
    expect(first.body.recorded).toEqual([...CONSENT_AREA_IDS]);
    const again = await call('coordinator', 'POST', '/api/consent', form);
    expect(again.status).toBe(200);
    expect(again.body.unchanged).toHaveLength(5);
    expect((await call('staff', 'POST', '/api/consent', form)).status).toBe(403);
    expect((await call('governor', 'POST', '/api/consent', form)).status).toBe(403);
    expect((await call('admin', 'POST', '/api/consent', { ...form, pupil: 'P-OWEN', areas: { media: false } })).status).toBe(201);
    const bad = await call('dsl', 'POST', '/api/consent', { ...form, signedOn: '2026-12-25', relationship: 'aunt' });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(2);
    expect((await call('dsl', 'POST', '/api/consent', { ...form, pupil: 'P-NOBODY' })).status).toBe(404);
  });

  it('staff read it by register id or unique pupil number without the signer\'s name; recorders see the name; governors get nothing', async () => {
    const staff = await call('staff', 'POST', '/api/consent/lookup', { pupil: 'K123456789012' });
    expect(staff.status).toBe(200);
    const areas = staff.body.areas as Area[];
    expect(areas.find((a) => a.area === 'media')).toEqual(expect.objectContaining({ status: 'given', mayUse: true, on: '2026-09-03' }));
    expect(areas.find((a) => a.area === 'video-conference')).toEqual(expect.objectContaining({ status: 'refused', mayUse: false }));
    expect(staff.text).not.toContain(PARENT);
    const coordinator = await call('coordinator', 'POST', '/api/consent/lookup', { pupil: 'P-IVY' });
    expect((coordinator.body.areas as Area[])[0]!.by).toBe(PARENT);
    expect((await call('governor', 'POST', '/api/consent/lookup', { pupil: 'P-IVY' })).status).toBe(403);
    expect((await call(undefined, 'POST', '/api/consent/lookup', { pupil: 'P-IVY' })).status).toBe(401);
  });

  it('a withdrawal takes effect at once, keeps the history, and an older form cannot reinstate it', async () => {
    now = new Date('2026-11-20T10:00:00Z');
    expect((await call('staff', 'POST', '/api/consent/withdraw', { pupil: 'P-IVY', area: 'media' })).status).toBe(403);
    const withdrawn = await call('headteacher', 'POST', '/api/consent/withdraw', { pupil: 'P-IVY', area: 'media', withdrawnBy: PARENT, relationship: 'parent' });
    expect(withdrawn.status).toBe(201);
    const read = await call('staff', 'POST', '/api/consent/lookup', { pupil: 'P-IVY' });
    expect((read.body.areas as Area[]).find((a) => a.area === 'media')).toEqual(expect.objectContaining({ status: 'withdrawn', mayUse: false, on: '2026-11-20', givenOn: '2026-09-03' }));
    const old = await call('coordinator', 'POST', '/api/consent', { ...form, areas: { media: true } });
    expect(old.status).toBe(200);
    expect(old.body.superseded).toEqual([{ area: 'media', reason: 'a later record (withdrawn on 2026-11-20) stands' }]);
    const history = await call('dsl', 'POST', '/api/consent/history', { pupil: 'P-IVY' });
    const media = (history.body.events as { area: string; decision: string; sequence: number; recordedBy: string }[]).filter((e) => e.area === 'media');
    expect(media.map((e) => [e.decision, e.sequence])).toEqual([['given', 1], ['withdrawn', 2]]);
    expect(media[1]!.recordedBy).toBe(users.headteacher.aadObjectId);
    expect((await call('staff', 'POST', '/api/consent/history', { pupil: 'P-IVY' })).status).toBe(403);
  });

  it('two withdrawals at the same moment write one state and a history without gaps', async () => {
    const [a, b] = await Promise.all([
      call('coordinator', 'POST', '/api/consent/withdraw', { pupil: 'P-IVY', area: 'all' }),
      call('dsl', 'POST', '/api/consent/withdraw', { pupil: 'P-IVY', areas: ['website-social-media', 'display-in-school'] }),
    ]);
    expect([a.status, b.status]).toEqual(expect.arrayContaining([201]));
    const events = await new ConsentStore(app.services.tables).listConsentHistory(app.schoolId, 'P-IVY');
    for (const area of CONSENT_AREA_IDS) {
      const sequences = events.filter((e) => e.area === area).map((e) => e.sequence);
      expect(sequences).toEqual(sequences.map((_s, i) => i + 1));
    }
    expect(events.filter((e) => e.area === 'website-social-media').map((e) => e.decision)).toEqual(['given', 'withdrawn']);
  });

  it('audits every read and write by pupil id, never with the parent\'s name, and refusals too', async () => {
    const audit = await new AuditStore(app.services.tables).listAudit(app.schoolId, {});
    const consent = audit.filter((e) => e.action.startsWith('consent.'));
    expect(consent.map((e) => `${e.action}:${e.outcome}:${e.target}`)).toEqual(
      expect.arrayContaining([
        'consent.record:succeeded:pupil:P-IVY',
        'consent.record:denied:consent',
        'consent.read:succeeded:pupil:P-IVY',
        'consent.read:denied:consent',
        'consent.withdraw:succeeded:pupil:P-IVY',
        'consent.history:succeeded:pupil:P-IVY',
      ]),
    );
    expect(consent.filter((e) => e.action === 'consent.read' && e.outcome === 'succeeded' && e.actorId === users.staff.aadObjectId).length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(consent)).not.toContain('Quillfeather');
    expect(app.logLines.join('\n')).not.toContain('Quillfeather');
  });

  it('counts each area across the roll for recorders only', async () => {
    const coverage = await call('coordinator', 'GET', '/api/consent/coverage');
    expect(coverage.body.pupils).toBe(2);
    const media = (coverage.body.areas as { area: string; counts: Record<string, number> }[]).find((a) => a.area === 'media')!;
    expect(media.counts).toEqual({ given: 0, refused: 1, withdrawn: 1, 'not-recorded': 0 });
    expect((await call('staff', 'GET', '/api/consent/coverage')).status).toBe(403);
  });

  it('records a CSV of paper forms by unique pupil number, once however often it is sent, with each bad row named and an older answer never overriding a later one', async () => {
    const csv = ['pupil,signed_on,given_by,relationship,media,display-off-site', 'L123456789012,2026-09-01,Ada Marchbank,carer,yes,yes', 'NOBODY,2026-09-05,A B,parent,yes,', 'P-OWEN,2026-09-05,A B,uncle,yes,'].join('\n');
    expect((await call('staff', 'POST', '/api/consent/csv', { csv })).status).toBe(403);
    const first = await call('coordinator', 'POST', '/api/consent/csv', { csv });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ recorded: 1, alreadyRecorded: 0 });
    expect(first.body.problems).toEqual([
      { row: 2, message: 'media: not recorded, a later record (refused on 2026-09-03) stands' },
      { row: 3, message: 'no pupil on the register has that id, unique pupil number or username' },
      { row: 4, message: expect.stringContaining('relationship must be one of') },
    ]);
    expect((await call('coordinator', 'POST', '/api/consent/csv', { csv })).body).toMatchObject({ recorded: 0, alreadyRecorded: 1 });
    const owen = await call('staff', 'POST', '/api/consent/lookup', { pupil: 'P-OWEN' });
    expect((owen.body.areas as Area[]).find((a) => a.area === 'display-off-site')).toMatchObject({ status: 'given', on: '2026-09-01' });
    expect((owen.body.areas as Area[]).find((a) => a.area === 'media')).toMatchObject({ status: 'refused', on: '2026-09-03' });
  });

  it('puts the pupil\'s consent history in their subject access pack, saying who signed but not naming them', async () => {
    const pack = await call('dsl', 'POST', '/api/subject-access', { upn: 'P-IVY' });
    expect(pack.status).toBe(200);
    const section = /<section id="consent">([\s\S]*?)<\/section>/.exec(String(pack.body.html))![1]!;
    expect(section).toContain('<td>Newspapers and other media</td><td>Consent given</td><td>3 September 2026</td><td>Parent</td>');
    expect(section).toContain('<td>Newspapers and other media</td><td>Consent withdrawn</td><td>20 November 2026</td><td>Parent</td>');
    expect(section).not.toContain('Quillfeather');
  });
});
