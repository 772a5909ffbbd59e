import { randomUUID } from 'node:crypto';
import { htmlToText } from './message-text';
import {
  TeamsActivityHandler,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ConversationReference,
  type InvokeResponse,
  type MessagingExtensionAction,
  type MessagingExtensionActionResponse,
  type SearchInvokeValue,
} from 'botbuilder';
import type { Logger } from '../infra/logger';
import type { RoleDirectory } from '../identity/role-directory';
import type { ConversationStore } from '../records/conversation-store';
import type { AlertRecord } from '../records/incident-store';
import { StorageUnavailableError } from '../records/tables';
import { readIncidentForm, schoolDate } from '../school/incident-submission';
import { canReportIncidents, type Principal } from '../school/roles';
import { deliverClaimedAlerts, deliverPendingAlerts, type AlertDeliveryDependencies } from '../usecases/deliver-alerts';
import { listMyReports, reportIncident, type ReportIncidentDependencies } from '../usecases/report-incident';
import { pupilsForReportCard, searchPupilsForReport } from '../usecases/pupil-picker';
import { cardResponse, messageResponse, type BotFeature } from './bot-feature';
import { buildIncidentRecordedCard, buildMyReportsCard, buildReportCard, PUPIL_DATASET, toAttachment, type AdaptiveCardJson } from './cards/cards';
import { answerTypeahead, searchError, type TypeaheadDataset } from './typeahead';

export interface EsafetyBotDependencies {
  schoolId: string;
  roles: RoleDirectory;
  conversations: ConversationStore;
  report: ReportIncidentDependencies;
  alerts: AlertDeliveryDependencies;
  logger: Logger;
  clock: () => Date;
  newId?: () => string;
  /** Commands and card verbs contributed by other features (AUPs, meetings, …). */
  features?: BotFeature[];
  /** Typeahead datasets besides the report card's pupils (e.g. staff); each checks roles and audits itself. */
  searchDatasets?: TypeaheadDataset[];
}

function helpText(features: readonly BotFeature[]): string {
  return [
    'I help the school keep children safe online. You can send me:',
    '- **/report**: report an e-safety concern (you get a reference number and the suggested next steps)',
    '- **/myreports**: list the concerns you have reported',
    ...features.flatMap((f) => f.commands ?? []).map((c) => `- **/${c.name}**: ${c.help}`),
    '- **/help**: this message',
    'If a child is in immediate danger, call 999 and tell the DSL in person now.',
  ].join('\n\n');
}

/** What someone who is not staff is told when they ask for the report card: who to talk to, and nothing else. */
const NOT_STAFF =
  'Only members of staff can report concerns here. If you are worried about a child, please talk to the school\'s e-safety coordinator or the Designated Safeguarding Lead (DSL) today. If a child is in immediate danger, call 999.';

const SAFE_ERROR = 'Sorry, something went wrong on our side. Nothing has been lost: please try again in a minute, and tell the DSL in person if it is urgent.';
const NOT_SAVED_UNEXPECTED =
  'Your report has NOT been saved because of a problem on our side. Everything you typed is still here: press Submit again in a minute; if it is urgent, tell the DSL in person now.';
const NOT_SAVED =
  'Your report has NOT been saved: the school\'s records store cannot be reached right now. Everything you typed is still here. Press Submit again in a minute; if it is urgent, tell the DSL in person now.';

