// The private network the web app reaches its storage and Key Vault through, so neither answers the internet.
//
// - privateEndpoints (the default): the storage account's table and blob services and the vault each get a
//   private endpoint in this VNet, with the private DNS zones that resolve their usual names to it
//   (https://learn.microsoft.com/azure/private-link/private-endpoint-dns); both refuse public network access.
// - serviceEndpoints: cheaper, no private endpoints; the app's subnet reaches them over service endpoints, and their
//   firewalls deny everything else (https://learn.microsoft.com/azure/storage/common/storage-network-security).
// Either way the web app joins the VNet through regional VNet integration (Basic plans and above:
// https://learn.microsoft.com/azure/app-service/overview-vnet-integration), with all outbound traffic routed into it.

param location string
param vnetName string
@allowed(['privateEndpoints', 'serviceEndpoints'])
param isolation string

var addressSpace = '10.60.0.0/24'
// The integration subnet must be dedicated to the plan; /26 is the smallest Microsoft recommends for one plan.
var appSubnetPrefix = '10.60.0.0/26'
var endpointSubnetPrefix = '10.60.0.64/27'
var usePrivateEndpoints = isolation == 'privateEndpoints'

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: vnetName
  location: location
  properties: {
    addressSpace: { addressPrefixes: [addressSpace] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [{ name: 'web', properties: { serviceName: 'Microsoft.Web/serverFarms' } }]
          serviceEndpoints: usePrivateEndpoints ? [] : [{ service: 'Microsoft.Storage' }, { service: 'Microsoft.KeyVault' }]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: endpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output vnetId string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output endpointSubnetId string = vnet.properties.subnets[1].id
