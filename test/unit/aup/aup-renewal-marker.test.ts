import { readFileSync } from 'node:fs';
import { AupDocumentError, parseAupDocument, renewalYear } from '../../../school/aup-documents';

const doc = (extra: string): string => `---\nid: staff-aup\ntitle: Staff AUP\nversion: 1\ndate: 2026-09-01\naudience: staff\n${extra}---\n## Rules\n- Be safe.\n`;

describe('the annual renewal marker in an AUP document’s front matter', () => {
  it('reads renewal: annual, and treats a document without it as renewed only by a new version', () => {
    expect(parseAupDocument(doc('renewal: annual\n'), 'a.md').renewal).toBe('annual');
    expect(parseAupDocument(doc('Renewal: Annual\n'), 'a.md').renewal).toBe('annual');
    expect(parseAupDocument(doc(''), 'a.md').renewal).toBe('none');
  });

  it('names a renewal it does not know', () => {
    expect(() => parseAupDocument(doc('renewal: termly\n'), 'a.md')).toThrow(AupDocumentError);
    expect(() => parseAupDocument(doc('renewal: termly\n'), 'a.md')).toThrow(/renewal must be "annual" or "none" \(got "termly"\)/);
  });

  it('gives an annual document’s acknowledgement the academic year of the instant or the form’s date, and any other none', () => {
    const annual = parseAupDocument(doc('renewal: annual\n'), 'a.md');
    expect(renewalYear(annual, new Date('2026-08-31T23:00:00Z'))).toBe(2026);
    expect(renewalYear(annual, new Date('2026-08-31T22:59:00Z'))).toBe(2025);
    expect(renewalYear(annual, '2026-07-21')).toBe(2025);
    expect(renewalYear(parseAupDocument(doc(''), 'a.md'), new Date('2026-09-02T00:00:00Z'))).toBeUndefined();
  });

  it('marks the staff AUP and the early years code annual, as their text asks for them each September', () => {
    expect(parseAupDocument(readFileSync('aup/staff.md', 'utf8'), 'staff.md').renewal).toBe('annual');
    expect(parseAupDocument(readFileSync('aup/eyfs.md', 'utf8'), 'eyfs.md').renewal).toBe('annual');
  });
});
