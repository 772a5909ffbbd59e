import { cardActionInvoke, type TeamsUser } from './teams-activities';

/**
 * The invoke Teams sends when it shows a card with `refresh` to a user listed in `refresh.userIds`
 * (Universal Actions, trigger "automatic").
 */
export function cardRefreshInvoke(user: TeamsUser, verb: string, data: Record<string, unknown>, serviceUrl: string) {
  const invoke = cardActionInvoke(user, verb, data, serviceUrl);
  return { ...invoke, value: { ...invoke.value, trigger: 'automatic' } };
}
