// Private endpoints for the storage account's table and blob services and for the vault, in the VNet's endpoint
// subnet, with the private DNS zones that resolve their usual names to them inside the VNet
// (https://learn.microsoft.com/azure/private-link/private-endpoint-dns). Used when networkIsolation is
// privateEndpoints (main.bicep's default).

param location string
param namePrefix string
param vnetId string
param endpointSubnetId string
param storageAccountName string
param vaultName string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

// One private endpoint per service the app uses: tables (the records), blobs (evidence attachments), the vault.
var endpoints = [
  { name: 'table', target: account.id, group: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { name: 'blob', target: account.id, group: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { name: 'vault', target: vault.id, group: 'vault', zone: 'privatelink.vaultcore.azure.net' }
]

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for endpoint in endpoints: {
    name: endpoint.zone
    location: 'global'
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (endpoint, i) in endpoints: {
    parent: zones[i]
    name: '${namePrefix}-link'
    location: 'global'
    properties: {
      virtualNetwork: { id: vnetId }
      registrationEnabled: false
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2023-11-01' = [
  for endpoint in endpoints: {
    name: '${namePrefix}-${endpoint.name}'
    location: location
    properties: {
      subnet: { id: endpointSubnetId }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: { privateLinkServiceId: endpoint.target, groupIds: [endpoint.group] }
        }
      ]
    }
  }
]

resource dnsGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [{ name: endpoint.name, properties: { privateDnsZoneId: zones[i].id } }]
    }
  }
]
