import { AuditStore } from '../../../records/audit-store';
import { IncidentAggregateStore } from '../../../records/incident-aggregate-store';
import { IncidentStore, type IncidentRecord } from '../../../records/incident-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { SanctionStore } from '../../../records/sanction-store';
import { Tables } from '../../../records/tables';
import type { IncidentType } from '../../../school/incident-types';
import { DEFAULT_RESPONSE_MATRIX } from '../../../school/response-matrix';
import type { Principal, Role } from '../../../school/roles';
import { reclassifyIncident, type CaseActionDependencies } from '../../../usecases/case-actions';
import { countForNewIncident, countForReclassification, getIncidentSummary, rebuildIncidentAggregates, storeCount } from '../../../usecases/summarise-incidents';
import { incidentRecord } from '../../support/incident-records';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

/**
 * A reclassification moves the incident's count in the governors' figures at once (from the old type and four Cs
 * to the new ones, and into or out of the child-protection share), and a retried write never counts it twice.
 * Everything runs against Azurite: the incident store, the sharded monthly counters and the summary that reads them.
 */
const now = new Date('2026-03-10T10:00:00Z');
const dsl: Principal = { aadObjectId: 'dsl-1', roles: new Set<Role>(['dsl', 'staff']) };
const governor: Principal = { aadObjectId: 'governor-1', roles: new Set<Role>(['governor']) };
const coordinator: Principal = { aadObjectId: 'coordinator-1', roles: new Set<Role>(['coordinator', 'staff']) };

function setUp() {
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const schoolId = uniqueSchoolId('reclass');
  const incidents = new IncidentStore(tables);
  const aggregates = new IncidentAggregateStore(tables, { lingerMs: 0 });
  const audit = new AuditStore(tables, () => now);
  const register = new PupilRegisterStore(tables);
  const deps: CaseActionDependencies = {
    schoolId,
    incidents,
    aggregates,
    audit,
    matrix: DEFAULT_RESPONSE_MATRIX,
    clock: () => now,
    pupils: register,
    register,
    sanctions: new SanctionStore(tables),
    roles: { listRoleMembers: async (role: Role) => ({ dsl: ['dsl-1'], coordinator: ['coordinator-1'], headteacher: ['head-1'] } as Partial<Record<Role, string[]>>)[role] ?? [] },
    graph: undefined,
  };
  /** Records a concern as /report does: the incident, then its counts. */
  const report = async (type: IncidentType, overrides: Partial<IncidentRecord> = {}): Promise<IncidentRecord> => {
    const record = incidentRecord(schoolId, '2026-03-02T09:00:00.000Z', { type, reference: `ES-2026-${Math.random().toString().slice(2, 8)}`, ...overrides });
    await incidents.createIncident(record, { at: record.createdAt, actorId: record.reporterId, kind: 'reported', what: 'Reported', why: '' }, []);
    await storeCount(aggregates, schoolId, countForNewIncident(record));
    return record;
  };
  const reclassify = async (reference: string, type: IncidentType, etag?: string) =>
    reclassifyIncident(deps, dsl, reference, { etag: etag ?? (await incidents.getIncident(schoolId, reference))!.etag, type, why: 'The DSL read the report again' });
  const summary = async (who: Principal) => {
    const outcome = await getIncidentSummary({ schoolId, aggregates, audit, clock: () => now, providers: {} }, who);
    if (outcome.kind !== 'ok') throw new Error('summary refused');
    const count = (rows: { key: string; count: unknown }[], key: string) => rows.find((r) => r.key === key)?.count;
    const s = outcome.summary;
    return {
      total: s.totals.incidents,
      cyberbullying: count(s.byType, 'cyberbullying'),
      website: count(s.byType, 'inappropriate-website'),
      contactType: count(s.byType, 'safeguarding-contact'),
      conduct: count(s.byFourC, 'conduct'),
      content: count(s.byFourC, 'content'),
      contact: count(s.byFourC, 'contact'),
      dsl: s.escalated.find((e) => e.kind === 'dsl')?.count,
    };
  };
  return { schoolId, incidents, aggregates, deps, report, reclassify, summary };
}

