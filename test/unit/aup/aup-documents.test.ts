import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AupDocumentError,
  checkAcknowledgedVersion,
  checkAupLibrary,
  documentsOwed,
  formatAupDate,
  groupRules,
  hashAupText,
  parseAupDocument,
  type AupDocument,
} from '../../../school/aup-documents';
import type { Role } from '../../../school/roles';

function file(front: Record<string, string>, body = '## Rules\n- Be kind online.'): string {
  return `---\n${Object.entries(front).map(([k, v]) => `${k}: ${v}`).join('\n')}\n---\n${body}\n`;
}

const good = { id: 'staff-aup', title: 'Staff AUP', version: '3', date: '2026-09-01', audience: 'staff, coordinator' };

describe('parseAupDocument', () => {
  it('reads the front matter and groups the rules under their headings', () => {
    const document = parseAupDocument(file(good, 'Read this first.\n\n## Passwords\n- Keep it secret.\n- Change it if shared.\n\n## Data\n* Keep data on school systems.'), 'staff.md');
    expect(document).toMatchObject({ id: 'staff-aup', title: 'Staff AUP', version: 3, date: '2026-09-01', audience: ['staff', 'coordinator'], needsParent: false });
    expect(document.introduction).toBe('Read this first.');
    expect(document.groups).toEqual([
      { heading: 'Passwords', rules: ['Keep it secret.', 'Change it if shared.'] },
      { heading: 'Data', rules: ['Keep data on school systems.'] },
    ]);
  });

  it('accepts CRLF line endings and a BOM, and hashes them the same as LF', () => {
    const lf = parseAupDocument(file(good), 'a.md');
    const crlf = parseAupDocument(`\uFEFF${file(good).replace(/\n/g, '\r\n')}`, 'b.md');
    expect(crlf.hash).toBe(lf.hash);
  });

  it('a pupil or EYFS document asks for a parent or carer', () => {
    expect(parseAupDocument(file({ ...good, audience: 'pupil' }), 'p.md').needsParent).toBe(true);
    expect(parseAupDocument(file({ ...good, audience: 'eyfs' }), 'e.md').needsParent).toBe(true);
    expect(parseAupDocument(file({ ...good, audience: 'governor, chair' }), 'g.md').needsParent).toBe(false);
  });

  it.each([
    ['no front matter', '## Rules\n- x', /front matter/],
    ['a bad id', file({ ...good, id: 'Staff AUP' }), /id must be/],
    ['a missing title', file({ ...good, title: '' }), /title is missing/],
    ['version 0', file({ ...good, version: '0' }), /version must be/],
    ['version "two"', file({ ...good, version: 'two' }), /version must be/],
    ['a date that is not YYYY-MM-DD', file({ ...good, date: '1/9/2026' }), /date must be/],
    ['an unknown audience', file({ ...good, audience: 'staff, parents' }), /"parents" is not an audience/],
    ['no text', file(good, ''), /no text/],
  ])('rejects a file with %s, naming the file', (_case, content, message) => {
    expect(() => parseAupDocument(content, 'broken.md')).toThrow(AupDocumentError);
    expect(() => parseAupDocument(content, 'broken.md')).toThrow(message);
    expect(() => parseAupDocument(content, 'broken.md')).toThrow(/broken\.md/);
  });

  it('lists every problem in a file at once', () => {
    try {
      parseAupDocument(file({ id: 'x y', title: '', version: '', date: '', audience: '' }), 'bad.md');
      throw new Error('expected a failure');
    } catch (error) {
      expect((error as AupDocumentError).problems.length).toBeGreaterThanOrEqual(5);
    }
  });
});

describe('groupRules', () => {
  it.each([
    ['numbered rules', '## A\n1. One\n2) Two', [{ heading: 'A', rules: ['One', 'Two'] }]],
    ['a paragraph under a heading becomes a rule, and its next line continues it', '## A\nFirst line\nsecond line', [{ heading: 'A', rules: ['First line second line'] }]],
    ['an empty heading is dropped', '## Empty\n## B\n- b', [{ heading: 'B', rules: ['b'] }]],
  ])('%s', (_case, text, groups) => {
    expect(groupRules(text).groups).toEqual(groups);
  });
});

describe('hashAupText', () => {
  it('changes when the words, the title or the version change', () => {
    const base = hashAupText('T', 1, 'Be kind.');
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAupText('T', 1, 'Be kind.')).toBe(base);
    expect(hashAupText('T', 1, 'Be kind!')).not.toBe(base);
    expect(hashAupText('T', 2, 'Be kind.')).not.toBe(base);
    expect(hashAupText('U', 1, 'Be kind.')).not.toBe(base);
  });
});

