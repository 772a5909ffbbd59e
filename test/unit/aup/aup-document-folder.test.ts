import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AupDocumentFolder } from '../../../app/aup-feature';
import { ConfigurationError } from '../../../app/config';

const doc = (id: string, version = '1') => `---\nid: ${id}\ntitle: T\nversion: ${version}\ndate: 2026-09-01\naudience: staff\n---\n## A\n- a\n`;

describe('AupDocumentFolder', () => {
  it('at start-up, lists every broken file and duplicate id at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aup-folder-'));
    writeFileSync(join(dir, 'a.md'), doc('one'));
    writeFileSync(join(dir, 'b.md'), doc('one'));
    writeFileSync(join(dir, 'c.md'), doc('two', 'x'));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    try {
      new AupDocumentFolder(dir).checkAtStartup();
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError);
      const problems = (error as ConfigurationError).problems;
      expect(problems).toHaveLength(2);
      expect(problems.join('\n')).toMatch(/c\.md has problems: version must be/);
      expect(problems.join('\n')).toMatch(/two files have id "one"/);
    }
  });

  it('reads the files again on each use, so a new version counts without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aup-folder-'));
    const folder = new AupDocumentFolder(dir);
    writeFileSync(join(dir, 'staff.md'), doc('staff-aup', '1'));
    expect((await folder.listAupDocuments()).map((d) => d.version)).toEqual([1]);
    writeFileSync(join(dir, 'staff.md'), doc('staff-aup', '2'));
    expect((await folder.listAupDocuments()).map((d) => d.version)).toEqual([2]);
  });

  it('a folder that does not exist stops start-up with a clear problem', () => {
    expect(() => new AupDocumentFolder(join(tmpdir(), 'no-such-aup-folder')).checkAtStartup()).toThrow(ConfigurationError);
  });
});
