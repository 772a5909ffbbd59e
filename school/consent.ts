import { readCsvTable } from './csv-table';
import { isCalendarDate } from './uk-dates';

/**
 * The five uses of a pupil's photograph or video that the school asks parents and carers about, each consented
 * to (or not) on its own (seed 002, "Camera and images"). Consent lasts while the child attends the school and
 * can be withdrawn at any time in writing (seed 000 §1.4.4).
 */
export const CONSENT_AREAS = [
  { id: 'website-social-media', label: 'School or trust website and social media' },
  { id: 'display-in-school', label: 'Displays around school' },
  { id: 'display-off-site', label: 'Displays away from school' },
  { id: 'video-conference', label: 'Video or webcam in an educational conference' },
  { id: 'media', label: 'Newspapers and other media' },
] as const;

export type ConsentArea = (typeof CONSENT_AREAS)[number]['id'];
export const CONSENT_AREA_IDS: readonly ConsentArea[] = CONSENT_AREAS.map((a) => a.id);

/** Who signed or wrote: a looked-after child's consent comes from the local authority (their social worker). */
export const CONSENT_RELATIONSHIPS = ['parent', 'carer', 'guardian', 'local-authority'] as const;
export type ConsentRelationship = (typeof CONSENT_RELATIONSHIPS)[number];

export type ConsentDecision = 'given' | 'refused' | 'withdrawn';
/** `not-recorded` counts as no consent: nothing is published until a form says yes. */
export type ConsentStatus = ConsentDecision | 'not-recorded';

/** One entry in a pupil's consent chronology; never changed once written. */
export interface ConsentEvent {
  pupilId: string;
  area: ConsentArea;
  decision: ConsentDecision;
  /** YYYY-MM-DD: the date on the form or letter. */
  on: string;
  /** The parent's or carer's name as written (personal data: shown to recorders, never logged or audited). */
  by?: string;
  relationship?: ConsentRelationship;
  /** 1, 2, 3… per pupil and area. */
  sequence: number;
  recordedBy: string;
  recordedAt: string;
  source: 'form' | 'csv' | 'letter';
}

/** Where one area stands for one pupil: the latest event, and when consent was last given if it is now withdrawn. */
export interface ConsentState {
  area: ConsentArea;
  status: ConsentStatus;
  on?: string;
  by?: string;
  relationship?: ConsentRelationship;
  givenOn?: string;
  sequence: number;
  recordedAt?: string;
}

export function notRecorded(area: ConsentArea): ConsentState {
  return { area, status: 'not-recorded', sequence: 0 };
}

export function isConsentArea(value: unknown): value is ConsentArea {
  return typeof value === 'string' && (CONSENT_AREA_IDS as readonly string[]).includes(value);
}

export function consentAreaLabel(area: ConsentArea): string {
  return CONSENT_AREAS.find((a) => a.id === area)!.label;
}

/** Only consent given and not withdrawn allows the use. */
export function mayUse(state: Pick<ConsentState, 'status'>): boolean {
  return state.status === 'given';
}

export type ConsentChangeCheck = { kind: 'apply'; next: ConsentState } | { kind: 'unchanged' } | { kind: 'superseded'; reason: string };

/**
 * What a new form or letter does to an area. The later-dated record stands: a form dated before the current
 * record (an old admission form found in a drawer, or a CSV of last year's forms) never reinstates consent that
 * was since withdrawn or refused. Recording the same thing again changes nothing, so a repeated request is harmless;
 * withdrawing where there is no consent already changes nothing either.
 */
export function nextConsentState(
  current: ConsentState,
  change: { decision: ConsentDecision; on: string; by?: string | undefined; relationship?: ConsentRelationship | undefined; recordedAt: string },
): ConsentChangeCheck {
  if (change.decision === 'withdrawn' && (current.status === 'refused' || current.status === 'withdrawn')) return { kind: 'unchanged' };
  if (current.status !== 'not-recorded' && current.on !== undefined) {
    if (change.on < current.on) return { kind: 'superseded', reason: `a later record (${current.status} on ${current.on}) stands` };
    if (current.status === change.decision && current.on === change.on && (current.by ?? '') === (change.by ?? '')) return { kind: 'unchanged' };
  }
  const next: ConsentState = {
    area: current.area,
    status: change.decision,
    on: change.on,
    sequence: current.sequence + 1,
    recordedAt: change.recordedAt,
    ...(change.by ? { by: change.by } : {}),
    ...(change.relationship ? { relationship: change.relationship } : {}),
  };
  const givenOn = change.decision === 'given' ? change.on : change.decision === 'withdrawn' ? (current.status === 'given' ? current.on : current.givenOn) : undefined;
  if (givenOn) next.givenOn = givenOn;
  return { kind: 'apply', next };
}

