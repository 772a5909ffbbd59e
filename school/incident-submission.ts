import { INCIDENT_TYPE_IDS, isIncidentType, type IncidentType } from './incident-types';
import type { InvolvedParty } from './incident-routing';
import { isHistoricDate, parseUkDate } from './uk-dates';

/** The report card's input ids. Stable: other features and integrations rely on them. */
export const INCIDENT_FIELDS = ['occurredOn', 'occurredAt', 'involved', 'location', 'incidentType', 'description', 'actionTaken', 'childProtection'] as const;
/** The staff picker's input id: who a concern about a member of staff (or the head) is about. Shown only for those. */
export const SUBJECT_FIELD = 'subjectStaff';
export type IncidentField = (typeof INCIDENT_FIELDS)[number] | typeof SUBJECT_FIELD;

/** What the card sends back, exactly as typed; kept so a rejected card can be shown again unchanged. */
export type IncidentFormValues = Partial<Record<IncidentField, string>>;

export interface IncidentSubmission {
  occurredOn: string;
  occurredAt: string | undefined;
  involved: InvolvedParty[];
  location: string;
  type: IncidentType;
  description: string;
  actionTaken: string;
  childProtection: boolean;
  /** More than a year before the day it was reported: recorded like any other, and flagged (seed policies: record historic incidents). */
  historic: boolean;
  /** The date in words (`1 December 2026`); the confirmation repeats it when `dateAmbiguous`, so `01/12/2026` read the UK way is never a surprise. */
  occurredOnWords: string;
  dateAmbiguous: boolean;
  /**
   * Who the concern is about when a member of staff or the headteacher is involved: the person picked
   * (`subjectStaff`, an Entra object id from the staff picker), or `unnamed` when nobody (or something that is
   * not a person's id) was given. Undefined when no adult at the school is involved.
   */
  subjectStaff?: { kind: 'named'; objectId: string } | { kind: 'unnamed' };
}

export interface FieldProblem {
  field: IncidentField;
  message: string;
}

export const INCIDENT_LIMITS = {
  location: 200,
  description: 4000,
  descriptionMin: 10,
  actionTaken: 2000,
  involvedMax: 30,
} as const;

/** The school's calendar date, which is what "today" means for a UK school whatever the server's zone. */
export function schoolDate(now: Date, timeZone = 'Europe/London'): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Reads the card's `involved` value (a comma-separated multi-select) into parties. */
export function parseInvolved(value: string, knownPupilIds: ReadonlySet<string>): { parties: InvolvedParty[]; unknown: string[] } {
  const parties: InvolvedParty[] = [];
  const unknown: string[] = [];
  for (const token of new Set(value.split(',').map((t) => t.trim()).filter(Boolean))) {
    if (token.startsWith('pupil:')) {
      const pupilId = token.slice('pupil:'.length);
      if (knownPupilIds.has(pupilId)) parties.push({ kind: 'pupil', pupilId });
      else unknown.push(token);
    } else if (['pupil-unlisted', 'staff', 'headteacher', 'visitor', 'unknown'].includes(token)) {
      parties.push({ kind: token } as InvolvedParty);
    } else {
      unknown.push(token);
    }
  }
  return { parties, unknown };
}

/** Reads an `Action.Execute` payload into form values, ignoring anything that is not a known input. */
export function readIncidentForm(data: unknown): IncidentFormValues {
  const values: IncidentFormValues = {};
  if (typeof data !== 'object' || data === null) return values;
  for (const field of [...INCIDENT_FIELDS, SUBJECT_FIELD] as const) {
    const raw = (data as Record<string, unknown>)[field];
    if (typeof raw === 'string') values[field] = raw;
    else if (typeof raw === 'boolean') values[field] = String(raw);
  }
  return values;
}

/**
 * Validates a report on the server: required fields, bounded lengths, no future dates and only
 * known types and parties. Every problem is returned, not just the first.
 */
