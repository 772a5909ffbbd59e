import { FILTERING_QUESTIONS, filteringReviewStatus, nextFilteringReviewDue, parseAuditYear, type ChecklistAnswer } from '../../../school/school-audit';

const answered: ChecklistAnswer[] = FILTERING_QUESTIONS.map((q) => ({ questionId: q.id, answer: 'yes', answeredOn: '2026-10-01', role: 'IT coordinator', comment: '' }));
const everyone = ['slt', 'dsl', 'it-provider', 'governor'] as const;

describe('the DfE filtering and monitoring review', () => {
  it.each([
    ['2026-10-14', '2027-10-14'],
    ['2028-02-29', '2029-02-28'],
  ])('signed off on %s is next due on %s', (signedOn, next) => {
    expect(nextFilteringReviewDue(signedOn)).toBe(next);
  });

  it('is done only with every answer, all four participants and a sign-off', () => {
    const signOff = { participants: [...everyone], signedOffBy: 'Headteacher', signedOn: '2026-10-14' };
    expect(filteringReviewStatus({ filteringReview: answered, filteringReviewSignOff: signOff })).toEqual({ status: 'done', completedOn: '2026-10-14', nextDue: '2027-10-14', missingParticipants: [] });
    expect(filteringReviewStatus({ filteringReview: answered, filteringReviewSignOff: { ...signOff, participants: ['slt', 'dsl'] } })).toMatchObject({ status: 'due', missingParticipants: ['it-provider', 'governor'] });
    expect(filteringReviewStatus({ filteringReview: answered.slice(1), filteringReviewSignOff: signOff })).toMatchObject({ status: 'due', nextDue: null });
    expect(filteringReviewStatus({ filteringReview: answered, filteringReviewSignOff: null })).toMatchObject({ status: 'due', missingParticipants: [...everyone] });
  });

  it('checks the sign-off when saved, naming every problem', () => {
    const parsed = parseAuditYear(2026, { filteringReviewSignOff: { participants: ['slt', 'caretaker'], signedOffBy: '', signedOn: 'soon' } });
    expect(parsed).toEqual({ ok: false, problems: [expect.stringContaining('participants'), expect.stringContaining('signedOffBy'), expect.stringContaining('signedOn')] });
  });
});
