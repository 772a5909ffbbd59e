import { readFileSync } from 'node:fs';
import type { PupilProvisioningSettings } from '../usecases/provision-pupils';
import type { PrivacySettings } from '../school/privacy-notice';
import { deploymentSignals, ROLE_NAMES, SETTINGS, type SettingSpec } from './config-settings';

export { deploymentSignals, ROLE_NAMES, SETTINGS, type SettingSpec };

/** Azurite's well-known development account; safe to name, it is published in Azurite's README. */
export const AZURITE_TABLES_CONNECTION_STRING =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
  'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
  'TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

/**
 * Where evidence attachments go when BLOB_CONNECTION_STRING is not set: the same account as the tables. Azurite
 * runs its Blob service on 10000 beside Tables on 10002, so a local string without a BlobEndpoint gets one.
 */
export function blobConnectionFor(tablesConnectionString: string | undefined): string | undefined {
  if (!tablesConnectionString || /BlobEndpoint=/i.test(tablesConnectionString)) return tablesConnectionString;
  const local = /TableEndpoint=(http:\/\/(?:127\.0\.0\.1|localhost)):10002(\/[^;]*)?/i.exec(tablesConnectionString);
  if (local) return `${tablesConnectionString.replace(/;?$/, ';')}BlobEndpoint=${local[1]}:10000${local[2] ?? ''};`;
  return /TableEndpoint=/i.test(tablesConnectionString) ? undefined : tablesConnectionString;
}

export type GraphMode = 'plan' | 'live';
export type GraphAuth = 'client-credentials' | 'device-code' | 'token';
export type RolesSource = 'file' | 'graph';

/** Every setting the app reads, already validated. */
export interface AppConfig {
  /**
   * True when running anywhere but a developer's machine: on App Service (it sets WEBSITE_SITE_NAME and
   * WEBSITE_INSTANCE_ID), with NODE_ENV=production, or with an APP_PUBLIC_URL that is not loopback.
   * Deployed, start-up refuses without bot authentication and tab SSO, and the local sign-in routes do not exist.
   */
  deployed: boolean;
  /** The facts that made it deployed (setting names only, never values), for the start-up log. */
  deployedBecause: string[];
  /** How long a provisioning run, a daily job or an alert claim is held without its heartbeat before another may take it over (LEASE_SECONDS). */
  leaseMs: number;
  port: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  school: {
    id: string;
    name: string;
    domain: string;
    responseMatrixFile: string | undefined;
    /** Incidents per pupil per term at which the case view suggests the matrix's escalation. */
    repeatIncidentThreshold?: number;
  };
  tables: {
    connectionString: string | undefined;
    endpoint: string | undefined;
  };
  /** Evidence attachments (Azure Blob Storage): a connection string, or an endpoint reached with managed identity. */
  blob?: {
    connectionString: string | undefined;
    endpoint: string | undefined;
  };
  bot: {
    appId: string;
    appPassword: string;
    appType: 'SingleTenant' | 'MultiTenant' | 'UserAssignedMSI';
    tenantId: string;
    /** Certificate credential instead of a password: its thumbprint and PEM private key (read from MicrosoftAppCertificateKeyFile). */
    certificate: { thumbprint: string; privateKey: string } | undefined;
    /**
     * Tenants whose activities the bot accepts when deployed: MicrosoftAppTenantId and each trust school's
     * `tenantId`. Empty in local development, where no tenant is checked.
     */
    allowedTenantIds: string[];
  };
  roles: {
    source: RolesSource;
    file: string | undefined;
    /** Entra security group display names per role, used when `source` is `graph`. */
    groups: Record<string, string>;
    cacheMinutes: number;
  };
  graph: {
    mode: GraphMode;
    auth: GraphAuth;
    baseUrl: string;
    authorityHost: string;
    tenantId: string;
    clientId: string;
    clientSecret: string | undefined;
    certificatePath: string | undefined;
    accessToken: string | undefined;
    concurrency: number;
  };
  enforcement: {
    /** Daily audit time, HH:MM in the school's time zone (Europe/London). */
    auditTime: string;
    /** Ids of class teams to audit; empty means every team whose members include pupils. */
    classTeamIds: string[];
  };
  aup: {
    documentsDir: string;
    reminderDays: number;
    accessGate: boolean;
    /** The app's id in the tenant's Teams app catalog, so campaigns can install the bot for people it cannot reach yet. */
    teamsAppCatalogId: string | undefined;
  };
  tab: {
    /** Public https origin the tab is served from (for the manifest and CSP). */
    publicUrl: string;
    /** The expected issuer; `{tenantid}` stands for the token's tenant (Entra's own multi-tenant form). */
    authIssuer: string;
    /** Where the signing keys are published; `{tenantid}` as in `authIssuer`. */
    authJwksUri: string;
    authAudience: string;
    /**
     * Tenants whose users may sign in to this school's tabs: the school's own. At the deployment (the trust's router),
     * every school's tenant, as for the bot's `allowedTenantIds`.
     */
    tenantIds: string[];
    /** Signs the stand-in identity used outside Teams in local development; empty disables it. */
    localIdentitySecret: string | undefined;
  };
  /** How long incidents are kept when not every involved pupil's date of birth is known (DOB + 25 years otherwise). */
  retention: { fallbackYears: number; from: 'created' | 'closed' };
  /** Who the privacy notice names as controller and DPO (UK GDPR Art. 13(1)(a)-(b)); no DPO when deployed without DPO_EMAIL. */
  dataProtection?: PrivacySettings;
  /** Set when SCHOOLS_FILE lists the schools of a trust that this deployment serves; `school` and `roles` are then the first school's. */
  trust: { schools: SchoolEntry[] } | undefined;
  pupils: {
    usernamePattern: string;
    skuPartNumber: string;
    disabledPlans: string[];
    allPupilsGroup: string;
    cohortGroupPattern: string;
    messagingPolicy: string;
    meetingPolicy: string;
    forcePasswordChange: boolean;
    leaverGraceDays: number;
  };
}

