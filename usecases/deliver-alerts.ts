import type { Logger } from '../infra/logger';
import type { ConversationStore } from '../records/conversation-store';
import type { AlertRecord, IncidentStore } from '../records/incident-store';
import type { ConversationReference } from 'botbuilder';
import { incidentTypeLabel } from '../school/incident-types';

/** Sends a proactive message into a stored conversation. */
export interface ProactiveMessenger {
  sendText(reference: Partial<ConversationReference>, text: string): Promise<void>;
}

export interface AlertDeliveryDependencies {
  schoolId: string;
  incidents: IncidentStore;
  conversations: ConversationStore;
  messenger: ProactiveMessenger;
  clock: () => Date;
  logger: Logger;
  /** An alert claimed by an instance that died is sent by another after this long; default `ALERT_CLAIM_MS`. */
  staleAfterMs?: number;
}

/** How long a claim on an alert lasts: an instance that dies mid-send leaves the alert to the next sweep within a minute. */
export const ALERT_CLAIM_MS = 60_000;

/** The alert text: the category and the reference, never the content (as CPOMS does). */
export function alertText(alert: Pick<AlertRecord, 'reference' | 'type' | 'urgent'>): string {
  const prefix = alert.urgent ? 'URGENT e-safety concern' : 'New e-safety concern';
  return `${prefix} ${alert.reference}: ${incidentTypeLabel(alert.type)}. Open the E-Safety app to see it.`;
}

/**
 * Delivers pending alerts. Each alert is claimed with its etag first, so when several instances run
 * this at once each alert is sent by one of them. Alerts for people the bot cannot reach yet stay
 * pending and go out the next time that person talks to the bot. Returns how many were delivered.
 */
export async function deliverPendingAlerts(deps: AlertDeliveryDependencies, options: { recipientId?: string; reference?: string } = {}): Promise<number> {
  const now = deps.clock();
  const staleAfterMs = deps.staleAfterMs ?? ALERT_CLAIM_MS;
  const pending = options.reference
    ? (await deps.incidents.listAlertsForIncident(deps.schoolId, options.reference)).filter((a) => a.status === 'pending' || isStale(a, now, staleAfterMs))
    : await deps.incidents.listPendingAlerts(deps.schoolId, { recipientId: options.recipientId, now, staleAfterMs });
  if (pending.length === 0) return 0;
  const conversations = await deps.conversations.getConversations(deps.schoolId, pending.map((a) => a.recipientId));
  let delivered = 0;
  for (const alert of pending) {
    const conversation = conversations.get(alert.recipientId);
    if (!conversation) continue;
    const claimed = await deps.incidents.claimAlert(alert, now);
    if (!claimed) continue;
    if (await send(deps, claimed, conversation)) delivered++;
  }
  return delivered;
}

/**
 * Delivers alerts this instance claimed when it wrote them (`createIncident` with `claimAlertsAt`), so they need
 * no listing and no second claim: one read for the recipients' conversations, then a send and a write per alert.
 * An alert whose recipient the bot cannot reach yet is handed back as pending for the sweep.
 */
export async function deliverClaimedAlerts(deps: AlertDeliveryDependencies, alerts: readonly AlertRecord[]): Promise<number> {
  let claimed = alerts.filter((a) => a.status === 'sending');
  if (claimed.length === 0) return 0;
  if (claimed.some((a) => !a.etag)) {
    // The store could not return the rows' etags: read them once, keeping only the rows still under our claim.
    const stored = await deps.incidents.listAlertsForIncident(deps.schoolId, claimed[0]!.reference);
    claimed = stored.filter((row) => row.status === 'sending' && claimed.some((a) => a.recipientId === row.recipientId && a.claimedAt === row.claimedAt));
  }
  const conversations = await deps.conversations.getConversations(deps.schoolId, claimed.map((a) => a.recipientId));
  let delivered = 0;
  for (const alert of claimed) {
    const conversation = conversations.get(alert.recipientId);
    if (!conversation) {
      await deps.incidents.completeAlert(alert, 'pending', deps.clock()).catch(() => undefined);
      continue;
    }
    if (await send(deps, alert, conversation)) delivered++;
  }
  return delivered;
}

async function send(deps: AlertDeliveryDependencies, claimed: AlertRecord, conversation: Partial<ConversationReference>): Promise<boolean> {
  try {
    await deps.messenger.sendText(conversation, alertText(claimed));
    await deps.incidents.completeAlert(claimed, 'delivered', deps.clock());
    deps.logger.info('alert.delivered', { reference: claimed.reference, role: claimed.role, recipientId: claimed.recipientId });
    return true;
  } catch (error) {
    deps.logger.warn('alert.undelivered', { reference: claimed.reference, role: claimed.role, recipientId: claimed.recipientId, errorName: (error as Error).name });
    deps.conversations.forgetConversation(deps.schoolId, claimed.recipientId);
    await deps.incidents.completeAlert(claimed, 'pending', deps.clock()).catch(() => undefined);
    return false;
  }
}

function isStale(alert: AlertRecord, now: Date, staleAfterMs: number): boolean {
  return alert.status === 'sending' && alert.claimedAt !== undefined && Date.parse(alert.claimedAt) < now.getTime() - staleAfterMs;
}
