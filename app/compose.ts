import { DefaultAzureCredential } from '@azure/identity';
import type { CloudAdapter } from 'botbuilder';
import type { AppConfig } from './config';
import { readJsonSetting, ConfigurationError, schoolConfigs } from './config';
import type { Logger } from '../infra/logger';
import { AdapterMessenger, createBotAdapter } from '../bot/adapter';
import { EsafetyBot } from '../bot/esafety-bot';
import { CachedMembershipIndex, FileRoleDirectory, GraphRoleDirectory, parseRolesFile, type RoleDirectory } from '../identity/role-directory';
import { GraphGroupMembersReader } from '../identity/graph-role-groups';
import type { GraphGateway } from '../graph/graph-gateway';
import { RoleCacheStore } from '../records/role-cache-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { IncidentAggregateStore } from '../records/incident-aggregate-store';
import { connectGraph } from './graph-connection';
import type { AppFeature, FeatureContext, FeatureFactory } from './feature';
import { FEATURES } from './features';
import { SchoolRouter } from './school-router';
import { createTabTokenValidator } from './tab-feature';
import { AuditStore } from '../records/audit-store';
import { ConversationStore } from '../records/conversation-store';
import { CounterStore } from '../records/counter-store';
import { IncidentStore } from '../records/incident-store';
import { Tables } from '../records/tables';
import { DEFAULT_RESPONSE_MATRIX, parseResponseMatrix, type ResponseMatrix } from '../school/response-matrix';
import type { AlertDeliveryDependencies, ProactiveMessenger } from '../usecases/deliver-alerts';
import type { PupilPicker, ReportIncidentDependencies } from '../usecases/report-incident';
import { searchStaffForReport, STAFF_DATASET } from '../usecases/staff-picker';
import { GraphPeopleNames, RoleTitleNames } from '../identity/people-names';
import type { Principal } from '../school/roles';

/** Everything the server needs, built once from configuration. Tests build it with their own pieces. */
export interface AppServices {
  config: AppConfig;
  logger: Logger;
  clock: () => Date;
  tables: Tables;
  adapter: CloudAdapter;
  bot: EsafetyBot;
  alerts: AlertDeliveryDependencies;
  report: ReportIncidentDependencies;
  /** Undefined in plan mode (no tenant). */
  graph: GraphGateway | undefined;
  features: AppFeature[];
}

export interface ComposeOverrides {
  clock?: () => Date;
  roles?: RoleDirectory;
  messenger?: ProactiveMessenger;
  pupils?: PupilPicker;
  graph?: GraphGateway;
  features?: readonly FeatureFactory[];
  /** Storage with extra pipeline policies (a benchmark's round-trip counter); built from configuration when absent. */
  tables?: Tables;
}

export function loadResponseMatrix(config: AppConfig): ResponseMatrix {
  if (!config.school.responseMatrixFile) return DEFAULT_RESPONSE_MATRIX;
  const parsed = parseResponseMatrix(readJsonSetting('RESPONSE_MATRIX_FILE', config.school.responseMatrixFile));
  if (!parsed.ok) throw new ConfigurationError(parsed.problems.map((p) => `RESPONSE_MATRIX_FILE: ${p}`));
  return parsed.matrix;
}

export function loadRoleDirectory(config: AppConfig, tables: Tables, clock: () => Date, gateway: GraphGateway | undefined): RoleDirectory {
  if (config.roles.source === 'graph') {
    // loadConfig already insists on GRAPH_MODE=live for ROLES_SOURCE=graph, so the gateway exists.
    return new GraphRoleDirectory({
      schoolId: config.school.id,
      groups: config.roles.groups,
      reader: new GraphGroupMembersReader(gateway!),
      cache: new RoleCacheStore(tables),
      cacheMinutes: config.roles.cacheMinutes,
      clock,
    });
  }
  const file = config.roles.file!;
  try {
    return new FileRoleDirectory(parseRolesFile(readJsonSetting('ROLES_FILE', file), `ROLES_FILE (${file})`));
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError([(error as Error).message]);
  }
}

/** What the schools of one deployment share: one storage account, one tenant, one bot registration. */
interface SharedServices {
  tables: Tables;
  graph: GraphGateway | undefined;
  adapter: CloudAdapter;
}

