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
}

export function emptyAuditYear(academicYear: number): SchoolAuditYear {
  return { academicYear, annualAudit: [], filteringReview: [], policyReviewDue: null, lead: null, governor: null };
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
  const policyReviewDue = body.policyReviewDue === undefined || body.policyReviewDue === null || body.policyReviewDue === '' ? null : text(body.policyReviewDue, 10);
  if (policyReviewDue !== null && !DATE.test(policyReviewDue)) problems.push('policyReviewDue must be a date (YYYY-MM-DD).');
  const year: SchoolAuditYear = {
    academicYear,
    annualAudit: answers('annual-audit', body.annualAudit),
    filteringReview: answers('filtering-review', body.filteringReview),
    policyReviewDue,
    lead: text(body.lead, 80) || null,
    governor: text(body.governor, 80) || null,
  };
  return problems.length ? { ok: false, problems } : { ok: true, year };
}
