// The Linux web app that runs the bot, the tab and its API, with a system-assigned managed identity.

param location string
param planName string
param appName string
param sku string
param publicHostName string
@description('Application Insights component whose connection string the app reports to (read here, never passed as a value).')
param insightsName string
param tablesEndpoint string
@description('Blob endpoint for evidence attachments (the same storage account), reached with the managed identity.')
param blobEndpoint string
param botAppId string
param botTenantId string
param botPasswordSecretUri string
param graphClientId string
param graphTenantId string
param graphSecretUri string
param schoolId string
param schoolName string
param schoolDomain string
@description('The VNet subnet the app joins (regional VNet integration), through which it reaches storage and Key Vault.')
param appSubnetId string

@description('ROLE_GROUP_* setting name -> security group; empty values are left out.')
param roleGroups object

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: planName
  location: location
  kind: 'linux'
  sku: { name: sku }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: appName
  location: location
  kind: 'app,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: 'SystemAssigned'
    virtualNetworkSubnetId: appSubnetId
    siteConfig: {
      // Everything outbound goes through the VNet, so storage and Key Vault are reached on their private addresses.
      vnetRouteAllEnabled: true
      linuxFxVersion: 'NODE|22-lts'
      appCommandLine: 'node dist/app/main.js'
      healthCheckPath: '/healthz'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      alwaysOn: true
    }
  }
}

// Basic-auth publishing (FTP and the SCM site's user name and password) off: deploy with Entra sign-in.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

var publicUrl = 'https://${empty(publicHostName) ? site.properties.defaultHostName : publicHostName}'

// Set apart from the site so they can name the site's own host name. Secrets are Key Vault references only.
resource appSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: site
  name: 'appsettings'
  properties: union(
    {
      APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
      // Local authentication is off on the component: the agent signs telemetry with the managed identity.
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
      SCM_DO_BUILD_DURING_DEPLOYMENT: 'false'
      ApplicationInsightsAgent_EXTENSION_VERSION: '~3'
      TABLES_ENDPOINT: tablesEndpoint
      BLOB_ENDPOINT: blobEndpoint
      MicrosoftAppId: botAppId
      MicrosoftAppType: 'SingleTenant'
      MicrosoftAppTenantId: botTenantId
      MicrosoftAppPassword: '@Microsoft.KeyVault(SecretUri=${botPasswordSecretUri})'
      SCHOOL_ID: schoolId
      SCHOOL_NAME: schoolName
      SCHOOL_DOMAIN: schoolDomain
      GRAPH_MODE: 'live'
      GRAPH_AUTH: 'client-credentials'
      GRAPH_TENANT_ID: graphTenantId
      GRAPH_CLIENT_ID: graphClientId
      SECRET_GRAPH_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${graphSecretUri})'
      ROLES_SOURCE: 'graph'
      APP_PUBLIC_URL: publicUrl
    },
    toObject(filter(items(roleGroups), (group) => !empty(group.value)), (group) => group.key, (group) => group.value)
  )
}

output principalId string = site.identity.principalId
output publicUrl string = publicUrl