/** The provisioning rules for this school, as the provisioning engine takes them (the CLI and the Admin tab share this). */
export function pupilProvisioningSettingsOf(config: Pick<AppConfig, 'school' | 'pupils'>): PupilProvisioningSettings {
  const { leaverGraceDays: _leaverGraceDays, ...rules } = config.pupils;
  return { domain: config.school.domain, ...rules };
}

/**
 * One school of a trust, as SCHOOLS_FILE lists it. Everything not given here is the deployment's setting
 * (Graph, storage, the bot, the pupil rules). Records are partitioned by `id`.
 */
export interface SchoolEntry {
  id: string;
  name: string;
  domain: string;
  /** The school's Entra tenant when it differs from MicrosoftAppTenantId (a trust spread over tenants, with a MultiTenant bot). */
  tenantId?: string;
  /** With ROLES_SOURCE=file: this school's roles file. */
  rolesFile?: string;
  /** With ROLES_SOURCE=graph: this school's security group per role. */
  roleGroups?: Record<string, string>;
  aupDocumentsDir?: string;
  responseMatrixFile?: string;
}

/** The configuration each school runs with: one for a single school, one per SCHOOLS_FILE entry for a trust. */
export function schoolConfigs(config: AppConfig): AppConfig[] {
  if (!config.trust) return [config];
  return config.trust.schools.map((entry) => ({
    ...config,
    school: { id: entry.id, name: entry.name, domain: entry.domain, responseMatrixFile: entry.responseMatrixFile ?? config.school.responseMatrixFile, repeatIncidentThreshold: config.school.repeatIncidentThreshold },
    roles: { ...config.roles, file: entry.rolesFile ?? config.roles.file, groups: entry.roleGroups ?? config.roles.groups },
    aup: { ...config.aup, documentsDir: entry.aupDocumentsDir ?? config.aup.documentsDir },
    // Each school's pages take sign-ins from its own tenant only.
    tab: { ...config.tab, tenantIds: [entry.tenantId ?? (config.bot.tenantId || config.graph.tenantId).toLowerCase()].filter(Boolean) },
  }));
}