describe('reclassification and the governors’ figures, against Azurite', () => {
  it('moves the count from the old type and four Cs to the new ones at once, and a rebuild from the records agrees', async () => {
    const { schoolId, incidents, aggregates, report, reclassify, summary } = setUp();
    const bullying = await Promise.all([1, 2, 3, 4].map(() => report('cyberbullying')));
    await Promise.all([1, 2, 3].map(() => report('inappropriate-website', { fourC: 'content' })));
    expect(await summary(governor)).toMatchObject({ total: 7, cyberbullying: 4, website: 3, conduct: 4, content: 3 });

    const outcome = await reclassify(bullying[0]!.reference, 'inappropriate-website');
    expect(outcome.kind).toBe('ok');
    expect(await summary(governor)).toMatchObject({ total: 7, cyberbullying: 3, website: 4, conduct: 3, content: 4 });

    // The live counters are exactly what a rebuild from the incidents and their chronologies gives.
    const live = await aggregates.listMonths(schoolId, '2026-03', '2026-03');
    await rebuildIncidentAggregates({ incidents, aggregates }, schoolId);
    expect(await aggregates.listMonths(schoolId, '2026-03', '2026-03')).toEqual(live);
  });

  it('a retried reclassification counts once: the same request again is refused, and the same count written again (or twice at once) adds nothing', async () => {
    const { schoolId, incidents, aggregates, report, reclassify, summary } = setUp();
    await Promise.all([1, 2, 3].map(() => report('inappropriate-website', { fourC: 'content' })));
    const moved = await Promise.all([1, 2, 3, 4].map(() => report('cyberbullying')));
    const before = (await incidents.getIncident(schoolId, moved[0]!.reference))!;
    const first = await reclassify(before.reference, 'inappropriate-website', before.etag);
    expect(first.kind).toBe('ok');
    // A client retrying with the etag it read: refused as stale, nothing counted.
    expect((await reclassify(before.reference, 'inappropriate-website', before.etag)).kind).toBe('conflict');
    const afterFirst = await aggregates.listMonths(schoolId, '2026-03', '2026-03');
    expect(await summary(governor)).toMatchObject({ total: 7, cyberbullying: 3, website: 4 });

    // The count's own write retried (after a lost response, or by two instances at once) for the same chronology line.
    const after = (await incidents.getIncident(schoolId, before.reference))!;
    const chronology = await incidents.listChronology(schoolId, before.reference);
    const line = chronology.find((e) => e.kind === 'reclassified')!.sequence;
    expect(before.eventCount + 1).toBe(line);
    const again = () => storeCount(aggregates, schoolId, countForReclassification(before, after, chronology.slice(0, line - 1)));
    await Promise.all([again(), again(), again()]);
    expect(await aggregates.listMonths(schoolId, '2026-03', '2026-03')).toEqual(afterFirst);
  });

  it('into child protection: the concern joins the child-protection share with its DSL escalation, and leaves the coordinator’s figures', async () => {
    const { schoolId, incidents, aggregates, report, reclassify, summary } = setUp();
    const reports = await Promise.all([1, 2, 3, 4, 5, 6].map(() => report('cyberbullying')));
    await Promise.all([1, 2, 3].map(() => report('safeguarding-contact', { fourC: 'contact', audience: 'child-protection', childProtection: true })));
    expect(await summary(governor)).toMatchObject({ total: 9, cyberbullying: 6, contactType: 3, conduct: 6, contact: 3, dsl: 3 });
    expect(await summary(coordinator)).toMatchObject({ total: 6, cyberbullying: 6, contactType: 0 });

    expect((await reclassify(reports[0]!.reference, 'safeguarding-contact')).kind).toBe('ok');
    expect(await summary(governor)).toMatchObject({ total: 9, cyberbullying: 5, contactType: 4, conduct: 5, contact: 4, dsl: 4 });
    // The coordinator cannot list child-protection concerns, so their figures drop it at once (nothing to subtract).
    expect(await summary(coordinator)).toMatchObject({ total: 5, cyberbullying: 5, contactType: 0 });

    const live = await aggregates.listMonths(schoolId, '2026-03', '2026-03');
    expect(live[0]!.childProtection).toMatchObject({ total: 4, byType: { 'safeguarding-contact': 4 }, escalated: { dsl: 4 } });
    await rebuildIncidentAggregates({ incidents, aggregates }, schoolId);
    expect(await aggregates.listMonths(schoolId, '2026-03', '2026-03')).toEqual(live);
  });
});
