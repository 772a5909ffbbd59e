import { randomUUID } from 'node:crypto';
import type { CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { Logger } from '../infra/logger';
import { StorageUnavailableError } from '../records/tables';
import type { AupDocument } from '../school/aup-documents';
import type { Principal } from '../school/roles';
import { acknowledgeAup, getAupStatus, getAupStatusFor } from '../usecases/acknowledge-aup';
import { startAupCampaign, type AupCampaignDependencies, type AupCardSender } from '../usecases/aup-campaigns';
import { getAupGateStatus, holdPupilsWithoutAup, type AupAccessGateDependencies } from '../usecases/aup-access-gate';
import { getAupCoverage } from '../usecases/aup-coverage';
import type { PeopleNames } from '../usecases/triage-incidents';
import { buildAupAllDoneCard, buildAupCard } from './aup-cards';
import { cardResponse, messageResponse, type BotFeature } from './bot-feature';
import { toAttachment } from './cards/cards';

const TRY_AGAIN = 'Sorry, I could not reach the school\'s records just now, so nothing was saved. Please press the button again in a minute.';
const USAGE = [
  'AUP commands:',
  '- **/aup**: show the acceptable use policies you still need to acknowledge',
  '- **/aup campaign <document> <role>**: ask everyone in a role to acknowledge a document (coordinator, DSL, headteacher), e.g. `/aup campaign staff-aup staff`',
  '- **/aup coverage**: who has acknowledged each document (coordinator, DSL, headteacher)',
  '- **/aup gate**: pupils without a current pupil AUP, and accounts the access gate keeps disabled (admin); **/aup gate hold** keeps those pupils\' accounts disabled until their AUP arrives',
].join('\n\n');
const GATE_ADMIN_ONLY = 'Only the IT admin can use the AUP access gate.';
const GATE_OFF = 'The AUP access gate is off (AUP_ACCESS_GATE=false), so no pupil account is disabled or enabled by it.';
const GATE_PLAN_MODE = 'Holding accounts needs a tenant: the app is in plan mode (no Microsoft Graph connection), so it cannot disable or enable pupil accounts. Connect it to the school\'s tenant (GRAPH_MODE=live) first.';

/** Sends AUP cards proactively through the adapter, into the person's stored 1:1 conversation. */
export class AdapterAupCardSender implements AupCardSender {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
  ) {}

  async sendAupCard(reference: Partial<ConversationReference>, document: AupDocument, options: { reminder: boolean }): Promise<void> {
    const note = options.reminder
      ? 'Reminder: please read and acknowledge this policy.'
      : 'The school asks everyone in your role to read and acknowledge this policy.';
    const card = buildAupCard({ document, note, userId: reference.user?.id });
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      await context.sendActivity({ attachments: [toAttachment(card)] });
    });
  }
}

/**
 * `/aup` and its card verbs. Handlers identify nothing themselves: the bot core passes the server-side principal.
 * `people` names the people a campaign or coverage reply lists (Graph with a tenant, role titles without one);
 * the replies go only to the coordinator, DSL or head who asked, and names never reach the logs.
 */