/** Reads and checks SCHOOLS_FILE; every problem is added to `problems`, naming the school. */
function readSchoolsFile(path: string, rolesSource: RolesSource, problems: string[]): SchoolEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`SCHOOLS_FILE points at ${path}, which could not be read as JSON: ${(error as Error).message}`);
    return [];
  }
  const list = (parsed as { schools?: unknown } | null)?.schools;
  if (!Array.isArray(list) || list.length === 0) {
    problems.push('SCHOOLS_FILE must be a JSON object with a non-empty "schools" list.');
    return [];
  }
  const seen = new Set<string>();
  const schools: SchoolEntry[] = [];
  list.forEach((raw: unknown, index) => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const label = `SCHOOLS_FILE school ${index + 1}${typeof entry.id === 'string' ? ` ("${entry.id}")` : ''}`;
    const str = (key: string): string | undefined => (typeof entry[key] === 'string' && (entry[key] as string).trim() !== '' ? (entry[key] as string).trim() : undefined);
    const id = str('id') ?? '';
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(id)) problems.push(`${label}: "id" must be lower-case letters, digits and hyphens.`);
    else if (seen.has(id)) problems.push(`${label}: the id "${id}" is used twice; each school's records are kept under its own id.`);
    seen.add(id);
    const name = str('name');
    const domain = str('domain');
    if (!name) problems.push(`${label}: "name" is required (it is shown on cards and slips).`);
    if (!domain) problems.push(`${label}: "domain" is required (pupil usernames end with it).`);
    const school: SchoolEntry = { id, name: name ?? '', domain: (domain ?? '').toLowerCase() };
    if (rolesSource === 'file') {
      const rolesFile = str('rolesFile');
      if (!rolesFile) problems.push(`${label}: "rolesFile" is required with ROLES_SOURCE=file, so that each school has its own people.`);
      else school.rolesFile = rolesFile;
    } else {
      const groups = entry.roleGroups;
      const valid = typeof groups === 'object' && groups !== null && !Array.isArray(groups) ? (groups as Record<string, unknown>) : {};
      const roleGroups: Record<string, string> = {};
      for (const [role, group] of Object.entries(valid)) {
        if (!(ROLE_NAMES as readonly string[]).includes(role)) problems.push(`${label}: "roleGroups" has an unknown role "${role}".`);
        else if (typeof group === 'string' && group.trim()) roleGroups[role] = group.trim();
      }
      for (const role of ['staff', 'coordinator', 'dsl', 'headteacher'] as const) {
        if (!roleGroups[role]) problems.push(`${label}: "roleGroups.${role}" is required with ROLES_SOURCE=graph.`);
      }
      school.roleGroups = roleGroups;
    }
    const tenantId = str('tenantId');
    if (tenantId !== undefined) {
      if (!GUID.test(tenantId)) problems.push(`${label}: "tenantId" must be an Entra tenant id (a GUID).`);
      else school.tenantId = tenantId.toLowerCase();
    }
    const aupDocumentsDir = str('aupDocumentsDir');
    if (aupDocumentsDir) school.aupDocumentsDir = aupDocumentsDir;
    const responseMatrixFile = str('responseMatrixFile');
    if (responseMatrixFile) school.responseMatrixFile = responseMatrixFile;
    schools.push(school);
  });
  return schools;
}

/** A setting that is missing or malformed; start-up reports all of them at once. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(readonly problems: string[]) {
    super(
      `The app cannot start because ${problems.length === 1 ? 'one setting needs' : `${problems.length} settings need`} attention:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        '\nSee .env.example for every setting and its purpose.',
    );
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const defaults = Object.fromEntries(SETTINGS.filter((s) => s.default !== undefined).map((s) => [s.name, s.default]));

export interface LoadOptions {
  /**
   * `server` (the default) applies the deployed-mode rules; `tool` is for command-line tools and scripts that
   * neither answer the bot nor serve the tab, run by an admin whose .env names the deployment's public URL.
   */
  purpose?: 'server' | 'tool';
}