/** A parent's or carer's consent form: one answer (yes or no) per area, all from the same signature. */
export interface ConsentFormInput {
  pupil: string;
  signedOn: string;
  givenBy: string;
  relationship: ConsentRelationship;
  answers: { area: ConsentArea; decision: 'given' | 'refused' }[];
}

/** A written withdrawal of consent for some areas, or `all` of them. */
export interface WithdrawalInput {
  pupil: string;
  areas: ConsentArea[];
  withdrawnOn: string;
  withdrawnBy?: string;
  relationship?: ConsentRelationship;
}

const MAX_NAME = 100;
const MAX_PUPIL_REF = 100;

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function checkPupil(value: unknown, problems: string[]): string {
  const pupil = text(value);
  if (!pupil) problems.push('pupil is required: the pupil\'s register id, unique pupil number or school username.');
  else if (pupil.length > MAX_PUPIL_REF) problems.push(`pupil must be at most ${MAX_PUPIL_REF} characters.`);
  return pupil;
}

function checkDate(field: string, value: unknown, today: string, problems: string[], fallback?: string): string {
  const date = text(value) || fallback || '';
  if (!isCalendarDate(date)) problems.push(`${field} must be a calendar date (YYYY-MM-DD).`);
  else if (date > today) problems.push(`${field} cannot be in the future.`);
  return date;
}

function checkRelationship(value: unknown, problems: string[], required: boolean): ConsentRelationship | undefined {
  const relationship = text(value);
  if (!relationship && !required) return undefined;
  if (!(CONSENT_RELATIONSHIPS as readonly string[]).includes(relationship)) {
    problems.push(`relationship must be one of ${CONSENT_RELATIONSHIPS.join(', ')}.`);
    return undefined;
  }
  return relationship as ConsentRelationship;
}

function checkName(field: string, value: unknown, problems: string[], required: boolean): string | undefined {
  const name = text(value);
  if (!name) {
    if (required) problems.push(`${field} is required: the name of the parent or carer who signed.`);
    return undefined;
  }
  if (name.length > MAX_NAME) problems.push(`${field} must be at most ${MAX_NAME} characters.`);
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f<>]/.test(name)) problems.push(`${field} may not contain control characters or < >.`);
  return name;
}

/**
 * Reads a consent form: `{ pupil, signedOn, givenBy, relationship, areas: { "<area>": true | false, … } }`.
 * Areas left out are not answered by this form and stay as they were.
 */
export function checkConsentForm(body: Record<string, unknown>, today: string): { form: ConsentFormInput } | { problems: string[] } {
  const problems: string[] = [];
  const pupil = checkPupil(body.pupil, problems);
  const signedOn = checkDate('signedOn', body.signedOn, today, problems);
  const givenBy = checkName('givenBy', body.givenBy, problems, true);
  const relationship = checkRelationship(body.relationship, problems, true);
  const answers: ConsentFormInput['answers'] = [];
  const areas = body.areas;
  if (typeof areas !== 'object' || areas === null || Array.isArray(areas)) {
    problems.push(`areas must be an object of yes (true) or no (false) answers for ${CONSENT_AREA_IDS.join(', ')}.`);
  } else {
    for (const [area, answer] of Object.entries(areas)) {
      if (!isConsentArea(area)) problems.push(`"${area.slice(0, 40)}" is not a consent area; the areas are ${CONSENT_AREA_IDS.join(', ')}.`);
      else if (typeof answer !== 'boolean') problems.push(`areas.${area} must be true (consent given) or false (refused).`);
      else answers.push({ area, decision: answer ? 'given' : 'refused' });
    }
    if (Object.keys(areas).length === 0) problems.push('areas must answer at least one consent area.');
  }
  if (problems.length > 0) return { problems };
  return { form: { pupil, signedOn, givenBy: givenBy!, relationship: relationship!, answers } };
}

/**
 * Reads a withdrawal: `{ pupil, area: "<area>" | "all" }` or `{ pupil, areas: [...] }`, with optional
 * `withdrawnOn` (default today), `withdrawnBy` and `relationship`. A withdrawal is never held up for a missing name.
 */
