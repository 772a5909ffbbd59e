import { privacyFeature } from '../../../app/privacy-feature';
import { IncidentStore } from '../../../records/incident-store';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { tabApiCaller } from '../../support/tab-api';
import { newUser } from '../../support/teams-activities';
import { startTestTrust, type TestTrust } from '../../support/test-app';

const users = { northDsl: newUser('North DSL'), southDsl: newUser('South DSL'), teacher: newUser('Teacher in both') };

describe('subject access in a trust', () => {
  let idp: TestIdentityProvider;
  let trust: TestTrust;

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    trust = await startTestTrust({
      schools: [
        { name: 'North Primary', domain: 'north.example', roles: { staff: [users.northDsl, users.teacher], dsl: [users.northDsl] } },
        { name: 'South Primary', domain: 'south.example', roles: { staff: [users.southDsl, users.teacher], dsl: [users.southDsl] } },
      ],
      env: idp.env,
      overrides: { features: [privacyFeature] },
    });
    const [north, south] = trust.schools;
    const deps = { incidents: new IncidentStore(north!.services.tables), tables: north!.services.tables };
    await seedIncident(deps, north!.id, { reference: 'ES-2026-0801', type: 'cyberbullying', reporterId: users.teacher.aadObjectId, description: 'Reported at North.' });
    await seedIncident(deps, south!.id, { reference: 'ES-2026-0802', type: 'cyberbullying', reporterId: users.teacher.aadObjectId, description: 'Reported at South.' });
  });

  afterAll(async () => {
    await trust?.close();
    await idp?.close();
  });

  it('gives each school\'s DSL only their own school\'s records about someone who works at both', async () => {
    const call = tabApiCaller(trust, idp, users);
    const north = await call('northDsl', 'POST', '/api/subject-access', { aadObjectId: users.teacher.aadObjectId });
    const south = await call('southDsl', 'POST', '/api/subject-access', { aadObjectId: users.teacher.aadObjectId });
    expect([north.status, south.status]).toEqual([200, 200]);
    expect(north.body.references).toEqual(['ES-2026-0801']);
    expect(south.body.references).toEqual(['ES-2026-0802']);
    expect(String(north.body.html)).toContain('North Primary');
    expect(String(north.body.html)).not.toContain('Reported at South.');
    // Asking for the other school does not widen access: South's DSL holds no role at North.
    expect((await call('southDsl', 'POST', '/api/subject-access', { aadObjectId: users.teacher.aadObjectId }, { 'x-school-id': trust.schools[0]!.id })).body.references).toEqual(['ES-2026-0802']);
  });

  it('publishes one privacy notice that names every school of the trust', async () => {
    const html = await (await fetch(`${trust.url}/privacy`)).text();
    expect(html).toContain('each of these schools: North Primary, South Primary');
  });
});