/**
 * Reads and validates every setting. This is the only module that reads `process.env`;
 * everything else receives an `AppConfig`.
 */
export function loadConfig(env: Env = process.env, options: LoadOptions = {}): AppConfig {
  const problems: string[] = [];
  const text = (name: string): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? (defaults[name] ?? '') : value;
  };
  const optional = (name: string): string | undefined => text(name) || undefined;
  const integer = (name: string, min: number, max: number): number => {
    const raw = text(name);
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}").`);
      return Number(defaults[name] ?? min);
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T => {
    const value = text(name) as T;
    if (!allowed.includes(value)) problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}").`);
    return allowed.includes(value) ? value : (defaults[name] as T);
  };
  const boolean = (name: string): boolean => {
    const value = text(name).toLowerCase();
    if (!['true', 'false'].includes(value)) problems.push(`${name} must be true or false (got "${value}").`);
    return value === 'true';
  };
  const url = (name: string): string => {
    const value = text(name).replace(/\/+$/, '');
    if (!/^https?:\/\/[^\s/]+/.test(value)) problems.push(`${name} must be an http(s) URL (got "${value}").`);
    return value;
  };

  const schoolId = text('SCHOOL_ID');
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(schoolId)) {
    problems.push(`SCHOOL_ID must be lower-case letters, digits and hyphens (got "${schoolId}").`);
  }
  const graphMode = oneOf<GraphMode>('GRAPH_MODE', ['plan', 'live']);
  const graphAuth = oneOf<GraphAuth>('GRAPH_AUTH', ['client-credentials', 'device-code', 'token']);
  const rolesSource = oneOf<RolesSource>('ROLES_SOURCE', ['file', 'graph']);
  const groups: Record<string, string> = {};
  for (const role of ROLE_NAMES) {
    const group = optional(`ROLE_GROUP_${role.toUpperCase()}`);
    if (group) groups[role] = group;
  }

  const schoolsFile = optional('SCHOOLS_FILE');
  const trustSchools = schoolsFile ? readSchoolsFile(schoolsFile, rolesSource, problems) : undefined;
  const firstSchool = trustSchools?.[0];

  const explicitConnection = env.TABLES_CONNECTION_STRING?.trim() || undefined;
  const tablesEndpoint = optional('TABLES_ENDPOINT');

  const deployedBecause = deploymentSignals(env);
  const deployed = deployedBecause.length > 0;
  const certificateThumbprint = optional('MicrosoftAppCertificateThumbprint');
  const certificateKeyFile = optional('MicrosoftAppCertificateKeyFile');
  let certificate: AppConfig['bot']['certificate'];
  if (certificateThumbprint || certificateKeyFile) {
    if (!certificateThumbprint || !certificateKeyFile) {
      problems.push('MicrosoftAppCertificateThumbprint and MicrosoftAppCertificateKeyFile go together: set both, or neither.');
    } else {
      try {
        certificate = { thumbprint: certificateThumbprint, privateKey: readFileSync(certificateKeyFile, 'utf8') };
      } catch {
        problems.push(`MicrosoftAppCertificateKeyFile points at ${certificateKeyFile}, which could not be read.`);
      }
    }
  }

  const config: AppConfig = {
    deployed,
    deployedBecause,
    port: integer('PORT', 0, 65535),
    leaseMs: integer('LEASE_SECONDS', 2, 60) * 1000,
    logLevel: oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error']),
    school: {
      id: firstSchool?.id ?? schoolId,
      name: firstSchool?.name ?? text('SCHOOL_NAME'),
      domain: firstSchool?.domain ?? text('SCHOOL_DOMAIN').toLowerCase(),
      responseMatrixFile: firstSchool?.responseMatrixFile ?? optional('RESPONSE_MATRIX_FILE'),
      repeatIncidentThreshold: integer('REPEAT_INCIDENT_THRESHOLD', 2, 20),
    },
    tables: {
      connectionString: explicitConnection ?? (tablesEndpoint ? undefined : AZURITE_TABLES_CONNECTION_STRING),
      endpoint: tablesEndpoint,
    },
    blob: {
      connectionString: optional('BLOB_CONNECTION_STRING') ?? (optional('BLOB_ENDPOINT') ? undefined : blobConnectionFor(explicitConnection ?? (tablesEndpoint ? undefined : AZURITE_TABLES_CONNECTION_STRING))),
      endpoint: optional('BLOB_ENDPOINT'),
    },
    bot: {
      appId: text('MicrosoftAppId'),
      appPassword: text('MicrosoftAppPassword'),
      appType: oneOf('MicrosoftAppType', ['SingleTenant', 'MultiTenant', 'UserAssignedMSI']),
      tenantId: text('MicrosoftAppTenantId'),
      certificate,
      allowedTenantIds: [],
    },
    roles: {
      source: rolesSource,
      file: firstSchool?.rolesFile ?? optional('ROLES_FILE'),
      groups: firstSchool?.roleGroups ?? groups,
      cacheMinutes: integer('ROLES_CACHE_MINUTES', 0, 24 * 60),
    },
    graph: {
      mode: graphMode,
      auth: graphAuth,
      baseUrl: url('GRAPH_BASE_URL'),
      authorityHost: url('GRAPH_AUTHORITY_HOST'),
      tenantId: text('GRAPH_TENANT_ID'),
      clientId: text('GRAPH_CLIENT_ID'),
      clientSecret: optional('SECRET_GRAPH_CLIENT_SECRET'),
      certificatePath: optional('GRAPH_CERTIFICATE_PATH'),
      accessToken: optional('GRAPH_ACCESS_TOKEN'),
      concurrency: integer('GRAPH_CONCURRENCY', 1, 32),
    },
    enforcement: {
      auditTime: text('ENFORCE_AUDIT_TIME'),
      classTeamIds: text('CLASS_TEAM_IDS').split(',').map((id) => id.trim()).filter(Boolean),
    },
    aup: {
      documentsDir: text('AUP_DOCUMENTS_DIR'),
      reminderDays: integer('AUP_REMINDER_DAYS', 1, 365),
      accessGate: boolean('AUP_ACCESS_GATE'),
      teamsAppCatalogId: optional('AUP_TEAMS_APP_CATALOG_ID'),
    },
    tab: {
      publicUrl: '',
      authIssuer: '',
      authJwksUri: '',
      authAudience: '',
      tenantIds: [],
      localIdentitySecret: optional('SECRET_LOCAL_IDENTITY_KEY'),
    },
    retention: { fallbackYears: integer('RETENTION_FALLBACK_YEARS', 1, 100), from: oneOf('RETENTION_FALLBACK_FROM', ['created', 'closed']) },
    dataProtection: privacySettingsOf(optional, deployed, firstSchool?.domain ?? text('SCHOOL_DOMAIN').toLowerCase(), problems),
    trust: trustSchools ? { schools: trustSchools } : undefined,
    pupils: {
      usernamePattern: text('PUPIL_USERNAME_PATTERN'),
      skuPartNumber: text('PUPIL_SKU'),
      disabledPlans: text('PUPIL_DISABLED_PLANS').split(',').map((p) => p.trim()).filter(Boolean),
      allPupilsGroup: text('PUPIL_GROUP_ALL'),
      cohortGroupPattern: text('PUPIL_COHORT_GROUP_PATTERN'),
      messagingPolicy: text('PUPIL_MESSAGING_POLICY'),
      meetingPolicy: text('PUPIL_MEETING_POLICY'),
      forcePasswordChange: boolean('PUPIL_FORCE_PASSWORD_CHANGE'),
      leaverGraceDays: integer('LEAVER_GRACE_DAYS', 0, 3650),
    },
  };

  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(config.enforcement.auditTime)) problems.push(`ENFORCE_AUDIT_TIME must be HH:MM (got "${config.enforcement.auditTime}").`);
  const tenantForAuth = config.bot.tenantId || config.graph.tenantId;
  const publicUrl = (text('APP_PUBLIC_URL') || `http://localhost:${config.port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+$/.test(publicUrl)) problems.push(`APP_PUBLIC_URL must be an origin such as https://esafety.example.org (got "${publicUrl}").`);
  config.tab.publicUrl = publicUrl;
  // Entra v2 tokens name their tenant in the issuer; a trust spread over tenants checks each token against its own.
  // https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-issuer
  config.tab.tenantIds = [...new Set([tenantForAuth, ...(trustSchools ?? []).map((s) => s.tenantId ?? '')].filter(Boolean).map((t) => t.toLowerCase()))];
  const anyTenant = config.tab.tenantIds.length > 0;
  config.tab.authIssuer = text('AUTH_ISSUER') || (anyTenant ? 'https://login.microsoftonline.com/{tenantid}/v2.0' : '');
  config.tab.authJwksUri = text('AUTH_JWKS_URI') || (anyTenant ? 'https://login.microsoftonline.com/{tenantid}/discovery/v2.0/keys' : '');
  config.tab.authAudience = text('AUTH_AUDIENCE') || (config.bot.appId ? `api://${new URL(publicUrl).host}/${config.bot.appId}` : '');
  if (config.bot.appId && (!config.tab.authIssuer || !config.tab.authJwksUri)) {
    problems.push('MicrosoftAppTenantId (or AUTH_ISSUER and AUTH_JWKS_URI) is required so the tab can check sign-in tokens.');
  }

  if (!config.pupils.usernamePattern.includes('{forename}')) {
    problems.push('PUPIL_USERNAME_PATTERN must contain {forename}.');
  }
  if (!config.pupils.cohortGroupPattern.includes('{cohort}')) {
    problems.push('PUPIL_COHORT_GROUP_PATTERN must contain {cohort}.');
  }
  if (rolesSource === 'file' && !config.roles.file) problems.push('ROLES_FILE is required when ROLES_SOURCE=file.');
  if (rolesSource === 'graph' && !trustSchools) {
    for (const role of ['staff', 'coordinator', 'dsl', 'headteacher'] as const) {
      if (!groups[role]) problems.push(`ROLE_GROUP_${role.toUpperCase()} is required when ROLES_SOURCE=graph.`);
    }
  }
  if (rolesSource === 'graph' && graphMode !== 'live') problems.push('ROLES_SOURCE=graph needs GRAPH_MODE=live.');
  if (graphMode === 'live') {
    if (!config.graph.tenantId && graphAuth !== 'token') problems.push('GRAPH_TENANT_ID is required when GRAPH_MODE=live.');
    if (!config.graph.clientId && graphAuth !== 'token') problems.push('GRAPH_CLIENT_ID is required when GRAPH_MODE=live.');
    if (graphAuth === 'client-credentials' && !config.graph.clientSecret && !config.graph.certificatePath) {
      problems.push('GRAPH_AUTH=client-credentials needs SECRET_GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH.');
    }
    if (graphAuth === 'token' && !config.graph.accessToken) problems.push('GRAPH_AUTH=token needs GRAPH_ACCESS_TOKEN.');
    for (const school of schoolConfigsOf(config)) {
      if (school.domain === defaults.SCHOOL_DOMAIN) problems.push(`${config.trust ? `SCHOOLS_FILE school "${school.id}": "domain"` : 'SCHOOL_DOMAIN'} must be the school's own domain when GRAPH_MODE=live.`);
    }
  }
  if (config.bot.appId && !config.bot.appPassword && !config.bot.certificate && config.bot.appType !== 'UserAssignedMSI') {
    problems.push('MicrosoftAppPassword is required when MicrosoftAppId is set (or a certificate, or MicrosoftAppType=UserAssignedMSI).');
  }
  if (config.bot.tenantId && !GUID.test(config.bot.tenantId)) problems.push(`MicrosoftAppTenantId must be an Entra tenant id (a GUID) (got "${config.bot.tenantId}").`);
  if (deployed) {
    config.bot.allowedTenantIds = [...new Set([config.bot.tenantId.toLowerCase(), ...(trustSchools ?? []).map((s) => s.tenantId ?? '')].filter(Boolean))];
    if (options.purpose !== 'tool') problems.push(...deployedProblems(config, Boolean(env.APP_PUBLIC_URL?.trim())));
  }

  if (problems.length > 0) throw new ConfigurationError(problems);
  return config;
}