export function checkWithdrawal(body: Record<string, unknown>, today: string): { withdrawal: WithdrawalInput } | { problems: string[] } {
  const problems: string[] = [];
  const pupil = checkPupil(body.pupil, problems);
  const withdrawnOn = checkDate('withdrawnOn', body.withdrawnOn, today, problems, today);
  const withdrawnBy = checkName('withdrawnBy', body.withdrawnBy, problems, false);
  const relationship = checkRelationship(body.relationship, problems, false);
  const asked: unknown[] = body.area === 'all' || body.areas === 'all' ? [...CONSENT_AREA_IDS] : Array.isArray(body.areas) ? body.areas : body.area !== undefined ? [body.area] : [];
  if (asked.length === 0) problems.push(`Say which consent to withdraw: area (one of ${CONSENT_AREA_IDS.join(', ')}, or all) or areas (a list).`);
  const areas: ConsentArea[] = [];
  for (const area of asked) {
    if (isConsentArea(area)) {
      if (!areas.includes(area)) areas.push(area);
    } else problems.push(`"${String(area).slice(0, 40)}" is not a consent area; the areas are ${CONSENT_AREA_IDS.join(', ')}, or all.`);
  }
  if (problems.length > 0) return { problems };
  return { withdrawal: { pupil, areas, withdrawnOn, ...(withdrawnBy ? { withdrawnBy } : {}), ...(relationship ? { relationship } : {}) } };
}

/** Counts per area across pupils on the roll; a pupil with no record for an area counts as not recorded. */
export function countConsent(statesByPupil: readonly (readonly ConsentState[])[]): Record<ConsentArea, Record<ConsentStatus, number>> {
  const counts = Object.fromEntries(CONSENT_AREA_IDS.map((a) => [a, { given: 0, refused: 0, withdrawn: 0, 'not-recorded': 0 }])) as Record<ConsentArea, Record<ConsentStatus, number>>;
  for (const states of statesByPupil) {
    for (const area of CONSENT_AREA_IDS) counts[area][states.find((s) => s.area === area)?.status ?? 'not-recorded'] += 1;
  }
  return counts;
}

/** The most rows one consent CSV may carry: more than any primary school's roll, so a whole year's forms fit. */
export const MAX_CONSENT_CSV_ROWS = 3000;

const CSV_COLUMNS: Readonly<Record<string, 'pupil' | 'signedOn' | 'givenBy' | 'relationship'>> = {
  pupil: 'pupil',
  upn: 'pupil',
  pupilid: 'pupil',
  signedon: 'signedOn',
  date: 'signedOn',
  givenby: 'givenBy',
  signedby: 'givenBy',
  relationship: 'relationship',
};

/** One CSV row turned into a form's body, or why the row cannot be read. */
export interface ConsentCsvRow {
  row: number;
  body: Record<string, unknown>;
}

/**
 * Reads a CSV of paper consent forms: a header row with `pupil`, `signed_on` (YYYY-MM-DD), `given_by`,
 * `relationship`, and a column per area named by its id (`media`, `display-in-school`, …) holding yes, no or
 * nothing (not on that form). Each row then goes through the same checks as one form.
 */
export function readConsentCsv(csv: string): { rows: ConsentCsvRow[]; problems: { row: number; message: string }[] } {
  const table = readCsvTable(csv);
  if ('problem' in table) return { rows: [], problems: [table.problem] };
  const { header, body } = table;
  if (body.length > MAX_CONSENT_CSV_ROWS) return { rows: [], problems: [{ row: 1, message: `the file has ${body.length} forms; send at most ${MAX_CONSENT_CSV_ROWS} at a time` }] };
  const columns = header.map((h) => {
    const key = h.toLowerCase().replace(/[\s_]/g, '');
    return CSV_COLUMNS[key] ?? (isConsentArea(h.toLowerCase().trim()) ? { area: h.toLowerCase().trim() as ConsentArea } : undefined);
  });
  const missing = (['pupil', 'signedOn', 'givenBy', 'relationship'] as const).filter((c) => !columns.includes(c));
  if (missing.length > 0) return { rows: [], problems: [{ row: 1, message: `the header row needs the columns ${missing.map((c) => c.replace(/[A-Z]/g, (l) => `_${l.toLowerCase()}`)).join(', ')}` }] };
  if (!columns.some((c) => typeof c === 'object')) return { rows: [], problems: [{ row: 1, message: `the header row needs at least one area column: ${CONSENT_AREA_IDS.join(', ')}` }] };
  const rows: ConsentCsvRow[] = [];
  const problems: { row: number; message: string }[] = [];
  body.forEach((cells, index) => {
    const row = index + 2;
    const form: Record<string, unknown> = {};
    const areas: Record<string, unknown> = {};
    let bad: string | undefined;
    columns.forEach((column, i) => {
      const cell = cells[i] ?? '';
      if (!column || cell === '') return;
      if (typeof column === 'string') form[column] = cell;
      else if (/^(yes|y|true)$/i.test(cell)) areas[column.area] = true;
      else if (/^(no|n|false)$/i.test(cell)) areas[column.area] = false;
      else bad = `${column.area} must be yes, no or empty`;
    });
    if (bad) problems.push({ row, message: bad });
    else rows.push({ row, body: { ...form, areas } });
  });
  return { rows, problems };
}
