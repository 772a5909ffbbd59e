import { parseAupDocument } from '../../../school/aup-documents';
import { summariseAupCoverage } from '../../../school/aup-coverage';
import type { Role } from '../../../school/roles';

const doc = (id: string, audience: string) => parseAupDocument(`---\nid: ${id}\ntitle: ${id}\nversion: 2\ndate: 2026-09-01\naudience: ${audience}\n---\n## A\n- a\n`, `${id}.md`);

describe('summariseAupCoverage', () => {
  const documents = [doc('staff-aup', 'staff, coordinator'), doc('visitor-aup', 'visitor')];

  it.each<[string, [Role, string[]][], string[], { group: Role; members: number; acknowledged: number; percent: number; outstandingIds: string[] }[]]>([
    ['nobody has acknowledged', [['staff', ['a', 'b']], ['coordinator', ['c']]], [], [
      { group: 'staff', members: 2, acknowledged: 0, percent: 0, outstandingIds: ['a', 'b'] },
      { group: 'coordinator', members: 1, acknowledged: 0, percent: 0, outstandingIds: ['c'] },
    ]],
    ['two of three staff have, rounded down', [['staff', ['a', 'b', 'd']], ['coordinator', []]], ['a', 'd'], [
      { group: 'staff', members: 3, acknowledged: 2, percent: 66, outstandingIds: ['b'] },
      { group: 'coordinator', members: 0, acknowledged: 0, percent: 0, outstandingIds: [] },
    ]],
    ['someone listed twice counts once, and acknowledgements from people outside the group do not count', [['staff', ['a', 'a']], ['coordinator', ['c']]], ['a', 'z'], [
      { group: 'staff', members: 1, acknowledged: 1, percent: 100, outstandingIds: [] },
      { group: 'coordinator', members: 1, acknowledged: 0, percent: 0, outstandingIds: ['c'] },
    ]],
  ])('%s', (_case, members, acknowledged, expected) => {
    const rows = summariseAupCoverage(documents, new Map(members), new Map([['staff-aup', new Set(acknowledged)]]));
    expect(rows.map(({ group, members: m, acknowledged: a, percent, outstandingIds }) => ({ group, members: m, acknowledged: a, percent, outstandingIds }))).toEqual(expected);
    expect(rows.every((r) => r.documentId === 'staff-aup' && r.version === 2)).toBe(true);
  });
});
