/**
 * Every setting the app reads, with its purpose and default (`.env.example` is checked against this list by a
 * test), and how a deployed process is told apart from a developer's machine. Read only by `config.ts`.
 */

/** One documented setting; `.env.example` is checked against this list by a test. */
export interface SettingSpec {
  name: string;
  purpose: string;
  default?: string;
  secret?: boolean;
}

/** Host names that only reach this machine. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Whether this process runs deployed rather than on a developer's machine, and why (for the start-up log).
 * Decided from facts the platform sets, so that forgetting a setting can never make a deployed server "local":
 * App Service sets WEBSITE_SITE_NAME and WEBSITE_INSTANCE_ID on every instance
 * (https://learn.microsoft.com/azure/app-service/reference-app-settings#app-environment).
 */
export function deploymentSignals(env: Readonly<Record<string, string | undefined>>): string[] {
  const signals: string[] = [];
  for (const name of ['WEBSITE_SITE_NAME', 'WEBSITE_INSTANCE_ID']) if (env[name]?.trim()) signals.push(name);
  if (env.NODE_ENV?.trim().toLowerCase() === 'production') signals.push('NODE_ENV=production');
  const publicUrl = env.APP_PUBLIC_URL?.trim();
  if (publicUrl) {
    let hostname: string | undefined;
    try {
      hostname = new URL(publicUrl).hostname;
    } catch {
      hostname = undefined;
    }
    // An APP_PUBLIC_URL that cannot be read is not proof of a developer's machine either.
    if (hostname === undefined || !isLoopbackHost(hostname)) signals.push('APP_PUBLIC_URL');
  }
  return signals;
}

export const ROLE_NAMES = ['staff', 'coordinator', 'dsl', 'headteacher', 'chair', 'governor', 'admin', 'pupil'] as const;

