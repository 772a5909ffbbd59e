import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROLE_NAMES, SETTINGS } from '../../app/config';

// No Bicep compiler can be installed here (it is downloaded from GitHub), so these checks read the
// templates as text: what a reviewer would check by eye, made repeatable.

const INFRA = join(__dirname, '..', '..', 'infra');
const MAIN = join(INFRA, 'main.bicep');
const PARAMETERS_FILE = join(INFRA, 'main.parameters.json');
const SETTING_NAMES = new Set(SETTINGS.map((s) => s.name));
const SECRET_LOOKING = /secret|password|pwd|token|key|credential|connectionstring/i;
/** Where a secret lives (a Key Vault URI, a resource name) is not itself a secret. */
const NAMES_A_PLACE = /(Uri|Url|Name|Id)$/;
const looksSecret = (name: string) => SECRET_LOOKING.test(name) && !NAMES_A_PLACE.test(name);

/** App settings the platform reads rather than the app. */
const PLATFORM_SETTINGS = new Set(['APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'ApplicationInsightsAgent_EXTENSION_VERSION', 'SCM_DO_BUILD_DURING_DEPLOYMENT']);

interface BicepParam {
  name: string;
  hasDefault: boolean;
  secure: boolean;
}

interface BicepBlock {
  symbol: string;
  /** The resource type (without API version) or the module path. */
  target: string;
  body: string;
}

interface BicepFile {
  path: string;
  /** The text without comments. */
  text: string;
  params: BicepParam[];
  outputs: string[];
  resources: BicepBlock[];
  modules: BicepBlock[];
}

/** Drops `//` comments, keeping `//` inside strings such as 'https://…'. */
function stripComments(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      for (let at = line.indexOf('//'); at >= 0; at = line.indexOf('//', at + 2)) {
        if ((line.slice(0, at).match(/'/g) ?? []).length % 2 === 0) return line.slice(0, at);
      }
      return line;
    })
    .join('\n');
}

/** The text between the bracket at `open` and its partner (Bicep's interpolations keep braces balanced). */
function enclosed(text: string, open: number): string {
  const pairs: Record<string, string> = { '{': '}', '(': ')', '[': ']' };
  const opener = text[open]!;
  const closer = pairs[opener]!;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === opener) depth++;
    else if (text[i] === closer && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`Unbalanced ${opener} in a template.`);
}

/** Keys of an object literal's own properties (not of nested objects). */
function topLevelKeys(objectBody: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (const line of objectBody.split('\n')) {
    if (depth === 0) {
      const key = /^\s*(\w+)\s*:/.exec(line)?.[1];
      if (key) keys.push(key);
    }
    for (const char of line) {
      if ('{(['.includes(char)) depth++;
      if ('})]'.includes(char)) depth--;
    }
  }
  return keys;
}

function blocks(text: string, pattern: RegExp): BicepBlock[] {
  return [...text.matchAll(pattern)].map((match) => ({
    symbol: match[1]!,
    target: match[2]!,
    body: enclosed(text, match.index + match[0].length - 1),
  }));
}

function readBicep(path: string): BicepFile {
  const text = stripComments(readFileSync(path, 'utf8'));
  const params: BicepParam[] = [];
  let decorators: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    const param = /^param\s+(\w+)\s+[\w?]+(\s*=.*)?$/.exec(trimmed);
    if (param) params.push({ name: param[1]!, hasDefault: param[2] !== undefined, secure: decorators.some((d) => d.startsWith('@secure()')) });
    decorators = trimmed.startsWith('@') ? [...decorators, trimmed] : [];
  }
  return {
    path,
    text,
    params,
    outputs: [...text.matchAll(/^output\s+(\w+)\s/gm)].map((m) => m[1]!),
    // A resource is an object, or a loop (`= [ for … ]`) whose body is the loop.
    resources: blocks(text, /^\s*resource\s+(\w+)\s+'([^'@]+)@[^']+'(?:\s+existing)?\s*=\s*(?:if\s*\(.*\)\s*)?[{[]/gm),
    modules: blocks(text, /^module\s+(\w+)\s+'([^']+)'\s*=\s*(?:if\s*\(.*\)\s*)?\{/gm),
  };
}

function resourceOfType(file: BicepFile, type: string): BicepBlock {
  const found = file.resources.find((r) => r.target.toLowerCase() === type.toLowerCase());
  if (!found) throw new Error(`${file.path} declares no ${type} resource.`);
  return found;
}

const main = readBicep(MAIN);
const modulePaths = main.modules.map((m) => join(dirname(MAIN), m.target));
const moduleFiles = new Map(main.modules.filter((m) => existsSync(join(INFRA, m.target))).map((m) => [m.symbol, readBicep(join(INFRA, m.target))]));
const allFiles = [main, ...moduleFiles.values()];
const moduleNamed = (fileName: string): BicepFile => {
  const file = allFiles.find((f) => f.path.endsWith(`${fileName}.bicep`));
  if (!file) throw new Error(`infra/main.bicep uses no module ${fileName}.bicep.`);
  return file;
};

describe('infra templates', () => {
  it('every module main.bicep references exists, and every module file is referenced', () => {
    expect(main.modules.length).toBeGreaterThan(0);
    for (const path of modulePaths) expect({ path, exists: existsSync(path) }).toEqual({ path, exists: true });
    const onDisk = readdirSync(join(INFRA, 'modules')).filter((f) => f.endsWith('.bicep')).map((f) => join(INFRA, 'modules', f));
    expect(onDisk.sort()).toEqual([...new Set(modulePaths)].sort());
  });

  it.each(allFiles.map((f) => [f.path.slice(INFRA.length + 1), f] as const))('every param declared in %s is used', (_name, file) => {
    const withoutDecorators = file.text
      .split('\n')
      .filter((line) => !line.trim().startsWith('@'))
      .join('\n');
    const unused = file.params.filter((p) => (withoutDecorators.match(new RegExp(`\\b${p.name}\\b`, 'g')) ?? []).length < 2).map((p) => p.name);
    expect(unused).toEqual([]);
  });

  it('every module call passes only params the module declares, and all it requires', () => {
    for (const call of main.modules) {
      const module = moduleFiles.get(call.symbol)!;
      const paramsAt = /\bparams\s*:\s*\{/.exec(call.body);
      const passed = paramsAt ? topLevelKeys(enclosed(call.body, paramsAt.index + paramsAt[0].length - 1)) : [];
      const declared = module.params.map((p) => p.name);
      expect({ module: call.target, unknown: passed.filter((p) => !declared.includes(p)) }).toEqual({ module: call.target, unknown: [] });
      const required = module.params.filter((p) => !p.hasDefault).map((p) => p.name);
      expect({ module: call.target, missing: required.filter((p) => !passed.includes(p)) }).toEqual({ module: call.target, missing: [] });
    }
  });

  it('every module output main.bicep reads is one the module declares', () => {
    for (const [, symbol, output] of main.text.matchAll(/\b(\w+)\.outputs\.(\w+)/g)) {
      const module = moduleFiles.get(symbol!);
      expect({ symbol, output, declared: module?.outputs.includes(output!) }).toEqual({ symbol, output, declared: true });
    }
  });

  it('every output of main.bicep is named exactly like a setting the app reads, and none is a secret', () => {
    expect(main.outputs.length).toBeGreaterThan(0);
    for (const output of main.outputs) {
      const setting = SETTINGS.find((s) => s.name === output);
      expect({ output, isSetting: setting !== undefined, secret: setting?.secret ?? false }).toEqual({ output, isSetting: true, secret: false });
    }
    expect(main.outputs).toEqual(expect.arrayContaining(['TABLES_ENDPOINT', 'MicrosoftAppId', 'MicrosoftAppTenantId', 'APP_PUBLIC_URL']));
  });

  it('every secret-looking param is @secure(), has no default but empty, and is never output', () => {
    for (const file of allFiles) {
      for (const param of file.params.filter((p) => looksSecret(p.name))) {
        expect({ file: file.path, param: param.name, secure: param.secure }).toEqual({ file: file.path, param: param.name, secure: true });
      }
      for (const param of file.params.filter((p) => p.secure)) {
        expect(file.text).not.toMatch(new RegExp(`^param\\s+${param.name}\\s+\\w+\\s*=\\s*'[^']+'`, 'm'));
        expect(file.text).not.toMatch(new RegExp(`^output\\s.*\\b${param.name}\\b`, 'm'));
      }
    }
  });

  it('the web app runs the built app on Node 22 LTS, HTTPS only, TLS 1.2, no FTP, with /healthz and a managed identity', () => {
    const site = resourceOfType(moduleNamed('web-app'), 'Microsoft.Web/sites').body;
    expect(site).toMatch(/httpsOnly:\s*true\b/);
    expect(site).toMatch(/linuxFxVersion:\s*'NODE\|22-lts'/);
    expect(site).toMatch(/minTlsVersion:\s*'1\.2'/);
    expect(site).toMatch(/ftpsState:\s*'Disabled'/);
    expect(site).toMatch(/healthCheckPath:\s*'\/healthz'/);
    expect(site).toMatch(/appCommandLine:\s*'node dist\/app\/main\.js'/);
    expect(site).toMatch(/identity:\s*\{\s*type:\s*'SystemAssigned'\s*\}/);
    expect(resourceOfType(moduleNamed('web-app'), 'Microsoft.Web/serverfarms').body).toMatch(/reserved:\s*true\b/);
  });

  it('the app settings name only settings the app (or the platform) reads, and take secrets from Key Vault', () => {
    const settings = resourceOfType(moduleNamed('web-app'), 'Microsoft.Web/sites/config').body;
    const unionAt = /properties:\s*union\(\s*\{/.exec(settings);
    expect(unionAt).not.toBeNull();
    const literal = enclosed(settings, unionAt!.index + unionAt![0].length - 1);
    const names = topLevelKeys(literal);
    expect(names.filter((name) => !SETTING_NAMES.has(name) && !PLATFORM_SETTINGS.has(name))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining([
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'TABLES_ENDPOINT',
        'MicrosoftAppId',
        'MicrosoftAppType',
        'MicrosoftAppTenantId',
        'MicrosoftAppPassword',
        'SCHOOL_ID',
        'SCHOOL_NAME',
        'SCHOOL_DOMAIN',
        'GRAPH_MODE',
        'GRAPH_TENANT_ID',
        'GRAPH_CLIENT_ID',
        'SECRET_GRAPH_CLIENT_SECRET',
        'ROLES_SOURCE',
        'APP_PUBLIC_URL',
      ]),
    );
    expect(names).not.toContain('TABLES_CONNECTION_STRING');
    for (const secret of SETTINGS.filter((s) => s.secret && names.includes(s.name))) {
      expect(literal).toMatch(new RegExp(`\\b${secret.name}:\\s*'@Microsoft\\.KeyVault\\(SecretUri=\\$\\{\\w+\\}\\)'`));
    }
    expect(literal).toMatch(/MicrosoftAppType:\s*'SingleTenant'/);
    expect(literal).toMatch(/GRAPH_MODE:\s*'live'/);
    expect(literal).toMatch(/ROLES_SOURCE:\s*'graph'/);

    const roleGroupsAt = /roleGroups:\s*\{/.exec(main.text);
    expect(roleGroupsAt).not.toBeNull();
    const roleGroups = topLevelKeys(enclosed(main.text, roleGroupsAt!.index + roleGroupsAt![0].length - 1));
    expect(roleGroups.sort()).toEqual(ROLE_NAMES.map((r) => `ROLE_GROUP_${r.toUpperCase()}`).sort());
  });

  it('storage is StorageV2 with tables, HTTPS and TLS 1.2 only, and no shared keys', () => {
    const storage = moduleNamed('storage');
    const account = resourceOfType(storage, 'Microsoft.Storage/storageAccounts').body;
    expect(account).toMatch(/kind:\s*'StorageV2'/);
    expect(account).toMatch(/allowSharedKeyAccess:\s*false\b/);
    expect(account).toMatch(/minimumTlsVersion:\s*'TLS1_2'/);
    expect(account).toMatch(/supportsHttpsTrafficOnly:\s*true\b/);
    resourceOfType(storage, 'Microsoft.Storage/storageAccounts/tableServices');
    expect(storage.text).toMatch(/primaryEndpoints\.table\b/);
  });

  it('Key Vault uses RBAC, and the web app identity gets exactly the four data roles, scoped to their resources', () => {
    expect(resourceOfType(moduleNamed('key-vault'), 'Microsoft.KeyVault/vaults').body).toMatch(/enableRbacAuthorization:\s*true\b/);
    const roles = moduleNamed('role-assignments');
    const assignments = roles.resources.filter((r) => r.target === 'Microsoft.Authorization/roleAssignments');
    expect(assignments).toHaveLength(4);
    const roleIds = [...roles.text.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map((m) => m[1]);
    // Storage Table Data Contributor, Monitoring Metrics Publisher (telemetry with local auth off), Key Vault Secrets User,
    // Storage Blob Data Contributor (evidence attachments).
    expect(roleIds.sort()).toEqual(['0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', '3913510d-42f4-4e42-8a64-420c390055eb', '4633458b-17de-408a-b874-0445c86b69e6', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe']);
    const scopes = assignments.map((a) => /scope:\s*(\w+)/.exec(a.body)?.[1]).map((symbol) => roles.resources.find((r) => r.symbol === symbol)?.target);
    expect(scopes.sort()).toEqual(['Microsoft.Insights/components', 'Microsoft.KeyVault/vaults', 'Microsoft.Storage/storageAccounts', 'Microsoft.Storage/storageAccounts']);
    for (const assignment of assignments) expect(assignment.body).toMatch(/principalType:\s*'ServicePrincipal'/);
  });

  it('the bot is single tenant, on the Teams channel, and posts to the web app\'s /api/messages', () => {
    const bot = moduleNamed('bot');
    const service = resourceOfType(bot, 'Microsoft.BotService/botServices').body;
    expect(service).toMatch(/msaAppType:\s*'SingleTenant'/);
    expect(service).toMatch(/msaAppId:\s*\w+/);
    expect(service).toMatch(/msaAppTenantId:\s*\w+/);
    expect(service).toMatch(/endpoint:\s*\w+/);
    const channel = resourceOfType(bot, 'Microsoft.BotService/botServices/channels').body;
    expect(channel).toMatch(/name:\s*'MsTeamsChannel'/);
    expect(channel).toMatch(/channelName:\s*'MsTeamsChannel'/);
    expect(main.text).toMatch(/messagingEndpoint:\s*'\$\{webApp\.outputs\.publicUrl\}\/api\/messages'/);
  });

  it('Application Insights is workspace-based, with local authentication off and the app signing its telemetry with Entra', () => {
    const monitoring = moduleNamed('monitoring');
    resourceOfType(monitoring, 'Microsoft.OperationalInsights/workspaces');
    const component = resourceOfType(monitoring, 'Microsoft.Insights/components').body;
    expect(component).toMatch(/WorkspaceResourceId:\s*\w+\.id\b/);
    expect(component).toMatch(/DisableLocalAuth:\s*true\b/);
    expect(resourceOfType(moduleNamed('web-app'), 'Microsoft.Web/sites/config').body).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING:\s*'Authorization=AAD'/);
  });

  describe('storage and Key Vault are closed to public networks', () => {
    const isolation = main.params.find((p) => p.name === 'networkIsolation');

    it('main.bicep chooses how with one parameter whose default is private endpoints, and offers no public option', () => {
      expect(isolation).toBeDefined();
      expect(main.text).toMatch(/@allowed\(\['privateEndpoints', 'serviceEndpoints'\]\)\s*\nparam networkIsolation string = 'privateEndpoints'/);
      for (const call of ['storage', 'vault', 'network']) {
        expect(main.modules.find((m) => m.symbol === call)?.body).toMatch(/isolation:\s*networkIsolation\b/);
      }
      expect(main.text).toMatch(/module privateEndpoints 'modules\/private-endpoints\.bicep' = if \(networkIsolation == 'privateEndpoints'\)/);
    });

    it.each([
      ['storage', 'Microsoft.Storage/storageAccounts'],
      ['key-vault', 'Microsoft.KeyVault/vaults'],
    ])('%s: public access off with private endpoints, and otherwise a firewall that denies all but the app\'s subnet', (module, type) => {
      const body = resourceOfType(moduleNamed(module), type).body;
      expect(body).toMatch(/publicNetworkAccess:\s*isolation == 'privateEndpoints' \? 'Disabled' : 'Enabled'/);
      expect(body).toMatch(/defaultAction:\s*'Deny'/);
      expect(body).toMatch(/virtualNetworkRules:\s*isolation == 'serviceEndpoints' \? \[\{ id: appSubnetId\b/);
      expect(body).toMatch(/ipRules:\s*\[\]/);
      expect(body).not.toMatch(/publicNetworkAccess:\s*'Enabled'/);
    });

    it('the web app joins the VNet and routes all its outbound traffic through it', () => {
      const site = resourceOfType(moduleNamed('web-app'), 'Microsoft.Web/sites').body;
      expect(site).toMatch(/virtualNetworkSubnetId:\s*appSubnetId\b/);
      expect(site).toMatch(/vnetRouteAllEnabled:\s*true\b/);
      expect(main.modules.find((m) => m.symbol === 'webApp')?.body).toMatch(/appSubnetId:\s*network\.outputs\.appSubnetId\b/);
      expect(moduleNamed('network').text).toMatch(/serviceName:\s*'Microsoft\.Web\/serverFarms'/);
    });

    it('private endpoints cover tables, blobs and the vault, each with its private DNS zone linked to the VNet', () => {
      const endpoints = moduleNamed('private-endpoints');
      for (const group of ['table', 'blob', 'vault']) expect(endpoints.text).toMatch(new RegExp(`group:\\s*'${group}'`));
      expect(endpoints.text).toMatch(/privatelink\.table\./);
      expect(endpoints.text).toMatch(/privatelink\.blob\./);
      expect(endpoints.text).toMatch(/privatelink\.vaultcore\.azure\.net/);
      resourceOfType(endpoints, 'Microsoft.Network/privateEndpoints');
      resourceOfType(endpoints, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
      resourceOfType(endpoints, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    });
  });

  it('the storage account that holds the records has a CanNotDelete lock', () => {
    const storage = moduleNamed('storage');
    const lock = resourceOfType(storage, 'Microsoft.Authorization/locks').body;
    expect(lock).toMatch(/level:\s*'CanNotDelete'/);
    const scope = /scope:\s*(\w+)/.exec(lock)?.[1];
    expect(storage.resources.find((r) => r.symbol === scope)?.target).toBe('Microsoft.Storage/storageAccounts');
  });

  describe('the Entra app registration (infra/entra-app.bicep)', () => {
    const entra = readBicep(join(INFRA, 'entra-app.bicep'));
    const permissions = JSON.parse(readFileSync(join(INFRA, 'graph-permissions.json'), 'utf8')) as { application: string[]; delegated: string[] };
    const map = JSON.parse(readFileSync(join(__dirname, '..', 'contract', 'permissions.json'), 'utf8')) as { permissions: Record<string, { schemes?: Record<string, unknown> }> };

    it('uses the Microsoft Graph extension, declared in infra/bicepconfig.json', () => {
      expect(entra.text).toMatch(/^extension microsoftGraphV1\s*$/m);
      const config = JSON.parse(stripComments(readFileSync(join(INFRA, 'bicepconfig.json'), 'utf8'))) as { extensions?: Record<string, string> };
      expect(config.extensions?.microsoftGraphV1).toMatch(/^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:/);
    });

    it('reads the permissions from infra/graph-permissions.json and resolves each name through Graph\'s own service principal', () => {
      expect(entra.text).toMatch(/loadJsonContent\('graph-permissions\.json'\)/);
      const graph = entra.resources.find((r) => r.target === 'Microsoft.Graph/servicePrincipals' && /appId:\s*graphAppId\b/.test(r.body));
      expect(graph).toBeDefined();
      expect(entra.text).toMatch(/var graphAppId = '00000003-0000-0000-c000-000000000000'/);
      expect(entra.text).toMatch(/map\(applicationPermissions, \(name\) => filter\(graph\.appRoles, \(role\) => role\.value == name\)\[0\]\.id\)/);
      expect(entra.text).toMatch(/map\(delegatedPermissions, \(name\) => filter\(graph\.oauth2PermissionScopes, \(scope\) => scope\.value == name\)\[0\]\.id\)/);
    });

    it('every permission it will look up exists in Microsoft\'s permission map for its kind, so the lookup cannot come back empty', () => {
      const missing = [
        ...permissions.application.filter((name) => !map.permissions[name]?.schemes?.Application).map((name) => `application ${name}`),
        ...permissions.delegated.filter((name) => !map.permissions[name]?.schemes?.DelegatedWork).map((name) => `delegated ${name}`),
      ];
      expect(missing).toEqual([]);
    });

    it('is single tenant, requests the application permissions as roles and the delegated ones as scopes, and exposes access_as_user to the Teams clients', () => {
      const app = resourceOfType(entra, 'Microsoft.Graph/applications').body;
      expect(app).toMatch(/signInAudience:\s*'AzureADMyOrg'/);
      expect(app).toMatch(/resourceAppId:\s*graphAppId\b/);
      expect(app).toMatch(/map\(graphAppRoleIds, \(id\) => \{ id: id, type: 'Role' \}\)/);
      expect(app).toMatch(/map\(graphScopeIds, \(id\) => \{ id: id, type: 'Scope' \}\)/);
      expect(app).toMatch(/value:\s*'access_as_user'/);
      expect(app).toMatch(/requestedAccessTokenVersion:\s*2\b/);
      expect(entra.text).toContain("'1fec8e78-bce4-4aaf-ab1b-5451cc387264'");
      expect(entra.text).toContain("'5e3ce6c0-2b1f-4285-8d4b-75ee78787346'");
    });

    it('grants admin consent to each application permission, and no tenant-wide delegated grant', () => {
      const consent = resourceOfType(entra, 'Microsoft.Graph/appRoleAssignedTo').body;
      expect(consent).toMatch(/for appRoleId in graphAppRoleIds:/);
      expect(consent).toMatch(/principalId:\s*appPrincipal\.id\b/);
      expect(consent).toMatch(/resourceId:\s*graph\.id\b/);
      expect(entra.resources.some((r) => r.target === 'Microsoft.Graph/oauth2PermissionGrants')).toBe(false);
      expect(entra.outputs).toContain('appId');
    });
  });

  describe('main.parameters.json', () => {
    const file = JSON.parse(readFileSync(PARAMETERS_FILE, 'utf8')) as { parameters: Record<string, { value?: unknown; reference?: unknown }> };
    const supplied = Object.keys(file.parameters);

    it('supplies every required param, and only params main.bicep declares', () => {
      const required = main.params.filter((p) => !p.hasDefault && !p.secure).map((p) => p.name);
      expect(required.filter((name) => !supplied.includes(name))).toEqual([]);
      expect(supplied.filter((name) => !main.params.some((p) => p.name === name))).toEqual([]);
    });

    it('holds no secret: no @secure() or secret-looking param, and no secret-looking value', () => {
      const secure = main.params.filter((p) => p.secure).map((p) => p.name);
      expect(supplied.filter((name) => secure.includes(name) || looksSecret(name))).toEqual([]);
      for (const [name, entry] of Object.entries(file.parameters)) {
        const value = JSON.stringify(entry.value ?? entry.reference ?? '');
        expect({ name, secretLooking: /~|AccountKey=|InstrumentationKey=|-----BEGIN|[A-Za-z0-9+/]{40,}/.test(value) }).toEqual({ name, secretLooking: false });
      }
    });
  });
});
