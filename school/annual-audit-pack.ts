import type { SchoolAuditYear } from './school-audit';
import { academicYearLabel } from './incident-summary';

/**
 * The annual e-safety self-audit of seed 000 Appendix 5, in full, with each answer prefilled from the records
 * the product keeps where they can answer it. Prefilled answers are suggestions with their evidence; the
 * coordinator confirms them. Questions no record can answer are left for the coordinator.
 */
export const APPENDIX_5_QUESTIONS = [
  { id: 'policy-exists', text: 'Has the school an e-safety policy that complies with the local authority’s guidance?', from: 'audit' },
  { id: 'policy-review', text: 'Date of the latest update, and of the next review', from: 'policy-review' },
  { id: 'policy-agreed', text: 'When was the policy agreed by governors?', from: null },
  { id: 'policy-available', text: 'Where can staff, parents and carers read the policy?', from: null },
  { id: 'named-roles', text: 'Who are the e-safety coordinator, the governor responsible for e-safety and the designated safeguarding lead?', from: 'named-roles' },
  { id: 'stakeholders-consulted', text: 'Were pupils, staff and parents or carers consulted when the policy was updated?', from: null },
  { id: 'staff-training', text: 'Has up-to-date e-safety training been provided for all members of staff (not just teaching staff)? Dates and details.', from: 'training' },
  { id: 'staff-aup', text: 'Do all members of staff sign an acceptable use policy on appointment and after substantial changes?', from: 'staff-aup' },
  { id: 'staff-expectations', text: 'Are all staff aware of the school’s expectations of safe and professional online behaviour?', from: 'staff-aup' },
  { id: 'reporting-procedure', text: 'Is there a clear procedure for staff, pupils and parents or carers to report an e-safety incident?', from: 'reporting' },
  { id: 'ceop-childnet', text: 'Have e-safety materials from CEOP and Childnet been obtained?', from: null },
  { id: 'pupil-training', text: 'Is e-safety taught to all pupils, suited to age and ability, across all key stages?', from: 'audit' },
  { id: 'rules-displayed', text: 'Are e-safety rules displayed where computers are used, in a form all pupils can follow?', from: null },
  { id: 'pupil-parent-aup', text: 'Do parents, carers or pupils sign an acceptable use policy?', from: 'pupil-aup' },
  { id: 'monitoring-known', text: 'Do staff, pupils, parents, carers and visitors know that network and internet use is monitored and can be traced?', from: 'pupil-aup' },
  { id: 'gdpr', text: 'Is personal data collected, stored and used according to the principles of the UK GDPR?', from: null },
  { id: 'filtering-approved', text: 'Is the filtering designed for the school’s educational aims and approved by senior leaders?', from: 'filtering' },
  { id: 'filtering-supervised', text: 'Are the staff who manage filtering, network access and monitoring supervised by a senior leader?', from: 'filtering' },
  { id: 'incidents-logged', text: 'Does the school log all e-safety incidents, with the action taken?', from: 'incidents' },
  { id: 'governors-monitor', text: 'Do the governing body and senior leaders monitor and evaluate the policy regularly?', from: 'governors' },
] as const;

/** What the records say, gathered by the use case. Counts only: no person's name. */
export interface AuditEvidence {
  schoolName: string;
  academicYear: number;
  year: SchoolAuditYear | null;
  training: { people: number; current: number; courses: { course: string; provider: string; completedOn: string; people: number }[] } | null;
  aup: { title: string; version: number; audience: string[]; percent: number; paperForms: number }[] | null;
  incidents: { thisYear: number; closed: number } | null;
  filtering: { requests: number; decided: number; dueForReversal: number } | null;
}

export interface PrefilledAnswer {
  id: string;
  text: string;
  suggested: 'yes' | 'no' | 'partly' | null;
  evidence: string;
}

function pct(n: number, of: number): string {
  return of === 0 ? 'none' : `${Math.round((n / of) * 100)}%`;
}