export const SETTINGS: readonly SettingSpec[] = [
  { name: 'PORT', purpose: 'HTTP port for the bot endpoint, the tab and its API', default: '3978' },
  { name: 'LOG_LEVEL', purpose: 'debug, info, warn or error', default: 'info' },
  { name: 'SCHOOL_ID', purpose: 'Partition key for this school\'s records (letters, digits, hyphens)', default: 'local-school' },
  { name: 'SCHOOL_NAME', purpose: 'School name shown on cards and credential slips', default: 'Local Primary School' },
  { name: 'SCHOOL_DOMAIN', purpose: 'Domain for pupil usernames; required when GRAPH_MODE=live', default: 'school.example' },
  { name: 'SCHOOLS_FILE', purpose: 'Optional JSON list of a trust\'s schools (id, name, domain, roles, AUP folder) served by one deployment; replaces SCHOOL_*' },
  { name: 'RESPONSE_MATRIX_FILE', purpose: 'Optional JSON file that replaces the default response matrix' },
  { name: 'REPEAT_INCIDENT_THRESHOLD', purpose: 'Incidents involving one pupil in a term at which the case view suggests escalation (2 to 20)', default: '3' },
  { name: 'TABLES_CONNECTION_STRING', purpose: 'Azure Tables connection string; defaults to Azurite on 127.0.0.1:10002', default: 'Azurite development storage' },
  { name: 'TABLES_ENDPOINT', purpose: 'Table endpoint used with managed identity instead of a connection string' },
  { name: 'BLOB_CONNECTION_STRING', purpose: 'Azure Blob Storage for evidence attachments; defaults to the tables\' account (Azurite\'s Blob service locally)' },
  { name: 'BLOB_ENDPOINT', purpose: 'Blob endpoint used with managed identity instead of a connection string' },
  { name: 'MicrosoftAppId', purpose: 'Bot app id; empty means no Bot Framework auth (local Playground only)', default: '' },
  { name: 'MicrosoftAppPassword', purpose: 'Bot client secret (keep it in a gitignored env file or Key Vault)', default: '', secret: true },
  { name: 'MicrosoftAppType', purpose: 'SingleTenant, MultiTenant or UserAssignedMSI', default: 'SingleTenant' },
  { name: 'MicrosoftAppTenantId', purpose: 'Entra tenant id of the bot registration; when deployed, the bot only accepts activities from this tenant (and SCHOOLS_FILE tenants)', default: '' },
  { name: 'MicrosoftAppCertificateThumbprint', purpose: 'Bot certificate thumbprint, with MicrosoftAppCertificateKeyFile, instead of MicrosoftAppPassword' },
  { name: 'MicrosoftAppCertificateKeyFile', purpose: 'PEM file holding the bot certificate\'s private key' },
  { name: 'ROLES_SOURCE', purpose: 'file (ROLES_FILE) or graph (the ROLE_GROUP_* security groups)', default: 'file' },
  { name: 'ROLES_FILE', purpose: 'JSON object of role -> list of Entra object ids, for local use', default: 'config/roles.local.json' },
  ...ROLE_NAMES.map((role) => ({
    name: `ROLE_GROUP_${role.toUpperCase()}`,
    purpose: `Entra security group whose members hold the ${role} role (ROLES_SOURCE=graph)`,
  })),
  { name: 'ROLES_CACHE_MINUTES', purpose: 'How long group memberships are cached in Azure Tables', default: '15' },
  { name: 'GRAPH_MODE', purpose: 'plan (no tenant, changes nothing) or live', default: 'plan' },
  { name: 'GRAPH_AUTH', purpose: 'client-credentials, device-code or token', default: 'client-credentials' },
  { name: 'GRAPH_BASE_URL', purpose: 'Graph endpoint, for national clouds', default: 'https://graph.microsoft.com' },
  { name: 'GRAPH_AUTHORITY_HOST', purpose: 'Entra authority host, for national clouds', default: 'https://login.microsoftonline.com' },
  { name: 'GRAPH_TENANT_ID', purpose: 'Tenant for Graph sign-in; required when GRAPH_MODE=live' },
  { name: 'GRAPH_CLIENT_ID', purpose: 'App registration used for Graph; required when GRAPH_MODE=live' },
  { name: 'SECRET_GRAPH_CLIENT_SECRET', purpose: 'Client secret for GRAPH_AUTH=client-credentials', secret: true },
  { name: 'GRAPH_CERTIFICATE_PATH', purpose: 'PEM file (private key and certificate) instead of a client secret' },
  { name: 'GRAPH_ACCESS_TOKEN', purpose: 'A bearer token the admin already holds, for GRAPH_AUTH=token', secret: true },
  { name: 'GRAPH_CONCURRENCY', purpose: 'How many $batch requests may be in flight at once', default: '4' },
  { name: 'PUPIL_USERNAME_PATTERN', purpose: 'Username pattern; placeholders {cohort} {forename} {surnameInitial} {surname}', default: '{cohort}{forename}{surnameInitial}' },
  { name: 'PUPIL_SKU', purpose: 'SKU part number of the pupil licence', default: 'STANDARDWOFFPACK_STUDENT' },
  { name: 'PUPIL_DISABLED_PLANS', purpose: 'Comma-separated service plan names kept disabled (email off)', default: 'EXCHANGE_S_STANDARD' },
  { name: 'PUPIL_GROUP_ALL', purpose: 'Security group holding every pupil', default: 'All Pupils' },
  { name: 'PUPIL_COHORT_GROUP_PATTERN', purpose: 'Security group per cohort; {cohort} is the two-digit entry year', default: 'Pupils Cohort {cohort}' },
  { name: 'PUPIL_MESSAGING_POLICY', purpose: 'Teams messaging policy for pupils (chat off)', default: 'EduStudent-ChatOff' },
  { name: 'PUPIL_MEETING_POLICY', purpose: 'Teams meeting policy for pupils (no Meet now, no recording)', default: 'EduStudent-NoMeetings' },
  { name: 'PUPIL_FORCE_PASSWORD_CHANGE', purpose: 'true to make pupils change their password at first sign-in', default: 'false' },
  { name: 'LEASE_SECONDS', purpose: 'Seconds a provisioning run or daily job holds its lease without a heartbeat; a crashed holder\'s lease is free after this', default: '60' },
  { name: 'LEAVER_GRACE_DAYS', purpose: 'Days a leaver stays disabled before deletion', default: '30' },
  { name: 'ENFORCE_AUDIT_TIME', purpose: 'Daily pupil-policy audit time, HH:MM UK time', default: '02:00' },
  { name: 'CLASS_TEAM_IDS', purpose: 'Comma-separated class team ids to audit; empty means every team pupils belong to', default: '' },
  { name: 'AUP_DOCUMENTS_DIR', purpose: 'Folder of the school\'s AUP documents (one file per document)', default: 'aup' },
  { name: 'AUP_REMINDER_DAYS', purpose: 'Days before people with an outstanding AUP are reminded', default: '7' },
  { name: 'AUP_TEAMS_APP_CATALOG_ID', purpose: 'The app\'s id in the Teams app catalog; lets AUP campaigns install the bot for people it cannot reach' },
  { name: 'AUP_ACCESS_GATE', purpose: 'true to list (and optionally keep disabled) pupils without a current AUP', default: 'false' },
  { name: 'RETENTION_FALLBACK_YEARS', purpose: 'Years an incident is kept when a pupil\'s date of birth is unknown (otherwise DOB + 25 years)', default: '25' },
  { name: 'RETENTION_FALLBACK_FROM', purpose: 'created or closed: when the fallback years start counting', default: 'created' },
  { name: 'DATA_CONTROLLER_NAME', purpose: 'The data controller named in the privacy notice (a trust, for its schools); defaults to the school\'s name' },
  { name: 'SCHOOL_ADDRESS', purpose: 'The controller\'s postal address, for the privacy notice' },
  { name: 'SCHOOL_CONTACT_EMAIL', purpose: 'The school office\'s email address, for the privacy notice and terms' },
  { name: 'ICO_REGISTRATION_NUMBER', purpose: 'The controller\'s ICO registration number (e.g. Z1234567), shown in the privacy notice' },
  { name: 'DPO_NAME', purpose: 'The Data Protection Officer (a person or a service) named in the privacy notice', default: 'The school\'s Data Protection Officer' },
  { name: 'DPO_EMAIL', purpose: 'The DPO\'s email address; locally dpo@SCHOOL_DOMAIN; deployed without it, /privacy answers 503' },
  { name: 'DPO_PHONE', purpose: 'The DPO\'s telephone number, shown in the privacy notice' },
  { name: 'LOCAL_AUTHORITY_NAME', purpose: 'The local authority whose LADO and children\'s social care the school refers to, named in the privacy notice' },
  { name: 'APP_PUBLIC_URL', purpose: 'Public https origin of the app (tab pages, manifest); local default is http://localhost:PORT', default: '' },
  { name: 'AUTH_ISSUER', purpose: 'Expected issuer of tab SSO tokens, {tenantid} standing for the token\'s tenant; defaults to Entra v2 for each allowed tenant', default: '' },
  { name: 'AUTH_JWKS_URI', purpose: 'Signing keys for tab SSO tokens, {tenantid} as in AUTH_ISSUER; defaults to Entra\'s for each allowed tenant', default: '' },
  { name: 'AUTH_AUDIENCE', purpose: 'Expected audience of tab SSO tokens; defaults to api://<domain>/<MicrosoftAppId>', default: '' },
  { name: 'SECRET_LOCAL_IDENTITY_KEY', purpose: 'Signs the stand-in identity for the tab outside Teams (local development only)', secret: true },
];
