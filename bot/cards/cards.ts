import { formatUkDate } from '../../school/uk-dates';
import * as ACData from 'adaptivecards-templating';
import type { Attachment } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import { INCIDENT_TYPES, incidentTypeLabel, type IncidentType } from '../../school/incident-types';
import { INCIDENT_FIELDS, type FieldProblem, type IncidentFormValues } from '../../school/incident-submission';
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

export interface ReportCardOptions {
  submissionId: string;
  pupilChoices: readonly InvolvedChoice[];
  values?: IncidentFormValues;
  problems?: readonly FieldProblem[];
  banner?: string;
}

/** The concern proforma as a card. Given `values` and `problems`, it comes back as the user left it, with each problem shown. */
export function buildReportCard(options: ReportCardOptions): AdaptiveCardJson {
  const values = Object.fromEntries(INCIDENT_FIELDS.map((f) => [f, options.values?.[f] ?? (f === 'childProtection' ? 'false' : '')]));
  const errors = Object.fromEntries(INCIDENT_FIELDS.map((f) => [f, options.problems?.find((p) => p.field === f)?.message ?? '']));
  const banner =
    options.banner ?? (options.problems && options.problems.length > 0 ? 'Your report has not been sent yet: please check the highlighted answers.' : '');
  return expand(reportTemplate, {
    submissionId: options.submissionId,
    values,
    errors,
    banner,
    involvedChoices: [...options.pupilChoices, ...STANDARD_INVOLVED_CHOICES],
    typeChoices: INCIDENT_TYPES.map((t) => ({ title: t.label, value: t.id })),
  });
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
