// Key Vault (RBAC authorisation) for the bot's and Graph's client secrets. The web app reads them through
// Key Vault references: https://learn.microsoft.com/azure/app-service/app-service-key-vault-references

param location string
param vaultName string

@secure()
param botAppPassword string

@secure()
param graphClientSecret string

@description('privateEndpoints: no public network access at all; serviceEndpoints: the firewall admits only the app\'s subnet.')
@allowed(['privateEndpoints', 'serviceEndpoints'])
param isolation string
@description('The web app\'s VNet integration subnet.')
param appSubnetId string

var botPasswordSecretName = 'bot-app-password'
var graphSecretName = 'graph-client-secret'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: isolation == 'privateEndpoints' ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      // Trusted Microsoft services only; App Service reads the Key Vault references over the VNet.
      bypass: 'AzureServices'
      virtualNetworkRules: isolation == 'serviceEndpoints' ? [{ id: appSubnetId }] : []
      ipRules: []
    }
  }
}

// An empty value leaves the stored secret alone, so a redeploy never needs the secrets again.
resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(botAppPassword)) {
  parent: vault
  name: botPasswordSecretName
  properties: { value: botAppPassword }
}

resource graphSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphClientSecret)) {
  parent: vault
  name: graphSecretName
  properties: { value: graphClientSecret }
}

output vaultName string = vault.name
// Versionless URIs, so a rotated secret is picked up without a redeploy.
output botPasswordSecretUri string = '${vault.properties.vaultUri}secrets/${botPasswordSecretName}'
output graphSecretUri string = '${vault.properties.vaultUri}secrets/${graphSecretName}'
