import { attachmentStoreFor } from './attachments';
import type { AttachmentStore } from '../records/attachment-store';
import { randomUUID } from 'node:crypto';
import type { FeatureContext, FeatureFactory, ScheduledJob } from './feature';
import type { Logger } from '../infra/logger';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { RetentionReviewStore } from '../records/retention-review-store';
import { reviewRetention, type RetentionDependencies } from '../usecases/incident-retention';
import { startHeartbeat } from '../usecases/lease-heartbeat';
import { londonDateTime } from '../usecases/schedule-class-meeting';

/** The review runs once a UK day, from this hour (quiet, after the night's policy audit). */
export const RETENTION_REVIEW_HOUR = 3;

/** What the daily retention review needs. */
export interface RetentionJobOptions {
  retention: RetentionDependencies;
  reviews: Pick<RetentionReviewStore, 'claimDay' | 'releaseDay' | 'renewDay' | 'completeDay'>;
  logger: Logger;
  instanceId?: string;
  everyMs?: number;
  /** How long the day's claim lasts without its heartbeat (LEASE_SECONDS); a crashed holder's day is taken over after it. */
  leaseMs?: number;
}

/**
 * Once a UK day (from 03:00) one instance claims the day in Tables and lists the incidents past their retention
 * date for the DSL or the head. It never deletes: deletion needs their approval in the Incidents tab.
 */
export function createRetentionReviewJob(options: RetentionJobOptions): ScheduledJob {
  const { retention, reviews, logger } = options;
  const instanceId = options.instanceId ?? randomUUID();
  let settledDay: string | undefined;
  return {
    name: 'retention.daily-review',
    everyMs: options.everyMs ?? 15 * 60_000,
    async run(): Promise<void> {
      const local = londonDateTime(retention.clock());
      const day = `${local.y}-${String(local.m).padStart(2, '0')}-${String(local.d).padStart(2, '0')}`;
      if (settledDay === day || local.hour < RETENTION_REVIEW_HOUR) return;
      const leaseMs = options.leaseMs ?? 60_000;
      // Not settled when another instance holds the day: if it dies, this one takes over within a lease.
      const claimed = await reviews.claimDay(retention.schoolId, day, instanceId, retention.clock().toISOString(), leaseMs);
      if (!claimed) return;
      const heartbeat = startHeartbeat({
        ttlMs: leaseMs,
        renew: () => reviews.renewDay(retention.schoolId, day, instanceId, retention.clock().toISOString()),
        onLost: (reason) => logger.warn('retention.claim-lost', { day, reason }),
      });
      try {
        const run = await reviewRetention(retention);
        await reviews.completeDay(retention.schoolId, day, retention.clock().toISOString());
        settledDay = day;
        logger.info('retention.reviewed', { day, due: run.due.length, withdrawn: run.withdrawn.length, onLegalHold: run.onLegalHold });
      } catch (error) {
        await reviews.releaseDay(retention.schoolId, day).catch(() => undefined);
        logger.error('retention.review-failed', { day, errorName: (error as Error).name });
        throw error;
      } finally {
        heartbeat.stop();
      }
    },
  };
}

/** The retention dependencies for a school, shared by the daily job and the tab's review endpoints. */
export function retentionDependencies(context: FeatureContext): RetentionDependencies {
  return {
    schoolId: context.config.school.id,
    incidents: context.incidents,
    reviews: new RetentionReviewStore(context.tables),
    pupils: new PupilRegisterStore(context.tables),
    audit: context.audit,
    rule: context.config.retention,
    clock: context.clock,
    ...withAttachments(attachmentStoreFor(context)),
  };
}

const withAttachments = (store: AttachmentStore | undefined) => (store ? { attachments: store } : {});

/** Incident retention: the daily review job (the review list and approvals are in the tab). */
export const retentionFeature: FeatureFactory = (context) => {
  const logger = context.logger.child({ feature: 'retention' });
  return {
    name: 'retention',
    jobs: [createRetentionReviewJob({ retention: retentionDependencies(context), reviews: new RetentionReviewStore(context.tables), logger, leaseMs: context.config.leaseMs })],
  };
};