/** Each Appendix 5 question with the answer the records suggest, and why. */
export function prefillAnnualAudit(e: AuditEvidence): PrefilledAnswer[] {
  const ukDate = (iso: string): string => new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' }).format(new Date(`${iso}T12:00:00Z`));
  const staffDocs = (e.aup ?? []).filter((d) => d.audience.some((a) => ['staff', 'coordinator', 'dsl', 'headteacher', 'admin'].includes(a)));
  const pupilDocs = (e.aup ?? []).filter((d) => d.audience.some((a) => ['pupil', 'eyfs', 'parent'].includes(a)));
  const answer = (from: string | null): Omit<PrefilledAnswer, 'id' | 'text'> => {
    switch (from) {
      case 'audit':
        return { suggested: null, evidence: 'Answer from the school’s own knowledge.' };
      case 'policy-review':
        return e.year?.policyReviewDue ? { suggested: 'yes', evidence: `Next review due ${ukDate(e.year.policyReviewDue)} (recorded in the annual audit).` } : { suggested: null, evidence: 'No review date recorded yet.' };
      case 'named-roles':
        return e.year?.lead || e.year?.governor ? { suggested: 'yes', evidence: `Lead: ${e.year?.lead ?? 'not recorded'}; governor: ${e.year?.governor ?? 'not recorded'} (role titles from the annual audit).` } : { suggested: null, evidence: 'Not recorded yet.' };
      case 'training': {
        if (!e.training) return { suggested: null, evidence: 'The training register is not available.' };
        const courses = e.training.courses.map((c) => `${c.course} (${c.provider}), ${ukDate(c.completedOn)}: ${c.people} ${c.people === 1 ? 'person' : 'people'}`).join('; ');
        const all = e.training.people > 0 && e.training.current === e.training.people;
        return { suggested: all ? 'yes' : e.training.current > 0 ? 'partly' : 'no', evidence: `${e.training.current} of ${e.training.people} staff and governors are up to date (${pct(e.training.current, e.training.people)}).${courses ? ` Training: ${courses}.` : ''}` };
      }
      case 'staff-aup':
        if (staffDocs.length === 0) return { suggested: null, evidence: 'No staff AUP is published in the app.' };
        return { suggested: staffDocs.every((d) => d.percent === 100) ? 'yes' : 'partly', evidence: staffDocs.map((d) => `${d.title} (version ${d.version}): ${d.percent}% acknowledged`).join('; ') + '.' };
      case 'pupil-aup':
        if (pupilDocs.length === 0) return { suggested: null, evidence: 'No pupil or parent AUP is published in the app.' };
        return { suggested: pupilDocs.every((d) => d.percent === 100) ? 'yes' : 'partly', evidence: pupilDocs.map((d) => `${d.title} (version ${d.version}): ${d.percent}% acknowledged, ${d.paperForms} on paper`).join('; ') + '.' };
      case 'reporting':
        return { suggested: 'yes', evidence: 'Staff report concerns with /report in Teams; the coordinator and the DSL are alerted at once.' };
      case 'incidents':
        return e.incidents ? { suggested: 'yes', evidence: `Every concern is logged with its chronology of actions: ${e.incidents.thisYear} this year, ${e.incidents.closed} closed with a recorded decision.` } : { suggested: null, evidence: 'The incident log is not available.' };
      case 'filtering':
        return e.filtering ? { suggested: e.filtering.requests === e.filtering.decided ? 'yes' : 'partly', evidence: `${e.filtering.requests} filtering change requests this year, ${e.filtering.decided} decided by the head or the coordinator; ${e.filtering.dueForReversal} temporary exceptions due for reversal.` } : { suggested: null, evidence: 'The filtering log is not available.' };
      case 'governors':
        return { suggested: e.year?.governor ? 'yes' : null, evidence: 'Governors read the anonymous summary tab, with these records’ figures.' };
      default:
        return { suggested: null, evidence: 'For the coordinator to answer.' };
    }
  };
  return APPENDIX_5_QUESTIONS.map((q) => ({ id: q.id, text: q.text, ...answer(q.from) }));
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The evidence pack as one printable HTML document (print CSS, no scripts, nothing loaded from elsewhere). */
export function renderAnnualAuditPack(e: AuditEvidence, generatedOn: string): string {
  const answers = prefillAnnualAudit(e);
  const label = { yes: 'Yes', no: 'No', partly: 'Partly', none: 'To answer' };
  const rows = answers
    .map((a) => `<tr><th scope="row">${escapeHtml(a.text)}</th><td class="answer ${a.suggested ?? 'none'}">${label[a.suggested ?? 'none']}</td><td>${escapeHtml(a.evidence)}</td><td class="confirm"></td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>${escapeHtml(e.schoolName)}: e-safety audit ${academicYearLabel(e.academicYear)}</title>
<style>
body { font: 11pt/1.4 "Segoe UI", system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 16pt; margin: 0 0 .2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .35em .5em; vertical-align: top; text-align: left; }
thead th { background: #eee; }
td.answer { white-space: nowrap; font-weight: 600; }
td.confirm { width: 7em; }
.sign { margin-top: 2em; display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 2em; }
.sign div { border-top: 1px solid #111; padding-top: .3em; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; } tr { break-inside: avoid; } thead { display: table-header-group; } }
</style>
</head>
<body>
<h1>${escapeHtml(e.schoolName)}: annual e-safety self-audit, ${academicYearLabel(e.academicYear)}</h1>
<p>Completed each year by the e-safety coordinator, with the designated safeguarding lead, the network manager and the headteacher. Answers marked from the records are suggestions with their evidence, taken from the app on ${escapeHtml(generatedOn)}; confirm or correct each one. Figures are counts only and name no one.</p>
<table>
<thead><tr><th scope="col">Question</th><th scope="col">Records suggest</th><th scope="col">Evidence</th><th scope="col">Confirmed</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>Any other comments:</p>
<div class="sign"><div>Name and role</div><div>Signature</div><div>Date</div></div>
</body>
</html>
`;
}
