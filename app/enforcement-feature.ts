import { randomUUID } from 'node:crypto';
import type { FeatureContext, FeatureFactory, ScheduledJob } from './feature';
import type { Logger } from '../infra/logger';
import { createMeetingCommand } from '../bot/meeting-command';
import { COMPLIANCE_CLAIM_MS, ComplianceStore } from '../records/compliance-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import {
  auditPupilPolicies,
  checkTeamsPolicies,
  MissingTeamsPolicyError,
  recordComplianceRun,
  type EnforcementDependencies,
} from '../usecases/enforce-pupil-policies';
import { startHeartbeat } from '../usecases/lease-heartbeat';
import { londonDateTime } from '../usecases/schedule-class-meeting';

/** The actor id the daily audit writes to the audit log. */
export const DAILY_AUDIT_ACTOR = 'system:enforcement-daily';

/** What the daily audit job needs. */
export interface DailyAuditJobOptions {
  enforcement: EnforcementDependencies;
  compliance: Pick<ComplianceStore, 'claimRun' | 'saveRun' | 'renewClaim'>;
  logger: Logger;
  /** Names this server instance in the claim row. */
  instanceId?: string;
  everyMs?: number;
  /** How long the day's claim lasts without its heartbeat (LEASE_SECONDS); a crashed holder's day is taken over after it. */
  leaseMs?: number;
}

/**
 * Checks each minute whether today's audit (UK date, at or after ENFORCE_AUDIT_TIME UK time) is due, claims it in
 * Tables (createEntity on `run|daily-YYYY-MM-DD`: only one instance wins) and runs it. The audit reports; it does
 * not repair (an admin runs `enforce fix`).
 */
export function createDailyAuditJob(options: DailyAuditJobOptions): ScheduledJob {
  const { enforcement, compliance, logger } = options;
  const instanceId = options.instanceId ?? randomUUID();
  const [dueHour, dueMinute] = enforcement.config.enforcement.auditTime.split(':').map(Number) as [number, number];
  let settledDay: string | undefined;
  return {
    name: 'enforcement.daily-audit',
    everyMs: options.everyMs ?? 60_000,
    async run(): Promise<void> {
      const startedAt = enforcement.clock();
      const local = londonDateTime(startedAt);
      const day = `${local.y}-${String(local.m).padStart(2, '0')}-${String(local.d).padStart(2, '0')}`;
      if (settledDay === day || local.hour * 60 + local.minute < dueHour * 60 + dueMinute) return;
      if (!enforcement.graph) {
        settledDay = day;
        logger.info('enforcement.daily-skipped', { reason: 'plan-mode' });
        return;
      }
      const runId = `daily-${day}`;
      const leaseMs = options.leaseMs ?? COMPLIANCE_CLAIM_MS;
      const claim = await compliance.claimRun(enforcement.schoolId, runId, instanceId, leaseMs);
      // Another instance holds the day: ask again next tick, so its crash costs at most a lease, not the day.
      if (!claim.claimed) {
        if (claim.done) settledDay = day;
        return;
      }
      const heartbeat = startHeartbeat({
        ttlMs: leaseMs,
        renew: () => compliance.renewClaim(enforcement.schoolId, runId, instanceId),
        onLost: (reason) => logger.warn('enforcement.daily-claim-lost', { runId, reason }),
      });
      try {
        const report = await auditPupilPolicies(enforcement);
        await recordComplianceRun(compliance, enforcement.schoolId, report, { runId, kind: 'daily', startedAt: startedAt.toISOString() });
        settledDay = day;
        logger.info('enforcement.daily-audited', { runId, pupils: report.summary.total, compliant: report.summary.compliant });
      } catch (error) {
        // The claim stays "running" and its heartbeat stops: within a lease another tick (here or elsewhere) retries.
        logger.error('enforcement.daily-failed', { runId, errorName: (error as Error).name });
        throw error;
      } finally {
        heartbeat.stop();
      }
    },
  };
}

/**
 * The start-up check: names any pupil Teams policy an admin must create in the Teams admin center (Graph can
 * assign policies but not create them). It logs and lets the server run: incident reporting must not stop for
 * a missing pupil policy, and every audit or fix run checks again and refuses while one is missing.
 */
export async function checkTeamsPoliciesAtStartup(enforcement: Pick<EnforcementDependencies, 'graph' | 'config'>, logger: Logger): Promise<void> {
  if (!enforcement.graph) return;
  try {
    await checkTeamsPolicies(enforcement.graph, enforcement.config.pupils);
    logger.info('enforcement.policies-found', {});
  } catch (error) {
    if (error instanceof MissingTeamsPolicyError) {
      for (const missing of error.missing) logger.error('enforcement.policy-missing', { policyType: missing.type, policyName: missing.name, help: error.message });
    } else logger.warn('enforcement.policy-check-failed', { errorName: (error as Error).name });
  }
}

/** Pupil-policy enforcement: the /meeting command, the start-up policy check and the daily audit. */
export const enforcementFeature: FeatureFactory = (context: FeatureContext) => {
  const logger = context.logger.child({ feature: 'enforcement' });
  const schoolId = context.config.school.id;
  const enforcement: EnforcementDependencies = {
    schoolId,
    config: context.config,
    graph: context.graph,
    register: new PupilRegisterStore(context.tables),
    audit: context.audit,
    actorId: DAILY_AUDIT_ACTOR,
    clock: context.clock,
    logger,
  };
  return {
    name: 'enforcement',
    bot: { commands: [createMeetingCommand({ schoolId, graph: context.graph, audit: context.audit, clock: context.clock, logger })] },
    startup: () => checkTeamsPoliciesAtStartup(enforcement, logger),
    // One tenant, the same policy names: one check for the whole trust.
    startupKey: `teams-policies|${context.config.graph.tenantId}|${context.config.pupils.messagingPolicy}|${context.config.pupils.meetingPolicy}`,
    jobs: [createDailyAuditJob({ enforcement, compliance: new ComplianceStore(context.tables, context.clock), logger, leaseMs: context.config.leaseMs })],
  };
};
