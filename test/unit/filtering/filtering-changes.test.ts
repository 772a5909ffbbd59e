import { checkFilteringChangeRequest, checkFilteringDecision, isDueForReversal, normaliseSite, type FilteringChangeRequest } from '../../../school/filtering-changes';
import type { Principal, Role } from '../../../school/roles';

const TODAY = '2026-11-23';
const who = (id: string, ...roles: Role[]): Principal => ({ aadObjectId: id, roles: new Set(roles) });
const request = (overrides: Partial<FilteringChangeRequest> = {}): FilteringChangeRequest => ({
  id: 'abc', site: 'example.org', change: 'unblock', reason: 'Year 5 Viking topic', requestedBy: 'teacher', requestedAt: '2026-11-20T09:00:00Z', status: 'requested', ...overrides,
});

describe('filtering change requests', () => {
  it.each([
    ['https://www.Example.org/', 'example.org'],
    ['http://bbc.co.uk/bitesize/', 'bbc.co.uk/bitesize'],
    ['  kids.example.net ', 'kids.example.net'],
  ])('%p is recorded as %p', (input, site) => {
    expect(normaliseSite(input)).toBe(site);
  });

  it('lists every problem with a request', () => {
    expect(checkFilteringChangeRequest({ site: 'not a site', change: 'allow', reason: 'x', until: '2026-11-01' }, 'teacher', TODAY)).toEqual({
      problems: [expect.stringContaining('site'), expect.stringContaining('change'), expect.stringContaining('reason'), expect.stringContaining('past')],
    });
  });

  it('gives the same id to the same request on the same day, so a retry is stored once', () => {
    const body = { site: 'example.org', change: 'unblock', reason: 'Year 5 Viking topic', until: '2026-12-19' };
    const a = checkFilteringChangeRequest(body, 'teacher', TODAY);
    const b = checkFilteringChangeRequest({ ...body, site: 'https://www.example.org/' }, 'teacher', TODAY);
    const c = checkFilteringChangeRequest(body, 'teacher', '2026-11-24');
    expect('request' in a && 'request' in b && a.request.id === b.request.id).toBe(true);
    expect('request' in a && 'request' in c && a.request.id !== c.request.id).toBe(true);
  });

  it.each([
    ['the head', who('head', 'headteacher', 'staff'), 'ok'],
    ['the coordinator', who('coord', 'coordinator', 'staff'), 'ok'],
    ['the DSL', who('dsl', 'dsl', 'staff'), 'forbidden'],
    ['IT', who('it', 'admin'), 'forbidden'],
    ['a teacher', who('t2', 'staff'), 'forbidden'],
    ['the coordinator who asked', who('teacher', 'coordinator', 'staff'), 'forbidden'],
    ['the head who asked', who('teacher', 'headteacher'), 'forbidden'],
  ] as const)('%s deciding is %s', (_name, decider, kind) => {
    expect(checkFilteringDecision(request(), decider, { approve: true, why: 'Needed for the topic' }).kind).toBe(kind);
  });

  it('refuses the requester for their own request, not for their role', () => {
    expect(checkFilteringDecision(request(), who('teacher', 'coordinator'), { approve: true, why: 'Fine' })).toEqual({ kind: 'forbidden', reason: 'own-request' });
  });

  it('needs a decision and a reason, and decides only once', () => {
    const head = who('head', 'headteacher');
    expect(checkFilteringDecision(request(), head, { approve: 'yes' })).toEqual({ kind: 'invalid', problems: [expect.stringContaining('approve'), expect.stringContaining('why')] });
    expect(checkFilteringDecision(request({ status: 'refused' }), head, { approve: true, why: 'Changed my mind' })).toEqual({ kind: 'already-decided', status: 'refused' });
  });

  it.each([
    [request({ status: 'approved', until: '2026-11-23' }), true],
    [request({ status: 'approved', until: '2026-11-22' }), true],
    [request({ status: 'approved', until: '2026-11-24' }), false],
    [request({ status: 'approved' }), false],
    [request({ status: 'requested', until: '2026-11-01' }), false],
    [request({ status: 'refused', until: '2026-11-01' }), false],
  ])('%j is due for reversal on 23 November: %p', (r, due) => {
    expect(isDueForReversal(r, TODAY)).toBe(due);
  });
});
