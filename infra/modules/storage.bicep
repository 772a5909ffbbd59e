// Azure Tables for the school's records (and Blob storage for evidence). No shared keys: the web app reaches it with
// its managed identity, over the VNet only (modules/network.bicep).

param location string
param accountName string
@description('privateEndpoints: no public network access at all; serviceEndpoints: the firewall admits only the app\'s subnet.')
@allowed(['privateEndpoints', 'serviceEndpoints'])
param isolation string
@description('The web app\'s VNet integration subnet.')
param appSubnetId string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: isolation == 'privateEndpoints' ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'None'
      virtualNetworkRules: isolation == 'serviceEndpoints' ? [{ id: appSubnetId, action: 'Allow' }] : []
      ipRules: []
    }
  }
}

// The records cannot be lost by deleting the account (or its resource group) by mistake: the lock must be removed
// first, by someone allowed to (Owner or User Access Administrator). It does not stop the app's own data writes.
// https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources
resource recordsLock 'Microsoft.Authorization/locks@2020-05-01' = {
  scope: account
  name: 'records-cannot-delete'
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds the school\'s safeguarding records. See "Backing up the records" in the README before removing this lock.'
  }
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

output accountName string = account.name
// The endpoint ends with '/', which the Tables client accepts as it is.
output tableEndpoint string = account.properties.primaryEndpoints.table
// Evidence attachments: one private container per school, created by the app (allowBlobPublicAccess is false).
output blobEndpoint string = account.properties.primaryEndpoints.blob