export function createAupBotFeature(deps: AupCampaignDependencies & { logger: Logger; people?: PeopleNames }, gate?: AupAccessGateDependencies): BotFeature {
  const userId = (context: TurnContext): string | undefined => context.activity.from?.id;

  /**
   * Looks every id up at once (one Graph `$batch` per 20 uncached people) and returns a namer giving the sorted names
   * of any subset; anyone the source cannot name shows by the end of their id, never the whole id.
   */
  async function namer(ids: readonly string[]): Promise<(subset: readonly string[]) => string[]> {
    const unique = [...new Set(ids)];
    const names = deps.people && unique.length > 0 ? await deps.people.displayNames(unique).catch(() => new Map<string, string>()) : new Map<string, string>();
    return (subset) => subset.map((id) => names.get(id) ?? `Unnamed person (…${id.slice(-4)})`).sort((a, b) => a.localeCompare(b, 'en-GB'));
  }

  async function showOwed(context: TurnContext, principal: Principal): Promise<void> {
    const statuses = await getAupStatus(deps, principal);
    if (statuses.length === 0) {
      await context.sendActivity('There is no acceptable use policy for you to acknowledge here. If you think there should be, ask the e-safety coordinator.');
      return;
    }
    const owed = statuses.filter((s) => !s.acknowledgement);
    if (owed.length === 0) {
      await context.sendActivity({ attachments: [toAttachment(buildAupAllDoneCard(statuses.map((s) => ({ document: s.document, acknowledgement: s.acknowledgement! }))))] });
      return;
    }
    await context.sendActivity({ attachments: owed.map((s) => toAttachment(buildAupCard({ document: s.document, userId: userId(context) }))) });
  }

  async function campaign(context: TurnContext, principal: Principal, words: string[]): Promise<void> {
    const [documentId = '', audience = ''] = words;
    const outcome = await startAupCampaign(deps, { principal, documentId: documentId.toLowerCase(), audience, correlationId: context.activity.id ?? randomUUID() });
    switch (outcome.kind) {
      case 'forbidden':
        await context.sendActivity('Only the e-safety coordinator, the DSL and the headteacher can start AUP campaigns.');
        return;
      case 'unknown-document':
        await context.sendActivity(`Tell me which document: ${outcome.documentIds.join(', ')}. For example \`/aup campaign staff-aup staff\`.`);
        return;
      case 'bad-audience':
        await context.sendActivity(
          outcome.allowed.length === 0
            ? `${outcome.document.title} is signed on paper; record the forms from the tab instead.`
            : `Tell me who to ask for ${outcome.document.id}: ${outcome.allowed.join(', ')}.`,
        );
        return;
      case 'started': {
        const pending = (await namer(outcome.pendingIds))(outcome.pendingIds);
        const lines = [
          `${outcome.created ? 'Started' : 'Continued'} the campaign for **${outcome.campaign.documentId} v${outcome.campaign.version}** (${outcome.campaign.audience}).`,
          `- ${outcome.asked} people in the group, ${outcome.alreadyAcknowledged} already acknowledged.`,
          `- Sent the card to ${outcome.sent} now.`,
          outcome.pendingIds.length > 0
            ? `- ${outcome.pendingIds.length} cannot be reached by the bot yet${outcome.installRequested > 0 ? ` (the app is being installed for ${outcome.installRequested})` : ''}; they get the card as soon as they can be reached: ${pending.join(', ')}`
            : '- Everyone could be reached.',
          `- People who still owe it are reminded every ${deps.reminderDays} days.`,
        ];
        await context.sendActivity(lines.join('\n'));
        return;
      }
    }
  }

  async function coverage(context: TurnContext, principal: Principal): Promise<void> {
    const outcome = await getAupCoverage(deps, principal, context.activity.id);
    if (outcome.kind === 'forbidden') {
      await context.sendActivity('Only the e-safety coordinator, the DSL and the headteacher can see AUP coverage.');
      return;
    }
    const lines = ['**AUP coverage** (current versions)'];
    const namesOf = await namer(outcome.rows.flatMap((row) => row.outstandingIds));
    for (const row of outcome.rows) {
      lines.push(`**${row.title} v${row.version}, ${row.group}**: ${row.acknowledged} of ${row.members} (${row.percent}%)`);
      if (row.acknowledgedPeople.length > 0) lines.push(`- Acknowledged: ${row.acknowledgedPeople.map((p) => p.name).join(', ')}`);
      if (row.outstandingIds.length > 0) lines.push(`- Outstanding: ${namesOf(row.outstandingIds).join(', ')}`);
    }
    for (const paper of outcome.paper) lines.push(`**${paper.title} v${paper.version}** (paper): ${paper.recorded} forms recorded`);
    await context.sendActivity(lines.join('\n\n'));
  }

  async function accessGate(context: TurnContext, principal: Principal, words: string[]): Promise<void> {
    if (!gate) {
      await context.sendActivity('The AUP access gate is not set up in this app.');
      return;
    }
    const correlationId = context.activity.id ?? randomUUID();
    const action = (words[0] ?? '').toLowerCase();
    if (action === 'hold') {
      const outcome = await holdPupilsWithoutAup(gate, principal, correlationId);
      switch (outcome.kind) {
        case 'forbidden':
          await context.sendActivity(GATE_ADMIN_ONLY);
          return;
        case 'gate-off':
          await context.sendActivity(GATE_OFF);
          return;
        case 'plan-mode':
          await context.sendActivity(GATE_PLAN_MODE);
          return;
        case 'no-pupil-document':
          await context.sendActivity('There is no pupil AUP document (audience `pupil`), so no pupil could ever be released: nothing was disabled.');
          return;
        case 'held':
          await context.sendActivity(
            [
              `**AUP access gate applied** to ${outcome.activePupils} active pupils (${outcome.withAup} have a current AUP).`,
              `- Disabled now: ${outcome.newlyHeld}`,
              `- Already held: ${outcome.alreadyHeld}`,
              `- Already disabled by someone else, left alone: ${outcome.alreadyDisabled}`,
              outcome.failed > 0 ? `- Could not be disabled: ${outcome.failed}; send \`/aup gate hold\` again later` : '- No failures.',
              outcome.releasedAtOnce > 0 ? `- Enabled again at once because their AUP arrived meanwhile: ${outcome.releasedAtOnce}` : '',
              'Each account is enabled again automatically when the pupil AUP is recorded (Teams card or paper form).',
            ]
              .filter(Boolean)
              .join('\n'),
          );
          return;
      }
    }
    if (action !== '') {
      await context.sendActivity('Send `/aup gate` to see the counts, or `/aup gate hold` to keep pupils without a current AUP disabled.');
      return;
    }
    const status = await getAupGateStatus(gate, principal, correlationId);
    if (status.kind === 'forbidden') {
      await context.sendActivity(GATE_ADMIN_ONLY);
      return;
    }
    const lines = [
      `**AUP access gate**: ${status.gateOn ? 'on' : 'off'}${status.live ? '' : ' (plan mode)'}`,
      `- Active pupils with an account: ${status.activePupils}`,
      `- Without a current pupil AUP (${status.documentIds.join(', ') || 'no pupil document'}): ${status.withoutAup}`,
      `- Accounts held disabled by the gate: ${status.held}${status.releasePending > 0 ? ` (${status.releasePending} have their AUP and are enabled again on the next hourly run)` : ''}`,
    ];
    if (!status.gateOn) lines.push(GATE_OFF);
    else if (!status.live) lines.push(GATE_PLAN_MODE);
    else lines.push('Send `/aup gate hold` to keep those pupils\' accounts disabled until their AUP arrives.');
    await context.sendActivity(lines.join('\n'));
  }

  return {
    commands: [
      {
        name: 'aup',
        help: 'read and acknowledge the acceptable use policies you owe (coordinators: `/aup campaign`, `/aup coverage`)',
        async handle(context, principal, args) {
          const words = args.split(/\s+/).filter(Boolean);
          const sub = (words[0] ?? '').toLowerCase();
          if (sub === '') return showOwed(context, principal);
          if (sub === 'campaign') return campaign(context, principal, words.slice(1));
          if (sub === 'coverage') return coverage(context, principal);
          if (sub === 'gate') return accessGate(context, principal, words.slice(1));
          await context.sendActivity(USAGE);
        },
      },
    ],
    cardVerbs: [
      {
        verb: 'acknowledgeAup',
        async handle(context, principal, data) {
          const correlationId = context.activity.id ?? randomUUID();
          try {
            const outcome = await acknowledgeAup(deps, {
              principal,
              name: context.activity.from?.name ?? '',
              documentId: String(data.documentId ?? ''),
              version: data.version,
              parentName: data.parentName,
              discussed: data.discussed,
              correlationId,
            });
            switch (outcome.kind) {
              case 'not-yours':
                return messageResponse('This policy is not one you are asked to acknowledge. Send /aup to see yours.');
              case 'stale':
                return cardResponse(
                  buildAupCard({
                    document: outcome.document,
                    acknowledgement: outcome.acknowledgement,
                    userId: userId(context),
                    banner: outcome.acknowledgement
                      ? ''
                      : `This policy has changed since this card was sent. This is version ${outcome.document.version}: please read it and acknowledge it again.`,
                  }),
                );
              case 'needs-parent':
                return cardResponse(
                  buildAupCard({
                    document: outcome.document,
                    userId: userId(context),
                    parentName: typeof data.parentName === 'string' ? data.parentName : '',
                    errors: outcome.problems,
                    banner: 'Not saved yet: please fill in the parent or carer part.',
                  }),
                );
              case 'acknowledged':
                return cardResponse(buildAupCard({ document: outcome.document, acknowledgement: outcome.acknowledgement, userId: userId(context) }));
            }
          } catch (error) {
            deps.logger.error('aup.acknowledge.failed', { correlationId, errorName: (error as Error).name });
            return messageResponse(error instanceof StorageUnavailableError ? TRY_AGAIN : `${TRY_AGAIN} (Reference for IT: ${correlationId})`);
          }
        },
      },
      {
        verb: 'refreshAup',
        async handle(context, principal, data) {
          try {
            const status = await getAupStatusFor(deps, principal, String(data.documentId ?? ''));
            if (!status) return messageResponse('This policy is not one you are asked to acknowledge. Send /aup to see yours.');
            return cardResponse(buildAupCard({ document: status.document, acknowledgement: status.acknowledgement, userId: userId(context) }));
          } catch (error) {
            deps.logger.error('aup.refresh.failed', { correlationId: context.activity.id, errorName: (error as Error).name });
            return messageResponse(TRY_AGAIN);
          }
        },
      },
    ],
  };
}

