import { APPENDIX_5_QUESTIONS, prefillAnnualAudit, renderAnnualAuditPack, type AuditEvidence } from '../../../school/annual-audit-pack';

const evidence: AuditEvidence = {
  schoolName: 'Oak <Primary> & Nursery',
  academicYear: 2026,
  year: { academicYear: 2026, annualAudit: [], filteringReview: [], policyReviewDue: '2027-06-30', lead: 'E-safety coordinator', governor: 'Safeguarding governor' },
  training: { people: 10, current: 7, courses: [{ course: 'Online safety update', provider: 'Local authority', completedOn: '2026-09-03', people: 7 }] },
  aup: [
    { title: 'Staff AUP', version: 2, audience: ['staff'], percent: 100, paperForms: 0 },
    { title: 'Pupil AUP', version: 1, audience: ['pupil'], percent: 80, paperForms: 12 },
  ],
  incidents: { thisYear: 14, closed: 11 },
  filtering: { requests: 5, decided: 4, dueForReversal: 1 },
};

describe('the annual e-safety audit pack (seed 000 Appendix 5)', () => {
  it('asks every question and prefills those the records can answer, with their evidence', () => {
    const answers = prefillAnnualAudit(evidence);
    expect(answers.map((a) => a.id)).toEqual(APPENDIX_5_QUESTIONS.map((q) => q.id));
    const byId = Object.fromEntries(answers.map((a) => [a.id, a]));
    expect(byId['staff-training']).toMatchObject({ suggested: 'partly', evidence: expect.stringContaining('7 of 10 staff and governors are up to date (70%)') });
    expect(byId['staff-training']!.evidence).toContain('Online safety update (Local authority), 3 September 2026: 7 people');
    expect(byId['staff-aup']).toMatchObject({ suggested: 'yes' });
    expect(byId['pupil-parent-aup']).toMatchObject({ suggested: 'partly', evidence: expect.stringContaining('12 on paper') });
    expect(byId['incidents-logged']).toMatchObject({ suggested: 'yes', evidence: expect.stringContaining('14 this year') });
    expect(byId['filtering-approved']).toMatchObject({ suggested: 'partly' });
    expect(byId['policy-review']!.evidence).toContain('30 June 2027');
    expect(byId['gdpr']).toMatchObject({ suggested: null });
  });

  it('leaves questions to the coordinator when a record is missing', () => {
    const answers = prefillAnnualAudit({ ...evidence, year: null, training: null, aup: null, incidents: null, filtering: null });
    expect(answers.filter((a) => a.suggested !== null).map((a) => a.id)).toEqual(['reporting-procedure']);
  });

  it('renders printable HTML with print CSS, escapes what the school typed, and runs no script', () => {
    const html = renderAnnualAuditPack(evidence, '2026-11-23');
    expect(html).toContain('Oak &lt;Primary&gt; &amp; Nursery: annual e-safety self-audit, 2026/27');
    expect(html).toContain('@media print');
    expect(html).toContain('@page { size: A4');
    expect(html).not.toMatch(/<script|<link|src=/i);
    expect(html.match(/<tr>/g)).toHaveLength(APPENDIX_5_QUESTIONS.length + 1);
  });
});