/**
 * What a deployed server must have before it takes its first request: each missing safeguard is a problem,
 * never a warning, because a server that starts without it accepts forged reports or hands out tokens.
 */
function deployedProblems(config: AppConfig, publicUrlSet: boolean): string[] {
  const problems: string[] = [];
  const why = '(this server runs deployed: see "Deployed mode" in the README)';
  if (!config.bot.appId) problems.push(`MicrosoftAppId is required ${why}; without it the bot accepts activities from anyone.`);
  if (!config.bot.tenantId && !config.trust?.schools.every((s) => s.tenantId)) {
    problems.push(`MicrosoftAppTenantId is required ${why}; the bot only accepts activities from the school's tenant.`);
  }
  if (config.tab.localIdentitySecret) problems.push(`SECRET_LOCAL_IDENTITY_KEY must not be set ${why}; it lets anyone sign in to the tab as anyone.`);
  if (!publicUrlSet || !config.tab.publicUrl.startsWith('https://')) {
    problems.push(`APP_PUBLIC_URL must be the app's public https origin ${why}; Teams only loads tabs over https and the SSO audience is built from it.`);
  }
  if (!config.tab.authIssuer || !config.tab.authJwksUri || !config.tab.authAudience) {
    problems.push(`Tab SSO is not configured ${why}: set MicrosoftAppId and MicrosoftAppTenantId (or AUTH_ISSUER, AUTH_JWKS_URI and AUTH_AUDIENCE).`);
  }
  return problems;
}

