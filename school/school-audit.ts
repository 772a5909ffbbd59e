import { academicYearOf } from './incident-summary';

/** The annual e-safety audit checklist and the filtering and monitoring review, as yes/no questions. */
export const AUDIT_QUESTIONS = [
  { id: 'policy-reviewed', text: 'Has the online-safety policy been reviewed this year?' },
  { id: 'aups-current', text: 'Are staff and pupil AUPs current and acknowledged?' },
  { id: 'staff-trained', text: 'Have all staff had online-safety training this year?' },
  { id: 'curriculum-covered', text: 'Is online safety taught in every year group?' },
  { id: 'incidents-reviewed', text: 'Have incident records been reviewed for patterns?' },
  { id: 'parents-informed', text: 'Have parents been given online-safety information?' },
] as const;

export const FILTERING_QUESTIONS = [
  { id: 'filtering-tested', text: 'Has the filtering been tested against the DfE standards?' },
  { id: 'monitoring-reviewed', text: 'Have monitoring alerts and their handling been reviewed?' },
  { id: 'roles-assigned', text: 'Are the filtering and monitoring responsibilities assigned?' },
  { id: 'provider-checked', text: 'Has the provider confirmed IWF and CTIRU list coverage?' },
] as const;

export type ChecklistKind = 'annual-audit' | 'filtering-review';

/**
 * Who takes part in the DfE filtering and monitoring review: the DfE standards ask for senior leadership, the
 * DSL, the IT service provider and the responsible governor to review at least once every academic year.
 * https://www.gov.uk/guidance/meeting-digital-and-technology-standards-in-schools-and-colleges/filtering-and-monitoring-standards-for-schools-and-colleges
 */
export const FILTERING_REVIEW_PARTICIPANTS = [
  { id: 'slt', label: 'A member of the senior leadership team' },
  { id: 'dsl', label: 'The designated safeguarding lead' },
  { id: 'it-provider', label: 'The IT service provider' },
  { id: 'governor', label: 'The responsible governor' },
] as const;
export type FilteringReviewParticipant = (typeof FILTERING_REVIEW_PARTICIPANTS)[number]['id'];

/** The review's sign-off: who took part (by role), who signed it off (a role title) and when. */
export interface FilteringReviewSignOff {
  participants: FilteringReviewParticipant[];
  signedOffBy: string;
  signedOn: string;
}

/** Months between filtering reviews (the DfE standards: at least once every academic year). */
export const FILTERING_REVIEW_INTERVAL_MONTHS = 12;

