import { checkAupLibrary, fitsYearGroup, parseAupDocument } from '../../../school/aup-documents';
import { summariseAupCoverage } from '../../../school/aup-coverage';

const pupilDoc = (id: string, years: string): string => `---\nid: ${id}\ntitle: Rules\nversion: 1\ndate: 2026-09-01\naudience: pupil\n${years ? `year-groups: ${years}\n` : ''}---\n## Rules\n- I never tell anyone my password, not even my best friend.\n`;

describe('pupil AUPs by year group', () => {
  const ks1 = parseAupDocument(pupilDoc('ks1', 'R, 1, 2'), 'ks1.md');
  const ks2 = parseAupDocument(pupilDoc('ks2', '3,4,5,6'), 'ks2.md');
  const any = parseAupDocument(pupilDoc('any', ''), 'any.md');

  it.each([
    ['R', true, false],
    ['1', true, false],
    ['2', true, false],
    ['3', false, true],
    ['6', false, true],
    ['N', false, false],
    ['7', false, false],
    [undefined, true, true],
  ])('a pupil in year group %s: KS1 %s, KS2 %s', (year, inKs1, inKs2) => {
    expect(fitsYearGroup(ks1, year)).toBe(inKs1);
    expect(fitsYearGroup(ks2, year)).toBe(inKs2);
    expect(fitsYearGroup(any, year)).toBe(true);
  });

  it('names a year group it does not know', () => {
    expect(() => parseAupDocument(pupilDoc('x', '3, Y4'), 'x.md')).toThrow(/"Y4" is not a year group/);
  });

  it('refuses two pupil documents for the same year group', () => {
    const overlap = parseAupDocument(pupilDoc('lower-ks2', '3, 4'), 'l.md');
    expect(checkAupLibrary([ks1, ks2])).toEqual([]);
    expect(checkAupLibrary([ks1, ks2, overlap])).toEqual([
      'year group 3 is in both "ks2" and "lower-ks2"; give each year group one pupil document',
      'year group 4 is in both "ks2" and "lower-ks2"; give each year group one pupil document',
    ]);
  });

  it('counts a pupil only against the document for their year group', () => {
    const years: Record<string, string> = { a: '1', b: '4', c: '5' };
    const rows = summariseAupCoverage([ks1, ks2], new Map([['pupil', ['a', 'b', 'c']]]), new Map([['ks2', new Set(['b', 'a'])]]), (d, _g, id) => fitsYearGroup(d, years[id]));
    expect(rows.map((r) => [r.documentId, r.members, r.acknowledged, r.outstandingIds])).toEqual([
      ['ks1', 1, 0, ['a']],
      ['ks2', 2, 1, ['c']],
    ]);
  });
});
