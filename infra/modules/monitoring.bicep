// Workspace-based Application Insights: the app's logs and requests land in Log Analytics.

param location string
param workspaceName string
param insightsName string
param retentionDays int

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Entra authentication only: telemetry is accepted from the web app's managed identity (Monitoring Metrics
    // Publisher, modules/role-assignments.bicep), never from whoever holds the connection string's key.
    // https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
    DisableLocalAuth: true
  }
}

output insightsName string = insights.name