/**
 * The privacy notice's controller and DPO. A school must publish its DPO's contact details (UK GDPR Art. 37(7))
 * and name them in its notice (Art. 13(1)(b)). Locally the DPO defaults to dpo@SCHOOL_DOMAIN; deployed there is no
 * default, and /privacy then answers 503 instead of publishing an incomplete notice. Start-up is not refused: a
 * missing email address must not stop staff reporting safeguarding concerns.
 */
function privacySettingsOf(optional: (name: string) => string | undefined, deployed: boolean, domain: string, problems: string[]): PrivacySettings {
  const email = (name: string): string | undefined => {
    const value = optional(name);
    if (value !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) problems.push(`${name} must be an email address (got "${value}").`);
    return value;
  };
  const icoRegistrationNumber = optional('ICO_REGISTRATION_NUMBER')?.toUpperCase();
  if (icoRegistrationNumber !== undefined && !/^Z[A-Z0-9]\d{6}$/.test(icoRegistrationNumber)) {
    problems.push(`ICO_REGISTRATION_NUMBER must be the ICO's registration number, such as Z1234567 or ZA123456 (got "${icoRegistrationNumber}").`);
  }
  const phone = optional('DPO_PHONE');
  if (phone !== undefined && !/^\+?[0-9 ()-]{6,24}$/.test(phone)) problems.push(`DPO_PHONE must be a telephone number (got "${phone}").`);
  const dpoEmail = email('DPO_EMAIL') ?? (deployed ? undefined : `dpo@${domain}`);
  return {
    controllerName: optional('DATA_CONTROLLER_NAME'),
    address: optional('SCHOOL_ADDRESS'),
    contactEmail: email('SCHOOL_CONTACT_EMAIL'),
    icoRegistrationNumber,
    dpo: dpoEmail ? { name: optional('DPO_NAME') ?? 'The school\'s Data Protection Officer', email: dpoEmail, phone } : undefined,
    localAuthority: optional('LOCAL_AUTHORITY_NAME'),
  };
}

function schoolConfigsOf(config: AppConfig): AppConfig['school'][] {
  return schoolConfigs(config).map((c) => c.school);
}

/** Reads a JSON file named by a setting, with an error that names the setting. */
export function readJsonSetting<T>(settingName: string, path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new ConfigurationError([`${settingName} points at ${path}, which could not be read as JSON: ${(error as Error).message}`]);
  }
}
