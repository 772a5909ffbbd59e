import { parse } from 'csv-parse/sync';
import { isRole, type Role } from './roles';
import type { AupDocument } from './aup-documents';

/** One paper form, checked and ready to record. */
export interface PaperAcknowledgement {
  /** The line in the CSV (the header is line 1). */
  row: number;
  /** An Entra object id, or the school's own reference for someone without an account (e.g. visitor-2026-014). */
  personId: string;
  name: string;
  role: Role | 'eyfs' | 'visitor';
  documentId: string;
  version: number;
  /** When the form was signed, YYYY-MM-DD. */
  signedOn: string;
  parentName?: string;
}

/** A row that was not recorded and why, naming the row. */
export interface PaperRowProblem {
  row: number;
  message: string;
}

const HEADERS: Record<string, keyof RawRow> = {
  person: 'personId', personid: 'personId', id: 'personId', objectid: 'personId', aadobjectid: 'personId',
  name: 'name', fullname: 'name',
  role: 'role',
  document: 'documentId', documentid: 'documentId',
  version: 'version',
  signedon: 'signedOn', date: 'signedOn', signed: 'signedOn',
  parentname: 'parentName', parent: 'parentName', carer: 'parentName', parentorcarer: 'parentName',
};

interface RawRow {
  personId: string;
  name: string;
  role: string;
  documentId: string;
  version: string;
  signedOn: string;
  parentName: string;
}

const PERSON_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/**
 * Reads the coordinator's CSV of paper forms: columns person_id, name, role, document, version, signed_on
 * and (for pupil and EYFS documents) parent_name; headers are matched ignoring case, spaces and underscores.
 * Only a document's current version can be recorded. Every bad row is reported with its line number.
 */
export function parsePaperAcknowledgements(
  csv: string,
  documents: readonly AupDocument[],
  today: string,
): { rows: PaperAcknowledgement[]; problems: PaperRowProblem[] } {
  let records: string[][];
  try {
    records = parse(csv.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    return { rows: [], problems: [{ row: line ?? 1, message: 'the file is not valid CSV (check the quotes on this line)' }] };
  }
  const [header, ...body] = records;
  if (!header) return { rows: [], problems: [{ row: 1, message: 'the file is empty' }] };
  const columns = header.map((h) => HEADERS[h.toLowerCase().replace(/[\s_-]/g, '')]);
  const missing = (['personId', 'name', 'role', 'documentId', 'version', 'signedOn'] as const).filter((c) => !columns.includes(c));
  const csvNames: Record<string, string> = { personId: 'person_id', name: 'name', role: 'role', documentId: 'document', version: 'version', signedOn: 'signed_on' };
  if (missing.length > 0) return { rows: [], problems: [{ row: 1, message: `the header row needs the columns ${missing.map((c) => csvNames[c]).join(', ')}` }] };

  const rows: PaperAcknowledgement[] = [];
  const problems: PaperRowProblem[] = [];
  body.forEach((cells, index) => {
    const row = index + 2;
    const raw = Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ''])) as unknown as RawRow;
    const errors: string[] = [];
    const document = documents.find((d) => d.id === raw.documentId);
    if (!PERSON_ID.test(raw.personId ?? '')) errors.push('person_id must be an object id or a reference of letters, digits and - . _ :');
    if (!raw.name || raw.name.length > 100) errors.push('name is missing or longer than 100 characters');
    const role = (raw.role ?? '').toLowerCase();
    if (!document) errors.push(`document "${raw.documentId}" is not one of ${documents.map((d) => d.id).join(', ')}`);
    else {
      if (!(document.audience as string[]).includes(role)) errors.push(`role "${raw.role}" is not in the audience of ${document.id} (${document.audience.join(', ')})`);
      if (String(document.version) !== raw.version) errors.push(`version "${raw.version}" is not the current version of ${document.id} (${document.version})`);
      if (document.needsParent && !raw.parentName) errors.push('parent_name is needed for this document');
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(raw.signedOn ?? '') || Number.isNaN(Date.parse(`${raw.signedOn}T00:00:00Z`))) errors.push('signed_on must be a date as YYYY-MM-DD');
    else if (raw.signedOn > today) errors.push('signed_on cannot be in the future');
    if (errors.length > 0) {
      problems.push({ row, message: errors.join('; ') });
      return;
    }
    rows.push({
      row,
      personId: isRole(role) ? raw.personId.toLowerCase() : raw.personId,
      name: raw.name,
      role: role as PaperAcknowledgement['role'],
      documentId: document!.id,
      version: document!.version,
      signedOn: raw.signedOn,
      ...(raw.parentName ? { parentName: raw.parentName.slice(0, 100) } : {}),
    });
  });
  return { rows, problems };
}
