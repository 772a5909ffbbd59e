import { randomUUID } from 'node:crypto';

/** A Teams user as the channel describes them in activities. */
export interface TeamsUser {
  aadObjectId: string;
  name: string;
}

export const TENANT_ID = '11111111-2222-3333-4444-555555555555';

function base(user: TeamsUser, serviceUrl: string) {
  return {
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    from: { id: `29:${user.aadObjectId}`, aadObjectId: user.aadObjectId, name: user.name },
    recipient: { id: '28:e-safety-bot', name: 'E-Safety' },
    conversation: { id: `a:personal-${user.aadObjectId}`, conversationType: 'personal', tenantId: TENANT_ID },
    channelData: { tenant: { id: TENANT_ID } },
    locale: 'en-GB',
  };
}

/** A 1:1 chat message, shaped as Teams posts it to /api/messages. */
export function messageActivity(user: TeamsUser, text: string, serviceUrl: string) {
  return { ...base(user, serviceUrl), type: 'message', text, textFormat: 'plain' };
}

/** The invoke Teams sends when someone presses an Action.Execute button (Universal Actions). */
export function cardActionInvoke(user: TeamsUser, verb: string, data: Record<string, unknown>, serviceUrl: string) {
  return {
    ...base(user, serviceUrl),
    type: 'invoke',
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  };
}

export function installActivity(user: TeamsUser, serviceUrl: string) {
  return { ...base(user, serviceUrl), type: 'installationUpdate', action: 'add' };
}

export function newUser(name: string): TeamsUser {
  return { aadObjectId: randomUUID(), name };
}

/** The invokes Teams sends for a message action ("Report this message"): open the dialog, then submit it. */
export function messageActionInvoke(user: TeamsUser, name: 'composeExtension/fetchTask' | 'composeExtension/submitAction', value: Record<string, unknown>, serviceUrl: string) {
  return { ...base(user, serviceUrl), type: 'invoke', name, value: { commandContext: 'message', ...value } };
}
