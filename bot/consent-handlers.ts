import type { TurnContext } from 'botbuilder';
import type { Principal } from '../school/roles';
import { formatUkDate } from '../school/uk-dates';
import { getPupilConsent, mayReadConsent, type ConsentAnswerArea, type ConsentDependencies, type PupilConsent } from '../usecases/consent-register';
import { searchPupilsForReport, type PupilPickerDependencies } from '../usecases/pupil-picker';
import { cardResponse, messageResponse, type BotFeature } from './bot-feature';
import { PUPIL_DATASET, toAttachment, type AdaptiveCardJson } from './cards/cards';
import { dataQuery, TYPEAHEAD_MAX_RESULTS, type TypeaheadResult } from './typeahead';

export const CONSENT_VERB = 'consentLookup';

const NOT_STAFF = 'Only members of staff can check photo and video consent. Please ask the e-safety coordinator or the school office.';
const NOT_FOUND = 'That pupil is not on the school\'s register, so there is no consent to show. Choose them from the list, or ask the school office.';
const NO_MATCH = 'No pupil on the roll matches that name. Type part of their first name or surname below.';

export interface ConsentBotDependencies {
  consent: ConsentDependencies;
  picker: PupilPickerDependencies;
}

/**
 * `/consent <pupil>` for staff: the pupil's photo and video consent, area by area. With a name that matches one
 * pupil the answer comes at once; otherwise a card with the pupil picker (the report card's typeahead dataset,
 * so the search is bounded, staff only and audited) asks which pupil. Every answer is audited as a consent read.
 */
export function createConsentBotFeature(deps: ConsentBotDependencies): BotFeature {
  const correlationOf = (context: TurnContext): string => context.activity.id ?? `consent-${Date.now()}`;

  async function answer(principal: Principal, pupilId: string, correlationId: string): Promise<AdaptiveCardJson | string> {
    const outcome = await getPupilConsent(deps.consent, principal, pupilId, 'bot', correlationId);
    if (outcome.kind === 'forbidden') return NOT_STAFF;
    if (outcome.kind !== 'ok') return NOT_FOUND;
    return buildConsentCard(outcome.value);
  }

  return {
    commands: [
      {
        name: 'consent',
        help: 'check a pupil\'s photo and video consent (staff), e.g. `/consent Amira`',
        async handle(context, principal, args) {
          const correlationId = correlationOf(context);
          if (!mayReadConsent(principal)) {
            // Audits the refusal; nothing about any pupil is read.
            await getPupilConsent(deps.consent, principal, '', 'bot', correlationId);
            await context.sendActivity(NOT_STAFF);
            return;
          }
          const text = args.trim();
          if (!text) {
            await context.sendActivity({ attachments: [toAttachment(buildConsentPickerCard([]))] });
            return;
          }
          const found = await searchPupilsForReport(deps.picker, principal, { text, top: TYPEAHEAD_MAX_RESULTS }, correlationId);
          if (found.kind === 'forbidden') return void (await context.sendActivity(NOT_STAFF));
          if (found.kind === 'invalid') return void (await context.sendActivity({ attachments: [toAttachment(buildConsentPickerCard([], found.message))] }));
          if (found.pupils.length === 1) {
            const reply = await answer(principal, found.pupils[0]!.pupilId, correlationId);
            await context.sendActivity(typeof reply === 'string' ? reply : { attachments: [toAttachment(reply)] });
            return;
          }
          const choices = found.pupils.map((p) => ({ title: p.label, value: `pupil:${p.pupilId}` }));
          await context.sendActivity({ attachments: [toAttachment(buildConsentPickerCard(choices, choices.length === 0 ? NO_MATCH : 'Several pupils match: choose one.'))] });
        },
      },
    ],
    cardVerbs: [
      {
        verb: CONSENT_VERB,
        async handle(context, principal, data) {
          if (!mayReadConsent(principal)) {
            await getPupilConsent(deps.consent, principal, '', 'bot', correlationOf(context));
            return messageResponse(NOT_STAFF);
          }
          const chosen = typeof data.pupil === 'string' ? data.pupil.trim() : '';
          if (!chosen.startsWith('pupil:') || chosen.length > 120) return cardResponse(buildConsentPickerCard([], 'Choose a pupil from the list.'));
          const reply = await answer(principal, chosen.slice('pupil:'.length), correlationOf(context));
          return typeof reply === 'string' ? cardResponse(buildConsentPickerCard([], reply)) : cardResponse(reply);
        },
      },
    ],
  };
}

/** The pupil picker: a typeahead on the roll (Teams asks the bot as the user types), with any choices already found. */
export function buildConsentPickerCard(choices: readonly TypeaheadResult[], note?: string): AdaptiveCardJson {
  return card([
    { type: 'TextBlock', text: 'Photo and video consent', weight: 'Bolder', size: 'Medium', wrap: true },
    ...(note ? [{ type: 'TextBlock', text: note, wrap: true, color: 'Attention' }] : []),
    ...pickerBody(choices),
  ]);
}

function pickerBody(choices: readonly TypeaheadResult[]): Record<string, unknown>[] {
  return [
    {
      type: 'Input.ChoiceSet',
      id: 'pupil',
      label: 'Pupil',
      placeholder: 'Type the pupil\'s name',
      style: 'filtered',
      isRequired: true,
      errorMessage: 'Choose a pupil.',
      choices: choices.slice(0, TYPEAHEAD_MAX_RESULTS).map((c) => ({ title: c.title, value: c.value })),
      'choices.data': dataQuery(PUPIL_DATASET),
    },
  ];
}

/** "Yes: given 3 September 2026", "No: withdrawn 20 November 2026", … */
export function consentLine(area: ConsentAnswerArea): string {
  switch (area.status) {
    case 'given':
      return `Yes: given ${formatUkDate(area.on!)}`;
    case 'refused':
      return `No: refused ${formatUkDate(area.on!)}`;
    case 'withdrawn':
      return `No: withdrawn ${formatUkDate(area.on!)}`;
    case 'not-recorded':
      return 'No: no form recorded';
  }
}

/** The answer: each area with yes or no and its date, and the school's rule on names beside photographs. */
export function buildConsentCard(consent: PupilConsent): AdaptiveCardJson {
  const { pupil } = consent;
  return card([
    { type: 'TextBlock', text: 'Photo and video consent', weight: 'Bolder', size: 'Medium', wrap: true },
    { type: 'TextBlock', text: `${pupil.name}${pupil.registrationGroup ? ` (${pupil.registrationGroup})` : ''}${pupil.onRoll ? '' : ': no longer on the roll'}`, wrap: true, spacing: 'None' },
    { type: 'FactSet', facts: consent.areas.map((a) => ({ title: a.label, value: consentLine(a) })) },
    {
      type: 'TextBlock',
      wrap: true,
      size: 'Small',
      isSubtle: true,
      text: 'Use an image only where it says Yes. Never put a pupil\'s full name with their image. Consent can be withdrawn at any time; this answer is as of now.',
    },
    ...pickerBody([]).map((input) => ({ ...input, label: 'Check another pupil', isRequired: false })),
  ]);
}

function card(body: Record<string, unknown>[]): AdaptiveCardJson {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    actions: [{ type: 'Action.Execute', title: 'Show consent', verb: CONSENT_VERB, data: {} }],
  };
}
