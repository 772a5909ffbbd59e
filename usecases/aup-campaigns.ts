import type { ConversationReference } from 'botbuilder';
import type { ConversationStore } from '../records/conversation-store';
import { campaignIdFor, type AupCampaign, type AupCampaignRecipient } from '../records/aup-store';
import { fitsYearGroup, renewalYear, type AupDocument } from '../school/aup-documents';
import { isRole, type Principal, type Role } from '../school/roles';
import { canManageAups, pupilYearGroupLookup, type AupDependencies } from './acknowledge-aup';

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

  return runCampaign(deps, document, audience, principal.aadObjectId, request.correlationId);
}

/**
 * Creates (insert-once) and sends the campaign for a document's current version and audience, and for an
 * annual document the current academic year. `startedBy` is a person's object id, or RENEWAL_ACTOR.
 */
async function runCampaign(deps: AupCampaignDependencies, document: AupDocument, audience: Role, startedBy: string, correlationId: string, options: { onlyIfNew?: boolean } = {}): Promise<Extract<StartCampaignOutcome, { kind: 'started' }>> {
  const now = deps.clock();
  const academicYear = renewalYear(document, now);
  const { created, campaign } = await deps.store.createCampaign(deps.schoolId, {
    campaignId: campaignIdFor(document.id, document.version, audience, academicYear),
    documentId: document.id,
    version: document.version,
    audience,
    startedBy,
    startedAt: now.toISOString(),
    ...(academicYear === undefined ? {} : { academicYear }),
  });
  // A renewal another instance has just started is theirs to send (and the reminder run's to finish).
  if (!created && options.onlyIfNew) return { kind: 'started', campaign, created, asked: 0, sent: 0, alreadyAcknowledged: 0, pendingIds: [], installRequested: 0 };
  const members = await membersAsked(deps, document, audience);
  const done = new Set((await deps.store.listAcknowledgements(deps.schoolId, document.id, document.version, academicYear)).map((a) => a.personId));
  let sent = 0;
  const pendingIds: string[] = [];
  for (const personId of members.filter((id) => !done.has(id))) {
    const recipient = await deps.store.addRecipient(deps.schoolId, { campaignId: campaign.campaignId, personId, status: 'pending', lastSentAt: '', reminders: 0 });
    if (recipient.status !== 'pending') continue; // Sent, or being sent by another instance.
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
    actorId: startedBy,
    action: 'aup.campaign.start',
    target: `aup:${document.id}:v${document.version}`,
    outcome: 'succeeded',
    correlationId,
    details: { campaignId: campaign.campaignId, audience, created, sent, pending: pendingIds.length, installRequested, ...(academicYear === undefined ? {} : { academicYear }) },
  });
  deps.logger.info('aup.campaign.started', { campaignId: campaign.campaignId, sent, pending: pendingIds.length, correlationId });
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
    const academicYear = renewalYear(document, deps.clock());
    if (campaign.academicYear !== academicYear) continue; // Last year's campaign for an annual document; this year's renewal asks again.
    const done = new Set((await deps.store.listAcknowledgements(deps.schoolId, document.id, document.version, academicYear)).map((a) => a.personId));
    const recipients = await deps.store.listRecipients(deps.schoolId, campaign.campaignId);
    // New starters: whoever joined the campaign's role since it started is added to it, so they get the
    // current AUP on this run (hourly) or as soon as the bot can reach them, well within a day.
    if (isRole(campaign.audience)) {
      const asked = new Set(recipients.map((r) => r.personId));
      for (const personId of await membersAsked(deps, document, campaign.audience)) {
        if (asked.has(personId) || done.has(personId)) continue;
        recipients.push(await deps.store.addRecipient(deps.schoolId, { campaignId: campaign.campaignId, personId, status: 'pending', lastSentAt: '', reminders: 0 }));
        result.newStarters++;
      }
    }
    for (const recipient of recipients) {
      if (done.has(recipient.personId)) continue;
      if (recipient.status === 'pending' || isStaleSend(recipient, deps.clock())) {
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

/** How long an instance's claim on one card send lasts: a holder that died frees the send within a minute. */
export const AUP_SEND_CLAIM_MS = 60_000;

function isStaleSend(recipient: AupCampaignRecipient, now: Date): boolean {
  return recipient.status === 'sending' && !(now.getTime() - Date.parse(recipient.lastSentAt) < AUP_SEND_CLAIM_MS);
}

/**
 * Claims the recipient with its etag (`sending`, expiring after AUP_SEND_CLAIM_MS), sends, then marks them
 * `sent`; a failed send puts them back to try again next run. A holder that dies after sending but before
 * marking leaves a claim that expires, so the card may go twice but is never lost (acknowledging is idempotent).
 */
async function deliver(deps: AupCampaignDependencies, document: AupDocument, recipient: AupCampaignRecipient, options: { reminder: boolean }): Promise<boolean> {
  const conversation = await deps.conversations.getConversation(deps.schoolId, recipient.personId);
  if (!conversation) return false;
  const sentAt = deps.clock().toISOString();
  const reminders = recipient.reminders + (options.reminder ? 1 : 0);
  const claimed = await deps.store.claimRecipient(deps.schoolId, recipient, { status: 'sending', lastSentAt: sentAt, reminders });
  if (!claimed) return false;
  try {
    await deps.sender.sendAupCard(conversation, document, options);
  } catch (error) {
    deps.logger.warn('aup.card.undelivered', { campaignId: recipient.campaignId, recipientId: recipient.personId, errorName: (error as Error).name });
    await deps.store.claimRecipient(deps.schoolId, claimed, { status: recipient.status, lastSentAt: recipient.lastSentAt, reminders: recipient.reminders }).catch(() => undefined);
    return false;
  }
  // The card is out. Should this write fail, the claim expires and the card goes again: twice, never lost.
  await deps.store.claimRecipient(deps.schoolId, claimed, { status: 'sent', lastSentAt: sentAt, reminders }).catch(() => undefined);
  return true;
}

/** What one renewal check did. */
export interface RenewalRunResult {
  /** Campaigns this run created for the new academic year (another instance's run finds them made and creates none). */
  started: { campaignId: string; sent: number; pending: number }[];
  /** Annual campaigns for this academic year that already existed. */
  alreadyRunning: number;
}

/** Who starts the September renewal campaigns in the audit log. */
export const RENEWAL_ACTOR = 'system:aup-renewal';

/**
 * The September renewal, run by the hourly AUP job. For every document marked `renewal: annual`, each role
 * in its audience gets a campaign for the current academic year (from midnight on 1 September, Europe/London),
 * so last year's acknowledgements no longer count and everyone is asked again.
 *
 * Exactly once across instances: the campaign row is the claim. Its key carries the academic year and it is
 * written with an insert (createEntity), so when two instances run at once only one insert succeeds and only
 * that run counts as starting the renewal; the other sees the row and moves on. The claim cannot be stranded
 * by a holder that dies part-way: recipients are added and sent by the same hourly job (`sendAupReminders`
 * adds whoever in the role has not been asked, and each send is etag-claimed), so the next run of any instance
 * finishes what the dead one started, within the hour.
 *
 * A school that has never run a campaign for a document is not started automatically: the first campaign is
 * the coordinator's decision, and renewal carries it on each September.
 */
export async function startAnnualRenewals(deps: AupCampaignDependencies, correlationId = `aup-renewal-${deps.clock().toISOString()}`): Promise<RenewalRunResult> {
  const result: RenewalRunResult = { started: [], alreadyRunning: 0 };
  const now = deps.clock();
  const documents = (await deps.documents.listAupDocuments()).filter((d) => d.renewal === 'annual');
  if (documents.length === 0) return result;
  const campaigns = await deps.store.listCampaigns(deps.schoolId);
  for (const document of documents) {
    const academicYear = renewalYear(document, now)!;
    const everRun = campaigns.filter((c) => c.documentId === document.id);
    if (everRun.length === 0) continue;
    for (const audience of document.audience.filter(isRole)) {
      if (everRun.some((c) => c.audience === audience && c.version === document.version && c.academicYear === academicYear)) {
        result.alreadyRunning++;
        continue;
      }
      if (!everRun.some((c) => c.audience === audience)) continue;
      const outcome = await runCampaign(deps, document, audience, RENEWAL_ACTOR, correlationId, { onlyIfNew: true });
      if (outcome.created) result.started.push({ campaignId: outcome.campaign.campaignId, sent: outcome.sent, pending: outcome.pendingIds.length });
      else result.alreadyRunning++;
    }
  }
  if (result.started.length > 0) deps.logger.info('aup.renewal.started', { campaigns: result.started.length, correlationId });
  return result;
}

/** The members of a role a document asks: for a pupil document with year groups, only the pupils in them. */
async function membersAsked(deps: AupCampaignDependencies, document: AupDocument, audience: Role): Promise<string[]> {
  const members = [...new Set(await deps.roles.listRoleMembers(audience))];
  if (audience !== 'pupil' || !document.yearGroups) return members;
  const yearGroupOf = await pupilYearGroupLookup(deps);
  return members.filter((id) => fitsYearGroup(document, yearGroupOf(id)));
}
