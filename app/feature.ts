import type { CloudAdapter } from 'botbuilder';
import type { Server } from 'restify';
import type { AppConfig } from './config';
import type { Logger } from '../infra/logger';
import type { BotFeature } from '../bot/bot-feature';
import type { GraphGateway } from '../graph/graph-gateway';
import type { RoleDirectory } from '../identity/role-directory';
import type { AuditStore } from '../records/audit-store';
import type { ConversationStore } from '../records/conversation-store';
import type { IncidentStore } from '../records/incident-store';
import type { Tables } from '../records/tables';
import type { ProactiveMessenger } from '../usecases/deliver-alerts';
import type { ReportIncidentDependencies } from '../usecases/report-incident';

/** The shared services a feature is built from; it never reads configuration from anywhere else. */
export interface FeatureContext {
  config: AppConfig;
  logger: Logger;
  clock: () => Date;
  tables: Tables;
  /** Undefined in plan mode (no tenant). */
  graph: GraphGateway | undefined;
  roles: RoleDirectory;
  audit: AuditStore;
  incidents: IncidentStore;
  conversations: ConversationStore;
  messenger: ProactiveMessenger;
  adapter: CloudAdapter;
  /** The /report use case's dependencies, for features that open an incident (a filtering alert's triage). */
  report?: ReportIncidentDependencies;
}

/** Work the server repeats. `run` must be safe when several instances run it at once (claim with an etag). */
export interface ScheduledJob {
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

/** What a feature plugs into the app: bot commands and card verbs, HTTP routes, scheduled jobs. */
export interface AppFeature {
  name: string;
  bot?: BotFeature;
  routes?(server: Server): void;
  jobs?: ScheduledJob[];
  /** Runs once when the server starts listening, without holding up start-up; failures are the feature's to log. */
  startup?(): Promise<void>;
  /**
   * Features whose start-up check depends only on the tenant (e.g. Teams policies by name) give the same key in
   * every school of a trust, and the server runs the check once per key, not once per school.
   */
  startupKey?: string;
}

export type FeatureFactory = (context: FeatureContext) => AppFeature;