describe('documentsOwed', () => {
  const doc = (id: string, version: number, audience: string): AupDocument => parseAupDocument(file({ ...good, id, version: String(version), audience }), `${id}.md`);
  const library = [doc('staff-aup', 3, 'staff, coordinator, dsl, headteacher, admin'), doc('governor-aup', 1, 'governor, chair'), doc('pupil-ks1-aup', 2, 'pupil'), doc('visitor-aup', 1, 'visitor')];

  it.each<[string, Role[], [string, number[]][], string[]]>([
    ['a teacher who has acknowledged nothing owes the staff AUP', ['staff'], [], ['staff-aup']],
    ['a coordinator who is also staff owes it once', ['staff', 'coordinator'], [], ['staff-aup']],
    ['a teacher who acknowledged the current version owes nothing', ['staff'], [['staff-aup', [3]]], []],
    ['a teacher who acknowledged only an older version owes the new one', ['staff'], [['staff-aup', [1, 2]]], ['staff-aup']],
    ['a governor owes the governor AUP', ['governor'], [], ['governor-aup']],
    ['the chair owes the governor AUP', ['chair'], [], ['governor-aup']],
    ['a pupil owes the KS1 pupil AUP', ['pupil'], [], ['pupil-ks1-aup']],
    ['a head who is also a governor owes both', ['headteacher', 'governor'], [], ['staff-aup', 'governor-aup']],
    ['nobody owes a paper-only document in Teams', ['admin'], [], ['staff-aup']],
    ['someone with no roles owes nothing', [], [], []],
  ])('%s', (_case, roles, acknowledged, expected) => {
    expect(documentsOwed(library, new Set(roles), new Map(acknowledged)).map((d) => d.id)).toEqual(expected);
  });
});

describe('checkAcknowledgedVersion', () => {
  const document = parseAupDocument(file(good), 's.md');
  it.each([
    [3, 'current'],
    ['3', 'current'],
    [2, 'stale'],
    [4, 'stale'],
    ['x', 'invalid'],
    [undefined, 'invalid'],
    [0, 'invalid'],
  ])('version %p is %s', (version, expected) => {
    expect(checkAcknowledgedVersion(document, version)).toBe(expected);
  });
});

describe('the sample documents we ship', () => {
  const dir = join(__dirname, '../../../aup');
  const documents = readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => parseAupDocument(readFileSync(join(dir, f), 'utf8'), f));

  it('cover every audience the product names, with unique ids', () => {
    expect(documents.map((d) => d.id).sort()).toEqual(['eyfs-code', 'governor-aup', 'parent-agreement', 'pupil-ks1-aup', 'pupil-ks2-aup', 'staff-aup', 'visitor-aup']);
    expect(checkAupLibrary(documents)).toEqual([]);
    expect(checkAupLibrary([...documents, documents[0]!])).toHaveLength(1);
  });

  it('each has grouped rules', () => {
    for (const document of documents) expect(document.groups.length).toBeGreaterThan(0);
  });

  it('tell pupils never to share their password, as the school policies say', () => {
    const ks2 = parseAupDocument(readFileSync(join(dir, 'pupil-ks2.md'), 'utf8'), 'pupil-ks2.md');
    for (const pupil of [...documents.filter((d) => d.audience.includes('pupil')), ks2]) {
      const rules = pupil.groups.flatMap((g) => g.rules).join('\n');
      expect(rules).toMatch(/never (tell|give)[^.\n]*password[^.\n]*not even my best friend/i);
      expect(rules).not.toMatch(/except/i);
    }
    expect(ks2).toMatchObject({ id: 'pupil-ks2-aup', audience: ['pupil'], needsParent: true, yearGroups: ['3', '4', '5', '6'] });
    expect(documents.find((d) => d.id === 'pupil-ks1-aup')).toMatchObject({ yearGroups: ['R', '1', '2'] });
  });
});

describe('formatAupDate', () => {
  it.each([
    ['2026-09-04T10:00:00Z', '4 Sep 2026'],
    ['2026-03-31T23:30:00Z', '1 Apr 2026'],
    ['2026-12-25T12:00:00Z', '25 Dec 2026'],
  ])('%s shows as %s in UK time', (at, shown) => {
    expect(formatAupDate(at)).toBe(shown);
  });
});
