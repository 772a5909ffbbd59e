import { parseAupDocument } from '../../../school/aup-documents';
import { parsePaperAcknowledgements } from '../../../school/aup-paper';

const doc = (id: string, version: number, audience: string) =>
  parseAupDocument(`---\nid: ${id}\ntitle: ${id}\nversion: ${version}\ndate: 2026-09-01\naudience: ${audience}\n---\n## A\n- a\n`, `${id}.md`);
const documents = [doc('staff-aup', 2, 'staff, coordinator'), doc('pupil-ks1-aup', 1, 'pupil'), doc('visitor-aup', 1, 'visitor')];
const header = 'Person ID,Name,Role,Document,Version,Signed On,Parent Name';

describe('parsePaperAcknowledgements', () => {
  it('reads good rows, with headers in any case and spacing, a BOM and CRLF', () => {
    const csv = `\uFEFF${header}\r\nAAAA-1,"Sam Example, TA",staff,staff-aup,2,2026-09-03,\r\nvisitor-2026-014,Alex Visitor,visitor,visitor-aup,1,2026-10-01,\r\n`;
    const { rows, problems } = parsePaperAcknowledgements(csv, documents, '2026-11-23');
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { row: 2, personId: 'aaaa-1', name: 'Sam Example, TA', role: 'staff', documentId: 'staff-aup', version: 2, signedOn: '2026-09-03' },
      { row: 3, personId: 'visitor-2026-014', name: 'Alex Visitor', role: 'visitor', documentId: 'visitor-aup', version: 1, signedOn: '2026-10-01' },
    ]);
  });

  it.each([
    ['an unknown document', 'p1,Name,staff,nope,2,2026-09-03,', /document "nope" is not one of/],
    ['a role outside the audience', 'p1,Name,governor,staff-aup,2,2026-09-03,', /role "governor" is not in the audience/],
    ['an old version', 'p1,Name,staff,staff-aup,1,2026-09-03,', /version "1" is not the current version of staff-aup \(2\)/],
    ['a pupil form with no parent name', 'p1,Name,pupil,pupil-ks1-aup,1,2026-09-03,', /parent_name is needed/],
    ['a bad date', 'p1,Name,staff,staff-aup,2,03/09/2026,', /signed_on must be a date/],
    ['a future date', 'p1,Name,staff,staff-aup,2,2027-01-01,', /cannot be in the future/],
    ['a person id with a slash', 'p/1,Name,staff,staff-aup,2,2026-09-03,', /person_id must be/],
    ['no name', 'p1,,staff,staff-aup,2,2026-09-03,', /name is missing/],
  ])('reports %s against its row and keeps the good rows', (_case, bad, message) => {
    const csv = `${header}\ngood-1,Good Person,staff,staff-aup,2,2026-09-03,\n${bad}\n`;
    const { rows, problems } = parsePaperAcknowledgements(csv, documents, '2026-11-23');
    expect(rows.map((r) => r.personId)).toEqual(['good-1']);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.row).toBe(3);
    expect(problems[0]!.message).toMatch(message);
  });

  it('says which columns the header is missing', () => {
    const { problems } = parsePaperAcknowledgements('name,role\nx,staff\n', documents, '2026-11-23');
    expect(problems).toEqual([{ row: 1, message: expect.stringContaining('person_id, document, version, signed_on') }]);
  });

  it('reports a file that is not CSV', () => {
    const { rows, problems } = parsePaperAcknowledgements(`${header}\n"unclosed,Name,staff,staff-aup,2,2026-09-03,\n`, documents, '2026-11-23');
    expect(rows).toEqual([]);
    expect(problems[0]!.message).toMatch(/not valid CSV/);
  });
});
