import type { ConversationReference } from 'botbuilder';
import type { ConversationStore } from '../records/conversation-store';
import { campaignIdFor, type AupCampaign, type AupCampaignRecipient } from '../records/aup-store';
import type { AupDocument } from '../school/aup-documents';
import { isRole, type Principal, type Role } from '../school/roles';
import { canManageAups, type AupDependencies } from './acknowledge-aup';

/** Sends the AUP card into someone's stored conversation. */
export interface AupCardSender {
  sendAupCard(reference: Partial<ConversationReference>, document: AupDocument, options: { reminder: boolean }): Promise<void>;
}

/** Installs the app for people the bot cannot reach yet (Graph: POST /users/{id}/teamwork/installedApps). */
export interface AupAppInstaller {
  installForUsers(userIds: readonly string[]): Promise<{ userId: string; ok: boolean }[]>;
}

export interface AupCampaignDependencies extends AupDependencies {
  conversations: ConversationStore;
  sender: AupCardSender;
  /** Undefined in plan mode: unreachable people stay pending and are reported. */
  installer?: AupAppInstaller;
  reminderDays: number;
}

export type StartCampaignOutcome =
  | { kind: 'forbidden' }
  | { kind: 'unknown-document'; documentIds: string[] }
  | { kind: 'bad-audience'; document: AupDocument; allowed: Role[] }
  | {
      kind: 'started';
      campaign: AupCampaign;
      /** False when this document version and audience already had a campaign; it carries on. */
      created: boolean;
      asked: number;
      sent: number;
      alreadyAcknowledged: number;
      /** People the bot cannot reach yet; they get the card once they can be reached. */
      pendingIds: string[];
      installRequested: number;
    };

/**
 * Starts a campaign for the current version of a document: everyone in the audience role who still owes it
 * gets the card in their 1:1 chat with the bot. Starting the same campaign again sends only to people who
 * have not had it yet.
 */
export async function startAupCampaign(
  deps: AupCampaignDependencies,
  request: { principal: Principal; documentId: string; audience: string; correlationId: string },
): Promise<StartCampaignOutcome> {
  const { principal } = request;
  if (!canManageAups(principal)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'aup.campaign.start', target: `aup:${request.documentId}`, outcome: 'denied', correlationId: request.correlationId });
    return { kind: 'forbidden' };
  }
  const documents = await deps.documents.listAupDocuments();
  const document = documents.find((d) => d.id === request.documentId);
  if (!document) return { kind: 'unknown-document', documentIds: documents.map((d) => d.id) };
  const allowed = document.audience.filter(isRole);
  const audience = request.audience.toLowerCase();
  if (!isRole(audience) || !allowed.includes(audience)) return { kind: 'bad-audience', document, allowed };

  const now = deps.clock();
  const { created, campaign } = await deps.store.createCampaign(deps.schoolId, {
    campaignId: campaignIdFor(document.id, document.version, audience),
    documentId: document.id,
    version: document.version,
    audience,
    startedBy: principal.aadObjectId,
    startedAt: now.toISOString(),
  });
  const members = [...new Set(await deps.roles.listRoleMembers(audience))];
  const done = new Set((await deps.store.listAcknowledgements(deps.schoolId, document.id, document.version)).map((a) => a.personId));
  let sent = 0;
  const pendingIds: string[] = [];
  for (const personId of members.filter((id) => !done.has(id))) {
    const recipient = await deps.store.addRecipient(deps.schoolId, { campaignId: campaign.campaignId, personId, status: 'pending', lastSentAt: '', reminders: 0 });
    if (recipient.status === 'sent') continue;
    if (await deliver(deps, document, recipient, { reminder: false })) sent++;
    else pendingIds.push(personId);
  }
  let installRequested = 0;
  // Pupils acknowledge on paper and the app is not allowed for them in Teams (README, "Graph permissions"),
  // so a pupil campaign never asks Graph to install it for them.
  if (deps.installer && audience !== 'pupil' && pendingIds.length > 0) {
    const results = await deps.installer.installForUsers(pendingIds);
    installRequested = results.filter((r) => r.ok).length;
  }
  await deps.audit.appendAudit(deps.schoolId, {
    actorId: principal.aadObjectId,
    action: 'aup.campaign.start',
    target: `aup:${document.id}:v${document.version}`,
    outcome: 'succeeded',
    correlationId: request.correlationId,
    details: { campaignId: campaign.campaignId, audience, created, sent, pending: pendingIds.length, installRequested },
  });
  deps.logger.info('aup.campaign.started', { campaignId: campaign.campaignId, sent, pending: pendingIds.length, correlationId: request.correlationId });
  return { kind: 'started', campaign, created, asked: members.length, sent, alreadyAcknowledged: members.filter((id) => done.has(id)).length, pendingIds, installRequested };
}

