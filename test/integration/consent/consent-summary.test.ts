import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = tabRoleUsers();

function pupil(n: number): PupilRecord {
  const at = '2026-09-01T08:00:00.000Z';
  return { externalId: `P-${n}`, forename: `Pupil${n}`, surname: 'Roll', yearGroup: '4', cohort: '22', userPrincipalName: `22pupil${n}@hollin.example`, status: 'active', groups: [], createdAt: at, updatedAt: at };
}

describe('consent coverage in the governors’ summary (Azurite)', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  let call: ReturnType<typeof tabApiCaller<typeof users>>;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    app = await startTestApp({ roles: rolesOf(users), env: idp.env, overrides: { clock: () => new Date('2026-09-20T09:00:00Z') } });
    call = tabApiCaller(app, idp, users);
    await new PupilRegisterStore(app.services.tables).savePupils(app.schoolId, Array.from({ length: 12 }, (_v, i) => pupil(i + 1)));
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  it('counts each area for pupils on the roll, hiding 1s and 2s and a complement, and naming no pupil', async () => {
    // Ten of twelve pupils' forms are back; all say yes, except one family who refuse the media.
    const header = 'pupil,signed_on,given_by,relationship,website-social-media,display-in-school,display-off-site,video-conference,media';
    const rows = Array.from({ length: 10 }, (_v, i) => `P-${i + 1},2026-09-05,A Parent,parent,yes,yes,yes,yes,${i === 0 ? 'no' : 'yes'}`);
    const imported = await call('coordinator', 'POST', '/api/consent/csv', { csv: [header, ...rows].join('\n') });
    expect(imported.body).toMatchObject({ recorded: 10, problems: [] });

    const summary = await call('governor', 'GET', '/api/summary');
    expect(summary.status).toBe(200);
    const consent = summary.body.consent as { available: true; figures: { pupils: number; areas: Record<string, unknown>[] } };
    expect(consent.available).toBe(true);
    expect(consent.figures.pupils).toBe(12);
    const byLabel = new Map(consent.figures.areas.map((a) => [a.label, a]));
    expect(byLabel.size).toBe(5);
    // Two without a form: hidden, and the ten given with them (else 12 − 10 gives the two away).
    expect(byLabel.get('Displays around school')).toEqual({ label: 'Displays around school', given: 'hidden', refused: 0, withdrawn: 0, notRecorded: 'hidden', givenPercent: 'hidden' });
    // One refusal and two without a form: both small, hidden together; nine given is shown.
    expect(byLabel.get('Newspapers and other media')).toEqual({ label: 'Newspapers and other media', given: 9, refused: 'hidden', withdrawn: 0, notRecorded: 'hidden', givenPercent: 75 });
    expect(summary.text).not.toContain('Pupil1');
    expect(summary.text).not.toContain('P-1');
  });
});