function composeShared(config: AppConfig, logger: Logger, overrides: ComposeOverrides): SharedServices {
  // Without a connection string, storage is reached with the app's managed identity (no shared keys).
  const tables = overrides.tables ?? new Tables(
    config.tables.connectionString
      ? { connectionString: config.tables.connectionString }
      : { endpoint: config.tables.endpoint, credential: new DefaultAzureCredential() },
  );
  return { tables, graph: overrides.graph ?? connectGraph(config, logger), adapter: createBotAdapter(config.bot, logger) };
}

/**
 * The composition root for a deployment: one `AppServices` per school (one, or each school in SCHOOLS_FILE),
 * sharing storage, Graph and the bot adapter. Each school's services see only its own id, roles and settings,
 * so its records stay in its own partitions.
 */
export function composeSchools(config: AppConfig, logger: Logger, overrides: ComposeOverrides = {}): AppServices[] {
  const configs = schoolConfigs(config);
  if (overrides.roles && configs.length > 1) throw new Error('A roles override serves one school; give each school of a trust its own roles file.');
  const shared = composeShared(config, logger, overrides);
  return configs.map((school) => composeServices(school, configs.length > 1 ? logger.child({ schoolId: school.school.id }) : logger, overrides, shared));
}

/** Every school a deployment serves, and how a request finds its school. */
export interface Deployment {
  schools: AppServices[];
  router: SchoolRouter;
}

/** The whole deployment: each school's services plus the router that sends each request to its school. */
export function composeDeployment(config: AppConfig, logger: Logger, overrides: ComposeOverrides = {}): Deployment {
  const schools = composeSchools(config, logger, overrides);
  // With roles from Entra groups, the directories keep a person → schools index in Tables: one read per request for a trust of any size.
  const index = config.roles.source === 'graph' && schools[0] ? new CachedMembershipIndex(new RoleCacheStore(schools[0].tables)) : undefined;
  return { schools, router: new SchoolRouter(schools, createTabTokenValidator(config), index) };
}

/** The composition root for one school: the one place that turns configuration into connected services. */
export function composeServices(config: AppConfig, logger: Logger, overrides: ComposeOverrides = {}, shared: SharedServices = composeShared(config, logger, overrides)): AppServices {
  const clock = overrides.clock ?? (() => new Date());
  const { tables, graph, adapter } = shared;
  const schoolId = config.school.id;
  const incidents = new IncidentStore(tables);
  const conversations = new ConversationStore(tables);
  const roles = overrides.roles ?? loadRoleDirectory(config, tables, clock, graph);
  const report: ReportIncidentDependencies = {
    schoolId,
    incidents,
    counters: new CounterStore(tables),
    audit: new AuditStore(tables, clock),
    roles,
    // The pupil register that provisioning keeps; before the first run it is empty and the card offers "a pupil who is not in this list".
    pupils: overrides.pupils ?? new PupilRegisterStore(tables),
    matrix: loadResponseMatrix(config),
    clock,
    aggregates: new IncidentAggregateStore(tables),
    retention: config.retention,
  };
  const alerts: AlertDeliveryDependencies = {
    schoolId,
    incidents,
    conversations,
    messenger: overrides.messenger ?? new AdapterMessenger(adapter, config.bot.appId),
    clock,
    logger,
  };
  const context: FeatureContext = { config, logger, clock, tables, graph, roles, audit: report.audit, incidents, conversations, messenger: alerts.messenger, adapter, report };
  const features = (overrides.features ?? FEATURES).map((create) => create(context));
  // The report card's "which member of staff?" picker (subjectStaff) searches the role directory as the user types.
  const people = graph ? new GraphPeopleNames(graph, new RoleTitleNames(roles), { clock }) : new RoleTitleNames(roles);
  const staff = { schoolId, roles, people, audit: report.audit };
  const searchDatasets = [{ name: STAFF_DATASET, search: (principal: Principal, query: { text: string }, correlationId: string) => searchStaffForReport(staff, principal, query, correlationId) }];
  const bot = new EsafetyBot({ schoolId, roles, conversations, report, alerts, logger, clock, searchDatasets, features: features.flatMap((f) => (f.bot ? [f.bot] : [])) });
  return { config, logger, clock, tables, adapter, bot, alerts, report, graph, features };
}
