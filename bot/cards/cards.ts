import { formatUkDate } from '../../school/uk-dates';
import * as ACData from 'adaptivecards-templating';
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import { INCIDENT_TYPES, incidentTypeLabel, type IncidentType } from '../../school/incident-types';
import { INCIDENT_FIELDS, SUBJECT_FIELD, type FieldProblem, type IncidentFormValues } from '../../school/incident-submission';
import { STAFF_DATASET } from '../../usecases/staff-picker';
import { withTypeahead } from '../typeahead';
import reportTemplate from './report-card.json';
import recordedTemplate from './incident-recorded-card.json';
import myReportsTemplate from './my-reports-card.json';

/** An Adaptive Card payload (schema 1.5). */
export type AdaptiveCardJson = Record<string, unknown>;

/** One choice in the "who was involved" list; pupils are `pupil:<register id>`. */
export interface InvolvedChoice {
  title: string;
  value: string;
}

export const STANDARD_INVOLVED_CHOICES: readonly InvolvedChoice[] = [
  { title: 'A pupil who is not in this list', value: 'pupil-unlisted' },
  { title: 'A member of staff', value: 'staff' },
  { title: 'The headteacher', value: 'headteacher' },
  { title: 'A visitor', value: 'visitor' },
  { title: 'Unknown', value: 'unknown' },
];

function expand(template: unknown, data: unknown): AdaptiveCardJson {
  return new ACData.Template(template).expand({ $root: data }) as AdaptiveCardJson;
}

/**
 * Teams does not send a card over 28 KB
 * (https://learn.microsoft.com/microsoftteams/platform/messaging-extensions/how-to/search-commands/define-search-command).
 * The docs do not say which kilobyte, so cards are kept under the smaller reading, 28,000 bytes of UTF-8 JSON.
 */
export const CARD_BYTE_LIMIT = 28_000;

/** The size Teams counts: the card's JSON in bytes. */
export function cardBytes(card: AdaptiveCardJson): number {
  return Buffer.byteLength(JSON.stringify(card), 'utf8');
}

/** The dataset the report card's "who was involved" picker searches as the user types (bot/typeahead.ts). */
export const PUPIL_DATASET = 'pupils';
/** A pupil's label on the card is cut to this many characters, so a long name cannot crowd out the form. */
const MAX_CHOICE_TITLE = 80;

export interface ReportCardOptions {
  submissionId: string;
  /** Pupils listed on the card itself: a tiny school's whole roll, or only those already chosen. */
  pupilChoices: readonly InvolvedChoice[];
  /** When set, the picker also searches this dataset as the user types (Teams' dynamic typeahead). */
  pupilSearch?: string;
  /**
   * `pupilChoices` is the whole roll: the card lists it without a search (so hosts without typeahead, such as the
   * Agents Playground, work as before), and searches `pupilSearch` instead only if the list would not fit.
   */
  pupilsComplete?: boolean;
  values?: IncidentFormValues;
  problems?: readonly FieldProblem[];
  banner?: string;
}

/** The concern proforma as a card. Given `values` and `problems`, it comes back as the user left it, with each problem shown. */
export function buildReportCard(options: ReportCardOptions): AdaptiveCardJson {
  const fields = [...INCIDENT_FIELDS, SUBJECT_FIELD] as const;
  const values = Object.fromEntries(fields.map((f) => [f, options.values?.[f] ?? (f === 'childProtection' ? 'false' : '')]));
  const errors = Object.fromEntries(fields.map((f) => [f, options.problems?.find((p) => p.field === f)?.message ?? '']));
  const banner =
    options.banner ?? (options.problems && options.problems.length > 0 ? 'Your report has not been sent yet: please check the highlighted answers.' : '');
  const build = (pupils: readonly InvolvedChoice[], pupilSearch: string | undefined): AdaptiveCardJson => {
    const card = expand(reportTemplate, {
      submissionId: options.submissionId,
      values,
      errors,
      banner,
      involvedChoices: [...pupils.map((p) => ({ title: shorten(p.title), value: p.value })), ...STANDARD_INVOLVED_CHOICES],
      typeChoices: INCIDENT_TYPES.map((t) => ({ title: t.label, value: t.id })),
    });
    const searchable = pupilSearch ? withTypeahead(card, 'involved', pupilSearch, "Type a pupil's name, or choose below") : card;
    // The member of staff a concern is about is found by name as the user types (the role directory's staff).
    return withTypeahead(searchable, SUBJECT_FIELD, STAFF_DATASET, 'Type their name');
  };
  const card = build(options.pupilChoices, options.pupilsComplete ? undefined : options.pupilSearch);
  // A pasted message can leave too little room for the listed pupils; with search on, they can still be found.
  return options.pupilSearch && options.pupilChoices.length > 0 && cardBytes(card) > CARD_BYTE_LIMIT ? build([], options.pupilSearch) : card;
}

function shorten(title: string): string {
  return title.length > MAX_CHOICE_TITLE ? `${title.slice(0, MAX_CHOICE_TITLE - 1)}…` : title;
}

export interface RecordedCardOptions {
  reference: string;
  type: IncidentType;
  occurredOn: string;
  suggestedActions: readonly { label: string }[];
  illegalGuidance: readonly string[];
  alertedRoles: readonly string[];
}

const roleTitles: Record<string, string> = {
  coordinator: 'the e-safety coordinator',
  dsl: 'the Designated Safeguarding Lead',
  headteacher: 'the headteacher',
  chair: 'the chair of governors',
};

/** The confirmation a reporter sees. It repeats no description, because chat history outlives the concern. */
export function buildIncidentRecordedCard(options: RecordedCardOptions): AdaptiveCardJson {
  return expand(recordedTemplate, {
    reference: options.reference,
    typeLabel: incidentTypeLabel(options.type),
    // In words (4 March 2026), so a typed 01/12/2026 read the UK way is never a surprise.
    occurredOn: formatUkDate(options.occurredOn),
    alerted: options.alertedRoles.map((r) => roleTitles[r] ?? r).join(', ') || 'nobody (no one holds the role yet)',
    illegal: options.illegalGuidance.length > 0,
    illegalGuidance: options.illegalGuidance,
    suggestedActions: options.suggestedActions,
  });
}

export interface MyReportRow {
  reference: string;
  type: IncidentType;
  status: string;
  occurredOn: string;
}

export function buildMyReportsCard(reports: readonly MyReportRow[]): AdaptiveCardJson {
  return expand(myReportsTemplate, {
    reports: reports.map((r) => ({ ...r, occurredOn: formatUkDate(r.occurredOn), typeLabel: incidentTypeLabel(r.type), status: r.status.replace('-', ' ') })),
  });
}

export function toAttachment(card: AdaptiveCardJson): Attachment {
  return CardFactory.adaptiveCard(card);
}
