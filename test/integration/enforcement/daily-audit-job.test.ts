import { createDailyAuditJob } from '../../../app/enforcement-feature';
import { createMemoryLogger } from '../../../infra/logger';
import { ComplianceStore } from '../../../records/compliance-store';
import { getLatestComplianceSummary } from '../../../usecases/enforce-pupil-policies';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createEnforcementHarness } from './enforcement-harness';

verifyGraphContractAfterAll();

describe('the daily pupil-policy audit', () => {
  it('runs once per UK day at the audit time, even with two server instances ticking together', async () => {
    let now = new Date('2026-11-23T01:30:00Z');
    const clock = (): Date => now;
    const h = await createEnforcementHarness({ pupils: 2, now: clock });
    h.fake.teams.get(h.ids.classTeamId)!.funSettings.allowCustomMemes = true;
    const instances = ['instance-a', 'instance-b'].map((instanceId) =>
      createDailyAuditJob({ enforcement: h.deps, compliance: new ComplianceStore(h.tables, clock), logger: createMemoryLogger('debug'), instanceId }),
    );
    const audits = (): number => h.fake.innerRequests().filter((r) => r.url.startsWith('/admin/teams/userConfigurations/')).length / 2;
    const tick = async (at: string): Promise<void> => {
      now = new Date(at);
      await Promise.all(instances.map((job) => job.run()));
    };

    await tick('2026-11-23T01:30:00Z');
    expect(audits()).toBe(0);
    await tick('2026-11-23T02:00:00Z');
    expect(audits()).toBe(1);
    await tick('2026-11-23T02:01:00Z');
    await tick('2026-11-23T23:59:00Z');
    expect(audits()).toBe(1);
    await tick('2026-11-24T00:30:00Z');
    expect(audits()).toBe(1);
    await tick('2026-11-24T02:05:00Z');
    expect(audits()).toBe(2);

    // A fresh instance (a restart) on the same day finds the day claimed.
    const restarted = createDailyAuditJob({ enforcement: h.deps, compliance: new ComplianceStore(h.tables, clock), logger: createMemoryLogger('debug'), instanceId: 'instance-c' });
    await restarted.run();
    expect(audits()).toBe(2);

    const store = new ComplianceStore(h.tables, clock);
    expect((await store.getRun(h.deps.schoolId, 'daily-2026-11-23'))?.kind).toBe('daily');
    expect(await store.listPupilResults(h.deps.schoolId, 'daily-2026-11-24')).toHaveLength(2);
    const summary = await getLatestComplianceSummary(h.deps.schoolId, { compliance: store });
    expect(summary).toMatchObject({ runId: 'daily-2026-11-24', total: 2, compliant: 2, compliantShare: 1, driftByKind: { 'team-setting': 1 }, teams: { total: 1, compliant: 0 } });
  });

  it('uses UK time: in summer 02:00 BST is 01:00 UTC', async () => {
    let now = new Date('2026-07-01T00:59:00Z');
    const clock = (): Date => now;
    const h = await createEnforcementHarness({ pupils: 1, now: clock });
    const job = createDailyAuditJob({ enforcement: h.deps, compliance: new ComplianceStore(h.tables, clock), logger: createMemoryLogger('debug') });
    await job.run();
    expect(await getLatestComplianceSummary(h.deps.schoolId, { compliance: new ComplianceStore(h.tables, clock) })).toBeUndefined();
    now = new Date('2026-07-01T01:00:00Z');
    await job.run();
    expect((await getLatestComplianceSummary(h.deps.schoolId, { compliance: new ComplianceStore(h.tables, clock) }))?.runId).toBe('daily-2026-07-01');
  });

  it('a claim left running by a stopped instance is taken over once its minute is up, not before', async () => {
    let now = new Date('2026-11-23T02:00:00Z');
    const h = await createEnforcementHarness({ pupils: 1, now: () => now });
    const store = new ComplianceStore(h.tables, () => now);
    expect(await store.claimRun(h.deps.schoolId, 'daily-2026-11-23', 'crashed')).toMatchObject({ claimed: true });
    now = new Date('2026-11-23T02:00:45Z');
    expect(await store.claimRun(h.deps.schoolId, 'daily-2026-11-23', 'other')).toEqual({ claimed: false });
    now = new Date('2026-11-23T02:01:01Z');
    const [a, b] = await Promise.all([store.claimRun(h.deps.schoolId, 'daily-2026-11-23', 'b'), store.claimRun(h.deps.schoolId, 'daily-2026-11-23', 'c')]);
    expect([a.claimed, b.claimed].filter(Boolean)).toHaveLength(1);
  });

  it('when the instance running the day is killed, another instance runs the audit within a minute of its last heartbeat', async () => {
    let now = new Date('2026-11-23T02:00:00Z');
    const clock = (): Date => now;
    const h = await createEnforcementHarness({ pupils: 1, now: clock });
    const audits = (): number => h.fake.innerRequests().filter((r) => r.url.startsWith('/admin/teams/userConfigurations/')).length;
    // The holder claimed the day and was killed before its first heartbeat: nothing will ever release it.
    expect(await new ComplianceStore(h.tables, clock).claimRun(h.deps.schoolId, 'daily-2026-11-23', 'killed-instance')).toMatchObject({ claimed: true });
    const survivor = createDailyAuditJob({ enforcement: h.deps, compliance: new ComplianceStore(h.tables, clock), logger: createMemoryLogger('debug'), instanceId: 'survivor' });

    now = new Date('2026-11-23T02:00:30Z');
    await survivor.run();
    expect(audits()).toBe(0);
    now = new Date('2026-11-23T02:01:05Z');
    await survivor.run();
    expect(audits()).toBe(1);
    now = new Date('2026-11-23T02:02:10Z');
    await survivor.run();
    expect(audits()).toBe(1);
    expect((await new ComplianceStore(h.tables, clock).getRun(h.deps.schoolId, 'daily-2026-11-23'))?.kind).toBe('daily');
  });
});
