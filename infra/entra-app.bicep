// The school's Entra app registration, made from infra/graph-permissions.json (the one list of the Graph
// permissions the app needs), with Microsoft's Bicep extension for Microsoft Graph:
// https://learn.microsoft.com/graph/templates/bicep/reference/overview
//
// Deploy it before infra/main.bicep (the deployer needs Application.ReadWrite.All and AppRoleAssignment.ReadWrite.All,
// for example as a Privileged Role Administrator; see "1. Register the Entra app" in the README):
//   az deployment group create -g <rg> -f infra/entra-app.bicep -p baseName=<same as main.bicep>
// then deploy again with identifierUri=api://<app host>/<appId> once the app id is known (an app cannot name its
// own id in the same deployment). Its appId output is main.bicep's botAppId and graphClientId.
//
// One registration serves the bot, the tab's single sign-on and Graph, so the Teams app installed through Graph
// (TeamsAppInstallation.ReadWriteSelfForUser.All) is the app whose webApplicationInfo.id calls Graph.
// It creates no client secret (the extension cannot): add one in the portal and pass it to main.bicep.

extension microsoftGraphV1

@description('The same short name as main.bicep\'s baseName: it names the registration and finds the web app\'s host.')
@minLength(3)
@maxLength(20)
param baseName string

@description('Display name of the registration in Entra.')
param displayName string = 'E-Safety for Teams (${baseName})'

@description('Application ID URI for the tab\'s SSO, api://<app host>/<appId>; empty on the first deployment, when the app id is not known yet.')
param identifierUri string = ''

@description('Grant admin consent to the application permissions (app role assignments to the app\'s service principal).')
param grantApplicationPermissions bool = true

// Microsoft Graph's well-known application id, the same in every tenant.
var graphAppId = '00000003-0000-0000-c000-000000000000'

// The Teams clients that ask for the tab's token without a consent prompt (desktop and mobile, then web):
// https://learn.microsoft.com/microsoftteams/platform/tabs/how-to/authentication/tab-sso-register-aad
var teamsClientIds = ['1fec8e78-bce4-4aaf-ab1b-5451cc387264', '5e3ce6c0-2b1f-4285-8d4b-75ee78787346']

var permissions = loadJsonContent('graph-permissions.json')
var applicationPermissions = permissions.application
var delegatedPermissions = permissions.delegated

// The scope the tab's token must carry in scp (tab/server checks it); a fixed id so redeploys keep it.
var accessAsUserScopeId = guid(resourceGroup().id, baseName, 'access_as_user')

// Graph's own service principal in this tenant: its appRoles (application permissions) and
// oauth2PermissionScopes (delegated) turn permission names into the ids the registration needs.
resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

var graphAppRoleIds = map(applicationPermissions, (name) => filter(graph.appRoles, (role) => role.value == name)[0].id)
var graphScopeIds = map(delegatedPermissions, (name) => filter(graph.oauth2PermissionScopes, (scope) => scope.value == name)[0].id)

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: 'esafety-${baseName}'
  displayName: displayName
  // Single tenant: only the school's (or the trust's) own accounts.
  signInAudience: 'AzureADMyOrg'
  identifierUris: empty(identifierUri) ? [] : [identifierUri]
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: accessAsUserScopeId
        value: 'access_as_user'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Use E-Safety for Teams as the signed-in user'
        adminConsentDescription: 'Lets Teams call the E-Safety for Teams tab API as the signed-in user.'
        userConsentDisplayName: 'Use E-Safety for Teams as you'
        userConsentDescription: 'Lets Teams call the E-Safety for Teams tab API as you.'
      }
    ]
    preAuthorizedApplications: [
      for clientId in teamsClientIds: {
        appId: clientId
        delegatedPermissionIds: [accessAsUserScopeId]
      }
    ]
  }
  requiredResourceAccess: [
    {
      resourceAppId: graphAppId
      resourceAccess: concat(
        map(graphAppRoleIds, (id) => { id: id, type: 'Role' }),
        map(graphScopeIds, (id) => { id: id, type: 'Scope' })
      )
    }
  ]
}

resource appPrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
}

// Admin consent to each application permission: an app role assignment from Graph to the app's service principal.
resource applicationConsent 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for appRoleId in graphAppRoleIds: if (grantApplicationPermissions) {
    appRoleId: appRoleId
    principalId: appPrincipal.id
    resourceId: graph.id
  }
]

// Delegated permissions are requested above but not consented here: an admin who runs the commands with
// device code consents for themselves at first sign-in, so no tenant-wide delegated grant exists.

output appId string = app.appId
output servicePrincipalId string = appPrincipal.id
output accessAsUserScopeId string = accessAsUserScopeId
output applicationPermissions array = applicationPermissions
