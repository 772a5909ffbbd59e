// E-Safety for Teams: one school's deployment into one resource group.
// Deploy: az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json
// The outputs are named like the app's own settings (app/config.ts), so they can be copied into .env.

targetScope = 'resourceGroup'

@description('Short lower-case name used in every resource name, e.g. "esafety-stmarys".')
@minLength(3)
@maxLength(20)
param baseName string

@description('Azure region for everything except the bot, which is global.')
param location string = resourceGroup().location

@description('App Service plan SKU; B1 is enough for one primary school.')
param appServiceSku string = 'B1'

@description('Azure Bot SKU: F0 (free) covers the Teams channel.')
@allowed(['F0', 'S1'])
param botSku string = 'F0'

@description('Public host name the app is reached on; empty means <app>.azurewebsites.net.')
param publicHostName string = ''

@description('Application (client) id of the single-tenant Entra app registration the bot uses.')
param botAppId string

@description('Entra tenant id of the bot registration; defaults to this deployment\'s tenant.')
param botTenantId string = tenant().tenantId

@description('Client secret of the bot registration. Written to Key Vault only; leave empty on redeploys to keep the stored one.')
@secure()
param botAppPassword string = ''

@description('Application (client) id of the app registration used for Microsoft Graph (may be the bot\'s).')
param graphClientId string

@description('Tenant for Graph sign-in; defaults to this deployment\'s tenant.')
param graphTenantId string = tenant().tenantId

@description('Client secret for Graph. Written to Key Vault only; leave empty on redeploys to keep the stored one.')
@secure()
param graphClientSecret string = ''

@description('Partition key for this school\'s records: lower-case letters, digits and hyphens.')
param schoolId string

@description('School name shown on cards and credential slips.')
param schoolName string

@description('The school\'s Microsoft 365 domain, used for pupil usernames.')
param schoolDomain string

@description('Security group whose members are staff (may report concerns).')
param roleGroupStaff string

@description('Security group of the e-safety coordinator(s).')
param roleGroupCoordinator string

@description('Security group of the designated safeguarding lead(s).')
param roleGroupDsl string

@description('Security group of the headteacher.')
param roleGroupHeadteacher string

@description('Security group of the chair of governors.')
param roleGroupChair string = ''

@description('Security group of the governors.')
param roleGroupGovernor string = ''

@description('Security group of the IT administrators.')
param roleGroupAdmin string = ''

@description('Security group holding every pupil.')
param roleGroupPupil string = ''

@description('How storage and Key Vault are closed to public networks: privateEndpoints (no public access at all; the default) or serviceEndpoints (firewalls that admit only the web app\'s subnet; no private endpoint charges). Both put the web app in a VNet.')
@allowed(['privateEndpoints', 'serviceEndpoints'])
param networkIsolation string = 'privateEndpoints'

@description('Days the Log Analytics workspace keeps logs.')
@minValue(30)
param logRetentionDays int = 30

var suffix = uniqueString(resourceGroup().id, baseName)
var names = {
  plan: '${baseName}-plan'
  webApp: '${baseName}-${suffix}'
  bot: '${baseName}-bot'
  storage: take('st${replace(baseName, '-', '')}${suffix}', 24)
  keyVault: take('kv${replace(baseName, '-', '')}${suffix}', 24)
  logs: '${baseName}-logs'
  insights: '${baseName}-insights'
  vnet: '${baseName}-vnet'
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    vnetName: names.vnet
    isolation: networkIsolation
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: names.logs
    insightsName: names.insights
    retentionDays: logRetentionDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    accountName: names.storage
    isolation: networkIsolation
    appSubnetId: network.outputs.appSubnetId
  }
}

module vault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    location: location
    vaultName: names.keyVault
    botAppPassword: botAppPassword
    graphClientSecret: graphClientSecret
    isolation: networkIsolation
    appSubnetId: network.outputs.appSubnetId
  }
}

module privateEndpoints 'modules/private-endpoints.bicep' = if (networkIsolation == 'privateEndpoints') {
  name: 'private-endpoints'
  params: {
    location: location
    namePrefix: names.vnet
    vnetId: network.outputs.vnetId
    endpointSubnetId: network.outputs.endpointSubnetId
    storageAccountName: storage.outputs.accountName
    vaultName: vault.outputs.vaultName
  }
}

module webApp 'modules/web-app.bicep' = {
  name: 'web-app'
  params: {
    location: location
    planName: names.plan
    appName: names.webApp
    sku: appServiceSku
    publicHostName: publicHostName
    insightsName: monitoring.outputs.insightsName
    tablesEndpoint: storage.outputs.tableEndpoint
    blobEndpoint: storage.outputs.blobEndpoint
    botAppId: botAppId
    botTenantId: botTenantId
    botPasswordSecretUri: vault.outputs.botPasswordSecretUri
    graphClientId: graphClientId
    graphTenantId: graphTenantId
    graphSecretUri: vault.outputs.graphSecretUri
    schoolId: schoolId
    schoolName: schoolName
    schoolDomain: schoolDomain
    appSubnetId: network.outputs.appSubnetId
    roleGroups: {
      ROLE_GROUP_STAFF: roleGroupStaff
      ROLE_GROUP_COORDINATOR: roleGroupCoordinator
      ROLE_GROUP_DSL: roleGroupDsl
      ROLE_GROUP_HEADTEACHER: roleGroupHeadteacher
      ROLE_GROUP_CHAIR: roleGroupChair
      ROLE_GROUP_GOVERNOR: roleGroupGovernor
      ROLE_GROUP_ADMIN: roleGroupAdmin
      ROLE_GROUP_PUPIL: roleGroupPupil
    }
  }
}

module access 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    principalId: webApp.outputs.principalId
    storageAccountName: storage.outputs.accountName
    vaultName: vault.outputs.vaultName
    insightsName: monitoring.outputs.insightsName
  }
}

module bot 'modules/bot.bicep' = {
  name: 'bot'
  params: {
    botName: names.bot
    sku: botSku
    displayName: schoolName
    botAppId: botAppId
    botTenantId: botTenantId
    messagingEndpoint: '${webApp.outputs.publicUrl}/api/messages'
  }
}

output TABLES_ENDPOINT string = storage.outputs.tableEndpoint
output MicrosoftAppId string = botAppId
output MicrosoftAppType string = 'SingleTenant'
output MicrosoftAppTenantId string = botTenantId
output GRAPH_TENANT_ID string = graphTenantId
output GRAPH_CLIENT_ID string = graphClientId
output SCHOOL_ID string = schoolId
output SCHOOL_DOMAIN string = schoolDomain
output APP_PUBLIC_URL string = webApp.outputs.publicUrl
