import type { Logger } from '../app/logger';
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
  /** An alert claimed by an instance that died is retried after this long. */
  staleAfterMs?: number;
}

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
  const staleAfterMs = deps.staleAfterMs ?? 5 * 60_000;
  const pending = options.reference
    ? (await deps.incidents.listAlertsForIncident(deps.schoolId, options.reference)).filter((a) => a.status === 'pending')
    : await deps.incidents.listPendingAlerts(deps.schoolId, { recipientId: options.recipientId, now, staleAfterMs });
  let delivered = 0;
  for (const alert of pending) {
    const conversation = await deps.conversations.getConversation(deps.schoolId, alert.recipientId);
    if (!conversation) continue;
    const claimed = await deps.incidents.claimAlert(alert, now);
    if (!claimed) continue;
    try {
      await deps.messenger.sendText(conversation, alertText(alert));
      await deps.incidents.completeAlert(claimed, 'delivered', deps.clock());
      delivered++;
      deps.logger.info('alert.delivered', { reference: alert.reference, role: alert.role, recipientId: alert.recipientId });
    } catch (error) {
      deps.logger.warn('alert.undelivered', { reference: alert.reference, role: alert.role, recipientId: alert.recipientId, errorName: (error as Error).name });
      await deps.incidents.completeAlert(claimed, 'pending', deps.clock()).catch(() => undefined);
    }
  }
  return delivered;
}