/** What one reminder run did. */
export interface ReminderRunResult {
  reminded: number;
  /** Pending people who could be reached at last and got their first card. */
  delivered: number;
  stillPending: number;
  /** New members of a campaign's role since it started, added to it (each gets the card as soon as the bot can reach them). */
  newStarters: number;
}

/**
 * The scheduled reminder run. For each campaign whose document version is still current: people who could
 * not be reached get their first card once they can be; people who were sent it and still owe it are
 * reminded every `reminderDays`. Each send is claimed with the recipient's etag first, so two instances
 * running at once never send the same card twice.
 */
export async function sendAupReminders(deps: AupCampaignDependencies): Promise<ReminderRunResult> {
  const result: ReminderRunResult = { reminded: 0, delivered: 0, stillPending: 0, newStarters: 0 };
  const documents = await deps.documents.listAupDocuments();
  const dueAfterMs = deps.reminderDays * 24 * 60 * 60 * 1000;
  for (const campaign of await deps.store.listCampaigns(deps.schoolId)) {
    const document = documents.find((d) => d.id === campaign.documentId && d.version === campaign.version);
    if (!document) continue; // A newer version replaced it; a new campaign asks for that one.
    const done = new Set((await deps.store.listAcknowledgements(deps.schoolId, document.id, document.version)).map((a) => a.personId));
    const recipients = await deps.store.listRecipients(deps.schoolId, campaign.campaignId);
    // New starters: whoever joined the campaign's role since it started is added to it, so they get the
    // current AUP on this run (hourly) or as soon as the bot can reach them, well within a day.
    if (isRole(campaign.audience)) {
      const asked = new Set(recipients.map((r) => r.personId));
      for (const personId of new Set(await deps.roles.listRoleMembers(campaign.audience))) {
        if (asked.has(personId) || done.has(personId)) continue;
        recipients.push(await deps.store.addRecipient(deps.schoolId, { campaignId: campaign.campaignId, personId, status: 'pending', lastSentAt: '', reminders: 0 }));
        result.newStarters++;
      }
    }
    for (const recipient of recipients) {
      if (done.has(recipient.personId)) continue;
      if (recipient.status === 'pending') {
        if (await deliver(deps, document, recipient, { reminder: false })) result.delivered++;
        else result.stillPending++;
      } else if (deps.clock().getTime() - Date.parse(recipient.lastSentAt) >= dueAfterMs) {
        if (await deliver(deps, document, recipient, { reminder: true })) result.reminded++;
      }
    }
  }
  if (result.reminded + result.delivered > 0) deps.logger.info('aup.reminders.sent', { ...result });
  return result;
}

/** Claims the recipient with its etag, then sends; a failed send puts them back to try again next run. */
async function deliver(deps: AupCampaignDependencies, document: AupDocument, recipient: AupCampaignRecipient, options: { reminder: boolean }): Promise<boolean> {
  const conversation = await deps.conversations.getConversation(deps.schoolId, recipient.personId);
  if (!conversation) return false;
  const claimed = await deps.store.claimRecipient(deps.schoolId, recipient, {
    status: 'sent',
    lastSentAt: deps.clock().toISOString(),
    reminders: recipient.reminders + (options.reminder ? 1 : 0),
  });
  if (!claimed) return false;
  try {
    await deps.sender.sendAupCard(conversation, document, options);
    return true;
  } catch (error) {
    deps.logger.warn('aup.card.undelivered', { campaignId: recipient.campaignId, recipientId: recipient.personId, errorName: (error as Error).name });
    await deps.store.claimRecipient(deps.schoolId, claimed, { status: recipient.status, lastSentAt: recipient.lastSentAt, reminders: recipient.reminders }).catch(() => undefined);
    return false;
  }
}