/** The next review date: a year after sign-off, clamped to the month's end. */
export function nextFilteringReviewDue(signedOn: string): string {
  const [y, m, d] = signedOn.split('-').map(Number) as [number, number, number];
  const last = new Date(Date.UTC(y + 1, m, 0)).getUTCDate();
  return `${y + 1}-${String(m).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** One answered question: yes or no, on a date, by a named role (a role title, never a person's name), with a comment. */
export interface ChecklistAnswer {
  questionId: string;
  answer: 'yes' | 'no';
  answeredOn: string;
  role: string;
  comment: string;
}

export interface SchoolAuditYear {
  /** Starting calendar year: 2026 for 2026/27. */
  academicYear: number;
  annualAudit: ChecklistAnswer[];
  filteringReview: ChecklistAnswer[];
  /** Date (YYYY-MM-DD) the policy is next due for review. */
  policyReviewDue: string | null;
  /** Role titles, e.g. "E-safety coordinator" and "Safeguarding governor". */
  lead: string | null;
  governor: string | null;
  /** The filtering review's participants and sign-off; absent until signed off. */
  filteringReviewSignOff?: FilteringReviewSignOff | null;
}

export function emptyAuditYear(academicYear: number): SchoolAuditYear {
  return { academicYear, annualAudit: [], filteringReview: [], policyReviewDue: null, lead: null, governor: null, filteringReviewSignOff: null };
}

/**
 * The filtering review is done when every question is answered, all four participants took part and it was
 * signed off; then the next one is due a year after the sign-off.
 */
export function filteringReviewStatus(year: Pick<SchoolAuditYear, 'filteringReview' | 'filteringReviewSignOff'>): { status: 'done' | 'due'; completedOn: string | null; nextDue: string | null; missingParticipants: FilteringReviewParticipant[] } {
  const signOff = year.filteringReviewSignOff ?? null;
  const missingParticipants = FILTERING_REVIEW_PARTICIPANTS.map((p) => p.id).filter((id) => !signOff?.participants.includes(id));
  const answered = checklistStatus('filtering-review', year.filteringReview).status === 'done';
  if (!answered || !signOff || missingParticipants.length > 0) return { status: 'due', completedOn: null, nextDue: null, missingParticipants };
  return { status: 'done', completedOn: signOff.signedOn, nextDue: nextFilteringReviewDue(signOff.signedOn), missingParticipants };
}

export function currentAcademicYear(now: Date): number {
  return academicYearOf(now.toISOString().slice(0, 7));
}

/** Done when every question has been answered (yes or no); the date done is the latest answer. */
export function checklistStatus(kind: ChecklistKind, answers: readonly ChecklistAnswer[]): { status: 'done' | 'due'; completedOn: string | null } {
  const questions: readonly { id: string }[] = kind === 'annual-audit' ? AUDIT_QUESTIONS : FILTERING_QUESTIONS;
  const answered = questions.every((q) => answers.some((a) => a.questionId === q.id));
  if (!answered) return { status: 'due', completedOn: null };
  return { status: 'done', completedOn: answers.map((a) => a.answeredOn).sort().at(-1) ?? null };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Validates a submitted year; returns every problem at once. */
export function parseAuditYear(academicYear: number, input: unknown): { ok: true; year: SchoolAuditYear } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const text = (v: unknown, max: number): string => (typeof v === 'string' ? v.trim().slice(0, max) : '');
  const answers = (kind: ChecklistKind, value: unknown): ChecklistAnswer[] => {
    const ids = new Set((kind === 'annual-audit' ? AUDIT_QUESTIONS : FILTERING_QUESTIONS).map((q) => q.id as string));
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      problems.push(`${kind} must be a list of answers.`);
      return [];
    }
    return value.flatMap((raw: unknown, i) => {
      const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const answer = { questionId: text(a.questionId, 60), answer: a.answer as 'yes' | 'no', answeredOn: text(a.answeredOn, 10), role: text(a.role, 80), comment: text(a.comment, 1000) };
      const before = problems.length;
      if (!ids.has(answer.questionId)) problems.push(`${kind}[${i}]: unknown question.`);
      if (answer.answer !== 'yes' && answer.answer !== 'no') problems.push(`${kind}[${i}]: answer must be yes or no.`);
      if (!DATE.test(answer.answeredOn)) problems.push(`${kind}[${i}]: answeredOn must be a date (YYYY-MM-DD).`);
      if (!answer.role) problems.push(`${kind}[${i}]: name the role that answered.`);
      return problems.length === before ? [answer] : [];
    });
  };
  let filteringReviewSignOff: FilteringReviewSignOff | null = null;
  if (body.filteringReviewSignOff !== undefined && body.filteringReviewSignOff !== null) {
    const raw = (typeof body.filteringReviewSignOff === 'object' ? body.filteringReviewSignOff : {}) as Record<string, unknown>;
    const known = FILTERING_REVIEW_PARTICIPANTS.map((p) => p.id as string);
    const participants = Array.isArray(raw.participants) ? raw.participants : [];
    if (!participants.every((p) => typeof p === 'string' && known.includes(p))) problems.push(`filteringReviewSignOff.participants must be from ${known.join(', ')}.`);
    const signedOffBy = text(raw.signedOffBy, 80);
    if (!signedOffBy) problems.push('filteringReviewSignOff.signedOffBy must name the role that signed the review off.');
    const signedOn = text(raw.signedOn, 10);
    if (!DATE.test(signedOn)) problems.push('filteringReviewSignOff.signedOn must be a date (YYYY-MM-DD).');
    filteringReviewSignOff = { participants: [...new Set(participants as FilteringReviewParticipant[])], signedOffBy, signedOn };
  }
  const policyReviewDue = body.policyReviewDue === undefined || body.policyReviewDue === null || body.policyReviewDue === '' ? null : text(body.policyReviewDue, 10);
  if (policyReviewDue !== null && !DATE.test(policyReviewDue)) problems.push('policyReviewDue must be a date (YYYY-MM-DD).');
  const year: SchoolAuditYear = {
    academicYear,
    annualAudit: answers('annual-audit', body.annualAudit),
    filteringReview: answers('filtering-review', body.filteringReview),
    policyReviewDue,
    lead: text(body.lead, 80) || null,
    governor: text(body.governor, 80) || null,
    filteringReviewSignOff,
  };
  return problems.length ? { ok: false, problems } : { ok: true, year };
}