/** Strips mentions and a leading slash: "<at>E-Safety</at> /AUP campaign x" becomes command "aup", args "campaign x". */
export function readCommand(context: TurnContext): { command: string; args: string } {
  const text = (TurnContext.removeRecipientMention(context.activity) ?? context.activity.text ?? '').trim().replace(/^\//, '');
  const [word = '', ...rest] = text.split(/\s+/);
  return { command: word.toLowerCase(), args: rest.join(' ') };
}

/** The bot's Teams surface. Handlers stay thin: they identify the caller and hand over to the use cases. */
export class EsafetyBot extends TeamsActivityHandler {
  private readonly newId: () => string;
  private readonly features: readonly BotFeature[];
  private readonly helpText: string;
  private readonly datasets: readonly TypeaheadDataset[];

  constructor(private readonly deps: EsafetyBotDependencies) {
    super();
    this.newId = deps.newId ?? randomUUID;
    this.features = deps.features ?? [];
    this.helpText = helpText(this.features);
    const pupils: TypeaheadDataset = {
      name: PUPIL_DATASET,
      search: async (principal, query, correlationId) => {
        const outcome = await searchPupilsForReport(deps.report, principal, query, correlationId);
        return outcome.kind === 'results' ? { kind: 'results', results: outcome.pupils.map((p) => ({ title: p.label, value: `pupil:${p.pupilId}` })) } : outcome;
      },
    };
    this.datasets = [pupils, ...(deps.searchDatasets ?? [])];

    this.onMessage(async (context, next) => {
      const principal = await this.identify(context);
      if (!principal) {
        await context.sendActivity('I could not tell who you are. Please message me from Microsoft Teams with your school account.');
        return next();
      }
      await this.rememberConversation(context, principal.aadObjectId);
      const { command, args } = readCommand(context);
      await this.handleCommand(context, principal, command, args);
      // Anything that was waiting for this person goes out now that the bot can reach them.
      await deliverPendingAlerts(this.deps.alerts, { recipientId: principal.aadObjectId });
      return next();
    });

    this.onInstallationUpdateAdd(async (context, next) => {
      const id = context.activity.from?.aadObjectId;
      if (id) await this.rememberConversation(context, id.toLowerCase());
      await context.sendActivity(this.helpText);
      return next();
    });
  }

  private async handleCommand(context: TurnContext, principal: Principal, command: string, args: string): Promise<void> {
    const correlationId = context.activity.id ?? this.newId();
    const contributed = this.features.flatMap((f) => f.commands ?? []).find((c) => c.name === command);
    if (contributed) return contributed.handle(context, principal, args);
    switch (command) {
      case 'report': {
        const card = await this.reportCard(principal, correlationId, { submissionId: this.newId() });
        await context.sendActivity(card ? { attachments: [toAttachment(card)] } : NOT_STAFF);
        return;
      }
      case 'myreports': {
        const reports = await listMyReports(this.deps.report, principal, correlationId);
        await context.sendActivity({ attachments: [toAttachment(buildMyReportsCard(reports))] });
        return;
      }
      default:
        // Free text or an unknown command was not recorded: say so first, so nobody believes a concern was reported.
        await context.sendActivity(command === 'help' || command === '' ? this.helpText : `This was **not** recorded. Type /report to report a concern.\n\n${this.helpText}`);
    }
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = invokeValue.action?.verb;
    const contributed = this.features.flatMap((f) => f.cardVerbs ?? []).find((v) => v.verb === verb);
    if (contributed) {
      const principal = await this.identify(context);
      if (!principal) return messageResponse('I could not tell who you are. Please use Microsoft Teams with your school account.');
      const data = (invokeValue.action?.data ?? {}) as Record<string, unknown>;
      const trigger = (invokeValue as { trigger?: 'manual' | 'automatic' }).trigger;
      return contributed.handle(context, principal, data, trigger);
    }
    if (verb !== 'submitIncident') {
      // The verb is client-supplied text: log only its length, never its content.
      this.deps.logger.warn('card.unknown-verb', { correlationId: context.activity.id, verbLength: String(verb ?? '').length });
      return messageResponse('This card is not supported any more: send /help to see what I can do.');
    }
    const answer = await this.submitReport(context, invokeValue.action?.data);
    return answer.kind === 'card' ? cardResponse(answer.card) : messageResponse(answer.text);
  }

  /** "Report this message": opens the report card in a dialog, with the message's text as the description. */
  protected override async handleTeamsMessagingExtensionFetchTask(context: TurnContext, action: MessagingExtensionAction): Promise<MessagingExtensionActionResponse> {
    if (action.commandId !== 'reportMessage') return { task: { type: 'message', value: 'This action is not supported any more.' } };
    const principal = await this.identify(context);
    // The use case decides, and audits a refusal; for anyone but staff the message's text goes nowhere.
    if (!principal) return { task: { type: 'message', value: NOT_STAFF } };
    const payload = action.messagePayload;
    const text = htmlToText(payload?.body?.content ?? '');
    const description = `From a Teams message${payload?.linkToMessage ? ` (${payload.linkToMessage})` : ''}:\n${text}`.slice(0, 4000);
    const sentOn = payload?.createdDateTime ? schoolDate(new Date(payload.createdDateTime)) : '';
    const card = await this.reportCard(principal, context.activity.id ?? this.newId(), { submissionId: this.newId(), values: { description, occurredOn: sentOn } });
    return card ? dialog(card) : { task: { type: 'message', value: NOT_STAFF } };
  }

  protected override async handleTeamsMessagingExtensionSubmitAction(context: TurnContext, action: MessagingExtensionAction): Promise<MessagingExtensionActionResponse> {
    const answer = await this.submitReport(context, action.data);
    return answer.kind === 'card' ? dialog(answer.card) : { task: { type: 'message', value: answer.text } };
  }

  /** Shared by the chat card and the dialog: validate, record, alert, and say what happened. */
  private async submitReport(context: TurnContext, rawData: unknown): Promise<{ kind: 'card'; card: AdaptiveCardJson } | { kind: 'message'; text: string }> {
    const correlationId = context.activity.id ?? this.newId();
    const logger = this.deps.logger.child({ correlationId });
    const data = (typeof rawData === 'object' && rawData !== null ? rawData : {}) as Record<string, unknown>;
    const values = readIncidentForm(data);
    const submissionId = typeof data.submissionId === 'string' ? data.submissionId : '';
    let principal: Principal | undefined;
    const cardAgain = async (problems: Parameters<typeof buildReportCard>[0]['problems'], banner?: string) => {
      const options = { submissionId: submissionId || this.newId(), values, problems, banner };
      // Only staff get a card back, and the pupils on it are read again for them (never taken from the submission).
      if (!principal || !canReportIncidents(principal)) return { kind: 'message' as const, text: banner ?? NOT_STAFF };
      const card = await this.reportCard(principal, correlationId, options).catch(() => buildReportCard({ ...options, pupilChoices: [], pupilSearch: PUPIL_DATASET }));
      return { kind: 'card' as const, card: card ?? buildReportCard({ ...options, pupilChoices: [], pupilSearch: PUPIL_DATASET }) };
    };

    try {
      principal = await this.identify(context);
      if (!principal) return { kind: 'message', text: 'I could not tell who you are. Please use Microsoft Teams with your school account.' };
      const outcome = await reportIncident(this.deps.report, { principal, submissionId, values, correlationId });
      switch (outcome.kind) {
        case 'forbidden':
          logger.warn('incident.report.denied', { actorId: principal.aadObjectId });
          return { kind: 'message', text: NOT_STAFF };
        case 'invalid':
          return cardAgain(outcome.problems);
        case 'storage-unavailable':
          logger.error('incident.report.not-saved', { actorId: principal.aadObjectId, reason: 'storage-unavailable' });
          return cardAgain([], NOT_SAVED);
        case 'recorded': {
          logger.info('incident.reported', { reference: outcome.incident.reference, type: outcome.incident.type, duplicate: outcome.duplicate });
          if (!outcome.duplicate) void this.sendAlerts(outcome.incident.reference, logger, outcome.claimedAlerts);
          return {
            kind: 'card',
            card: buildIncidentRecordedCard({
              reference: outcome.incident.reference,
              type: outcome.incident.type,
              occurredOn: outcome.incident.occurredOn,
              suggestedActions: outcome.suggestedActions,
              illegalGuidance: outcome.illegalGuidance,
              alertedRoles: outcome.alertedRoles,
            }),
          };
        }
      }
    } catch (error) {
      logger.error('incident.report.failed', { errorName: (error as Error).name });
      return cardAgain([], error instanceof StorageUnavailableError ? NOT_SAVED : NOT_SAVED_UNEXPECTED);
    }
  }

  /**
   * The report card for staff, or undefined for anyone else (who must get no pupil data at all). A tiny roll is
   * listed on the card; any other is searched as the user types, and the card lists only the pupils already chosen.
   */
  private async reportCard(
    principal: Principal,
    correlationId: string,
    options: Omit<Parameters<typeof buildReportCard>[0], 'pupilChoices' | 'pupilSearch' | 'pupilsComplete'>,
  ): Promise<AdaptiveCardJson | undefined> {
    const chosen = (options.values?.involved ?? '').split(',').map((t) => t.trim()).filter((t) => t.startsWith('pupil:')).map((t) => t.slice('pupil:'.length));
    const pupils = await pupilsForReportCard(this.deps.report, principal, chosen, correlationId);
    if (pupils.kind === 'forbidden') return undefined;
    const pupilChoices = pupils.listed.map((p) => ({ title: p.label, value: `pupil:${p.pupilId}` }));
    return buildReportCard({ ...options, pupilChoices, pupilSearch: PUPIL_DATASET, pupilsComplete: pupils.wholeRoll });
  }

  /**
   * Teams' dynamic typeahead (`application/search`). Handled before botbuilder's own reader, which refuses an
   * empty query with an error; here an empty or short query just offers nobody.
   */
  protected override async onInvokeActivity(context: TurnContext): Promise<InvokeResponse> {
    if (context.activity.name !== 'application/search') return super.onInvokeActivity(context);
    const correlationId = context.activity.id ?? this.newId();
    try {
      const principal = await this.identify(context);
      const response = await answerTypeahead(this.datasets, principal, context.activity.value as Partial<SearchInvokeValue> | undefined, correlationId);
      return { status: response.statusCode, body: response };
    } catch (error) {
      this.deps.logger.error('typeahead.failed', { correlationId, errorName: (error as Error).name });
      const body = searchError(500, 'InternalError', 'The search is not available right now: type the name again in a minute.');
      return { status: 500, body };
    }
  }

  /** Alerts are already safe in the outbox; sending them now is best effort, and the sweep retries. */
  private async sendAlerts(reference: string, logger: Logger, claimed?: AlertRecord[]): Promise<void> {
    try {
      // The turn's logger, so the alert lines carry the report's correlation id.
      if (claimed) await deliverClaimedAlerts({ ...this.deps.alerts, logger }, claimed);
      else await deliverPendingAlerts({ ...this.deps.alerts, logger }, { reference });
    } catch (error) {
      logger.warn('alert.dispatch-deferred', { reference, errorName: (error as Error).name });
    }
  }

  private async identify(context: TurnContext): Promise<Principal | undefined> {
    const id = context.activity.from?.aadObjectId;
    return id ? this.deps.roles.getPrincipal(id) : undefined;
  }

  /** Stores how to reach this person proactively (alerts, campaigns), in this school's partition. */
  async rememberConversation(context: TurnContext, aadObjectId: string): Promise<void> {
    const reference: Partial<ConversationReference> = TurnContext.getConversationReference(context.activity);
    await this.deps.conversations.upsertConversation(this.deps.schoolId, aadObjectId, reference, this.deps.clock());
  }
}

/** Dialogs (task modules) do not run Universal Actions, so the card's Action.Execute becomes an Action.Submit there. */
function dialog(card: AdaptiveCardJson): MessagingExtensionActionResponse {
  const actions = ((card.actions as Record<string, unknown>[] | undefined) ?? []).map((action) =>
    action.type === 'Action.Execute' ? { type: 'Action.Submit', title: action.title, data: action.data } : action,
  );
  return { task: { type: 'continue', value: { title: 'Report an e-safety concern', width: 'large', height: 'large', card: toAttachment({ ...card, actions }) } } };
}



export { SAFE_ERROR };
