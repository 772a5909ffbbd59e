import { defaultPupilConfig } from '../test/support/school-settings';
import { MAX_BATCH_SIZE } from '../graph/graph-batch';
import { createStaticTokenCredential } from '../graph/graph-credentials';
import { createGraphGateway } from '../graph/graph-gateway';
import type { PupilRecord } from '../records/pupil-register-store';
import { auditPupilPolicies } from '../usecases/enforce-pupil-policies';
import { formatMs } from './bench-support';

/**
 * Audits 1,000 pupils (and the class teams they belong to) against the Graph fake's loopback HTTP server,
 * 20 ms per answer. The register is held in memory: this measures the Graph side only.
 *
 *   npx tsx bench/enforce.bench.ts [pupils=1000] [--concurrency N=4]
 *
 * Batched minimum: each gateway operation is one batched send of its requests in batches of 20, so the
 * minimum is the sum over operations of ceil(requests / 20): policy ids (2), SKUs (1), groups (names),
 * users, memberOf, userConfigurations (one each per pupil) and teams (one per candidate group).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--concurrency');
  const concurrency = at >= 0 ? Number(args[at + 1]) : 4;
  const count = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--concurrency') ?? 1000);
  const latencyMs = 20;
  const classSize = 30;

  const { GraphFake } = await import('../test/support/graph-fake');
  const fake = new GraphFake({ latencyMs, checkContract: false, shuffleBatchResponses: false });
  const { sku, messagingPolicyId, meetingPolicyId } = fake.seedSchool();
  const exchange = sku.servicePlans.find((p) => p.servicePlanName === 'EXCHANGE_S_STANDARD')!.servicePlanId;
  const all = fake.addGroup({ displayName: 'All Pupils' });
  fake.assignTeamsPolicyToGroup('TeamsMessagingPolicy', messagingPolicyId, all.id);
  fake.assignTeamsPolicyToGroup('TeamsMeetingPolicy', meetingPolicyId, all.id);
  const cohorts = new Map<string, ReturnType<typeof fake.addGroup>>();
  const classes: ReturnType<typeof fake.addGroup>[] = [];
  const pupils: PupilRecord[] = [];
  for (let i = 0; i < count; i++) {
    const cohort = String(19 + (i % 7));
    if (!cohorts.has(cohort)) cohorts.set(cohort, fake.addGroup({ displayName: `Pupils Cohort ${cohort}` }));
    if (i % classSize === 0) {
      const group = fake.addGroup({ displayName: `Class ${classes.length + 1}`, securityEnabled: false, mailEnabled: true, groupTypes: ['Unified'] });
      const team = fake.addTeam({ displayName: group.displayName });
      fake.teams.delete(team.id);
      team.id = group.id;
      fake.teams.set(group.id, team);
      classes.push(group);
    }
    // Every 10th pupil has drifted: Exchange back on.
    const user = fake.addUser({ userPrincipalName: `${cohort}pupil${i}@bench.example`, assignedLicenses: [{ skuId: sku.skuId, disabledPlans: i % 10 === 0 ? [] : [exchange] }] });
    for (const group of [all, cohorts.get(cohort)!, classes[classes.length - 1]!]) group.members.add(user.id);
    pupils.push({ externalId: `B${i}`, forename: '', surname: '', cohort, userPrincipalName: user.userPrincipalName, userId: user.id, status: 'active', groups: [], createdAt: '', updatedAt: '' });
  }
  const server = await fake.listen();
  const gateway = createGraphGateway({ authProvider: createStaticTokenCredential('bench-token'), baseUrl: server.baseUrl, concurrency });
  try {
    const started = performance.now();
    const report = await auditPupilPolicies({
      schoolId: 'bench',
      config: {
        pupils: defaultPupilConfig(),
        enforcement: { auditTime: '02:00', classTeamIds: [] },
      },
      graph: gateway,
      register: { listPupils: async () => pupils },
      audit: { appendAudit: async () => undefined },
      actorId: 'bench',
      clock: () => new Date(),
    });
    const wallMs = performance.now() - started;
    const batches = (n: number): number => Math.ceil(n / MAX_BATCH_SIZE);
    const groupNames = 1 + cohorts.size;
    const minimum = batches(2) + batches(1) + batches(groupNames) + 3 * batches(count) + batches(classes.length);
    const stats = gateway.stats;
    process.stdout.write(
      [
        `Audited ${report.summary.total} pupils and ${report.summary.teams.total} class teams against the loopback fake (${latencyMs} ms per answer, concurrency ${concurrency}).`,
        `Compliant: ${report.summary.compliant}; drift: ${JSON.stringify(report.summary.driftByKind)}`,
        `Round trips: ${stats.roundTrips} (batched minimum ${minimum}); inner requests ${stats.innerRequests}, retries ${stats.retries}, throttled ${stats.throttled}`,
        `Wall time: ${formatMs(wallMs)} (ideal at this concurrency ≈ ${formatMs((minimum * latencyMs) / concurrency)})`,
        '',
      ].join('\n'),
    );
  } finally {
    await server.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