export function validateIncidentSubmission(
  values: IncidentFormValues,
  options: { now: Date; knownPupilIds: ReadonlySet<string>; timeZone?: string },
): { ok: true; submission: IncidentSubmission } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const text = (field: IncidentField): string => (values[field] ?? '').trim();

  const today = schoolDate(options.now, options.timeZone);
  const typedOn = text('occurredOn');
  // Typed dates are read the UK way (01/12/2026 is 1 December); the card's date picker sends YYYY-MM-DD.
  const parsedOn = typedOn ? parseUkDate(typedOn) : undefined;
  const occurredOn = parsedOn?.isoDate ?? '';
  if (!typedOn) problems.push({ field: 'occurredOn', message: 'Enter the date of the incident.' });
  else if (!parsedOn) {
    problems.push({ field: 'occurredOn', message: 'Enter the date as a calendar date, day first (for example 4/3/2026 or 4 March 2026).' });
  } else if (occurredOn > today) {
    problems.push({ field: 'occurredOn', message: 'The date of the incident cannot be in the future.' });
  }

  const occurredAt = text('occurredAt');
  if (occurredAt && !/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/.test(occurredAt)) {
    problems.push({ field: 'occurredAt', message: 'Enter the time as hours and minutes, or leave it blank if you do not know it.' });
  }

  const { parties, unknown } = parseInvolved(text('involved'), options.knownPupilIds);
  if (unknown.length > 0) problems.push({ field: 'involved', message: 'Choose who was involved from the list; one of the choices is no longer on the register.' });
  else if (parties.length === 0) problems.push({ field: 'involved', message: 'Choose who was involved (choose "Unknown" if you do not know).' });
  else if (parties.length > INCIDENT_LIMITS.involvedMax) problems.push({ field: 'involved', message: `Choose at most ${INCIDENT_LIMITS.involvedMax} people; report a group incident once and describe the group.` });

  const location = text('location');
  if (location.length > INCIDENT_LIMITS.location) problems.push({ field: 'location', message: `Keep the room and device to ${INCIDENT_LIMITS.location} characters.` });

  const type = text('incidentType');
  if (!type) problems.push({ field: 'incidentType', message: 'Choose the type of incident.' });
  else if (!isIncidentType(type)) problems.push({ field: 'incidentType', message: `Choose one of the listed types (${INCIDENT_TYPE_IDS.length} are available).` });

  const description = text('description');
  if (description.length < INCIDENT_LIMITS.descriptionMin) {
    problems.push({ field: 'description', message: 'Describe what happened, including any evidence (a web address, or what you saw).' });
  } else if (description.length > INCIDENT_LIMITS.description) {
    problems.push({ field: 'description', message: `Keep the description to ${INCIDENT_LIMITS.description} characters; add more detail later as an action.` });
  }

  const actionTaken = text('actionTaken');
  if (actionTaken.length > INCIDENT_LIMITS.actionTaken) problems.push({ field: 'actionTaken', message: `Keep the action taken to ${INCIDENT_LIMITS.actionTaken} characters.` });

  const childProtection = text('childProtection');
  if (childProtection && !['true', 'false'].includes(childProtection)) {
    problems.push({ field: 'childProtection', message: 'Say whether this is a child-protection concern.' });
  }

  const subjectText = text('subjectStaff');
  if (subjectText.length > 100) problems.push({ field: 'subjectStaff', message: 'Choose the member of staff from the list.' });
  const aboutStaff = parties.some((p) => p.kind === 'staff' || p.kind === 'headteacher');
  const subjectStaff: IncidentSubmission['subjectStaff'] = !aboutStaff
    ? undefined
    : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(subjectText)
      ? { kind: 'named', objectId: subjectText.toLowerCase() }
      : { kind: 'unnamed' };

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    submission: {
      occurredOn,
      occurredAt: occurredAt ? occurredAt.slice(0, 5) : undefined,
      involved: parties,
      location,
      type: type as IncidentType,
      description,
      actionTaken,
      childProtection: childProtection === 'true',
      historic: isHistoricDate(occurredOn, today),
      occurredOnWords: parsedOn!.words,
      dateAmbiguous: parsedOn!.ambiguous,
      ...(subjectStaff ? { subjectStaff } : {}),
    },
  };
}
