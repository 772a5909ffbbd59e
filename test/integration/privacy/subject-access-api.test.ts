import { privacyFeature } from '../../../app/privacy-feature';
import { AupStore } from '../../../records/aup-store';
import { IncidentStore } from '../../../records/incident-store';
import { PupilRegisterStore, type PupilRecord } from '../../../records/pupil-register-store';
import { seedIncident, startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { rolesOf, tabApiCaller, tabRoleUsers } from '../../support/tab-api';
import { uniqueSchoolId } from '../../support/tables';
import { newUser } from '../../support/teams-activities';
import { startTestApp, type TestApp } from '../../support/test-app';

const users = { ...tabRoleUsers(), accused: newUser('Accused Teacher') };
const NOW = new Date('2026-11-23T09:00:00Z');

function pupil(externalId: string, forename: string, surname: string, uniquePupilNumber: string): PupilRecord {
  const at = NOW.toISOString();
  return { externalId, uniquePupilNumber, forename, surname, yearGroup: '5', registrationGroup: '5H', cohort: '20', userPrincipalName: `20${forename.toLowerCase()}@hollin.example`, status: 'active', groups: [], createdAt: at, updatedAt: at };
}

/** The page as the printed release copy has it: marked text and withheld sections gone, labels kept. */
function releaseCopy(html: string): string {
  return html.replace(/<span class="redacted">[^<]*<\/span>/g, '').replace(/<div class="withheld">[\s\S]*?<\/div><\/div>/g, '');
}

describe('subject access API', () => {
  let idp: TestIdentityProvider;
  let app: TestApp;
  const otherSchool = uniqueSchoolId('other');

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    const roles = rolesOf(users);
    app = await startTestApp({
      roles: { ...roles, staff: [...roles.staff!, users.accused] },
      env: { ...idp.env, SCHOOL_NAME: 'Hollin Bank Primary' },
      overrides: { clock: () => NOW, features: [privacyFeature] },
    });
    const tables = app.services.tables;
    await new PupilRegisterStore(tables).savePupils(app.schoolId, [pupil('P-ALICE', 'Ottoline', 'Brackenridge', 'A123456789012'), pupil('P-BOB', 'Fenwick', 'Aldous', 'B123456789012')]);
    const deps = { incidents: new IncidentStore(tables), tables };
    await seedIncident(deps, app.schoolId, {
      reference: 'ES-2026-0701',
      type: 'cyberbullying',
      involved: [{ kind: 'pupil', pupilId: 'P-ALICE' }, { kind: 'pupil', pupilId: 'P-BOB' }],
      reporterId: users.staff.aadObjectId,
      description: 'Fenwick posted an unkind message about Ottoline in the class team.',
    });
    await seedIncident(deps, app.schoolId, { reference: 'ES-2026-0702', type: 'inappropriate-website', involved: [{ kind: 'pupil', pupilId: 'P-BOB' }], description: 'Opened an unsuitable video site.' });
    await seedIncident(deps, app.schoolId, {
      reference: 'ES-2026-0703',
      type: 'inappropriate-communication',
      audience: 'staff-concern',
      subject: 'staff',
      involved: [{ kind: 'staff' }],
      subjectId: users.accused.aadObjectId,
      reporterId: users.staff.aadObjectId,
      description: 'Messaged a pupil from a personal account late at night.',
    });
    await seedIncident(deps, app.schoolId, {
      reference: 'ES-2026-0704',
      type: 'inappropriate-communication',
      audience: 'headteacher-concern',
      subject: 'staff',
      involved: [{ kind: 'headteacher' }],
      subjectId: users.headteacher.aadObjectId,
      description: 'A concern about the headteacher.',
    });
    // Another school on the same storage account names the same pupil id and the same member of staff.
    await seedIncident(deps, otherSchool, { reference: 'ES-2026-0901', type: 'cyberbullying', involved: [{ kind: 'pupil', pupilId: 'P-ALICE' }], reporterId: users.accused.aadObjectId, description: 'Other school only.' });
    const aup = new AupStore(tables);
    const ack = { personId: users.accused.aadObjectId, name: 'Accused Teacher', role: 'staff', documentId: 'staff-aup', version: 3, textHash: 'h', acknowledgedAt: '2026-09-04T08:00:00.000Z', channel: 'teams-card' as const, recordedAt: '2026-09-04T08:00:00.000Z' };
    await aup.recordAcknowledgement(app.schoolId, ack);
    await aup.recordAcknowledgement(otherSchool, { ...ack, documentId: 'other-school-aup' });
    // Paper forms for a pupil without an account, and their parent's agreement, as the AUP paper forms store them.
    await aup.recordAcknowledgement(app.schoolId, { ...ack, personId: 'pupil-P-ALICE', name: 'Ottoline Brackenridge', role: 'pupil', documentId: 'pupil-ks2-aup', version: 1, channel: 'paper', recordedBy: users.coordinator.aadObjectId });
    await aup.recordAcknowledgement(app.schoolId, { ...ack, personId: 'parent-of-pupil-P-ALICE', name: 'Ottoline Brackenridge', role: 'parent', documentId: 'parent-agreement', version: 1, channel: 'paper', parentName: 'Rosamund Brackenridge' });
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  const call = (who: keyof typeof users | undefined, body: unknown) => tabApiCaller(app, idp, users)(who, 'POST', '/api/subject-access', body);
  const auditOf = (action: string) => app.services.report.audit.listAudit(app.schoolId, { action });

  it('is refused without a token (401) and for everyone but the DSL and the head (403), each refusal audited', async () => {
    const body = { upn: 'P-ALICE' };
    expect((await call(undefined, body)).status).toBe(401);
    for (const who of ['staff', 'coordinator', 'chair', 'governor', 'admin', 'accused'] as const) expect({ who, status: (await call(who, body)).status }).toEqual({ who, status: 403 });
    const denied = (await auditOf('subject-access.export')).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => e.actorId).sort()).toEqual([users.staff, users.coordinator, users.chair, users.governor, users.admin, users.accused].map((u) => u.aadObjectId).sort());
  });

  it('exports a pupil\'s pack by unique pupil number, marks the other pupil for redaction, and audits the export', async () => {
    const answer = await call('dsl', { upn: 'A123456789012', requestedBy: 'parent-or-carer', requestReceivedOn: '2026-10-31' });
    expect(answer.status).toBe(200);
    expect(answer.body.references).toEqual(['ES-2026-0701']);
    const html = String(answer.body.html);
    expect(html).toContain('Ottoline Brackenridge');
    expect(html).toContain('<span class="redacted">Fenwick</span><span class="label">[redact: other pupil]</span>');
    expect(html).toContain('<span class="redacted">Fenwick Aldous</span>');
    expect(releaseCopy(html)).not.toContain('Fenwick');
    expect(releaseCopy(html)).toContain('[redact: other pupil]</span></span> posted an unkind message about Ottoline');
    expect(html).not.toContain('ES-2026-0702');
    expect(html).not.toContain('Other school only.');
    expect(html).toContain('Answer due by 30 November 2026');
    expect(html).toContain('pupil-ks2-aup');
    expect(html).toContain('parent-agreement');
    expect(html).toContain('<span class="redacted">Rosamund Brackenridge</span><span class="label">[redact: parent or carer]</span>');
    expect(html).toContain('Schedule 3, Part 5');
    expect(html).toMatch(/<section id="consent">\s*<h2>[^<]*<\/h2>\s*<p>None recorded\.<\/p>/);

    const exports = (await auditOf('subject-access.export')).filter((e) => e.outcome === 'succeeded' && e.target === 'pupil:P-ALICE');
    expect(exports).toEqual([expect.objectContaining({ actorId: users.dsl.aadObjectId, details: expect.objectContaining({ packId: answer.body.packId, references: 'ES-2026-0701', requestedBy: 'parent-or-carer' }) })]);
    const reads = (await auditOf('incident.read')).filter((e) => e.details?.packId === answer.body.packId);
    expect(reads.map((e) => e.target)).toEqual(['ES-2026-0701']);
  });

  it('gives a member of staff the allegation about them withheld while it is open, with its reporter marked, and only this school\'s records', async () => {
    const answer = await call('headteacher', { aadObjectId: users.accused.aadObjectId });
    expect(answer.status).toBe(200);
    expect(answer.body.references).toEqual(['ES-2026-0703']);
    const html = String(answer.body.html);
    expect(html).toContain('data-withhold="open allegation"');
    expect(html).toContain('Messaged a pupil from a personal account');
    expect(releaseCopy(html)).not.toContain('Messaged a pupil from a personal account');
    expect(html).toContain(`<span class="redacted">${users.staff.aadObjectId}</span><span class="label">[redact: reporter]</span>`);
    expect(releaseCopy(html)).not.toContain(users.staff.aadObjectId);
    expect(html).toContain('staff-aup');
    expect(html).not.toContain('other-school-aup');
    expect(html).not.toContain('ES-2026-0901');
  });

  it('never puts an allegation about the head in a pack the head (or the DSL) prepares', async () => {
    for (const who of ['headteacher', 'dsl'] as const) {
      const answer = await call(who, { aadObjectId: users.headteacher.aadObjectId });
      expect(answer.status).toBe(200);
      expect(answer.body.references).toEqual([]);
      expect(String(answer.body.html)).not.toContain('ES-2026-0704');
    }
  });

  it('audits a refused request about a school username without the username (it carries the child\'s name)', async () => {
    expect((await call('coordinator', { upn: '20ottoline@hollin.example' })).status).toBe(403);
    const denied = (await auditOf('subject-access.export')).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => e.target)).toContain('person:username');
    expect(JSON.stringify(denied)).not.toContain('ottoline');
  });

  it('says what is wrong with a request, and that an unknown pupil has no records', async () => {
    expect((await call('dsl', { upn: 'P-ALICE', aadObjectId: users.accused.aadObjectId })).status).toBe(400);
    expect((await call('dsl', { aadObjectId: 'not-a-guid' })).body.problems).toEqual([expect.stringContaining('Entra object id')]);
    expect((await call('dsl', { upn: 'P-ALICE', requestReceivedOn: '2026-12-25' })).status).toBe(400);
    expect((await call('dsl', { upn: 'P-NOBODY' })).status).toBe(404);
  });
});
