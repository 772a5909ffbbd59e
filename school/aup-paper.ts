import { readCsvTable } from './csv-table';
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
  const table = readCsvTable(csv);
  if ('problem' in table) return { rows: [], problems: [table.problem] };
  const { header, body } = table;
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

/** Who signed a paper form (`POST /api/aup/paper`). */
export type PaperSigner = 'pupil' | 'parent' | 'visitor' | 'staff';
export const PAPER_SIGNERS: readonly PaperSigner[] = ['pupil', 'parent', 'visitor', 'staff'];

/** One paper form as the tab sends it, checked: the document's current version, and who it is about. */
export interface PaperForm {
  documentId: string;
  version: number;
  signedBy: PaperSigner;
  /** The pupil's username (pupil and parent forms), looked up in the register. */
  upn?: string;
  /** The signer's Entra object id (staff), or the pupil's (pupil and parent forms). */
  aadObjectId?: string;
  /** Visitor: their name. Parent: the parent's or carer's name. Pupil: the parent or carer who read it with the child. */
  name?: string;
  signedOn: string;
}

/** The audiences a document must have for each kind of signer. */
const SIGNER_AUDIENCES: Record<PaperSigner, readonly string[]> = {
  pupil: ['pupil', 'eyfs'],
  parent: ['parent'],
  visitor: ['visitor'],
  staff: ['staff', 'coordinator', 'dsl', 'headteacher', 'admin', 'governor', 'chair'],
};

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UPN = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/**
 * Checks one paper form against the current documents: the document exists, the version is its current one,
 * the signer is in its audience, and the form names the person it is about (a pupil for pupil and parent
 * forms, an account for staff, a name for visitors). Every problem is listed.
 */
export function checkPaperForm(body: Record<string, unknown>, documents: readonly AupDocument[], today: string): { form: PaperForm; document: AupDocument } | { problems: string[] } {
  const problems: string[] = [];
  const text = (key: string): string | undefined => (typeof body[key] === 'string' && (body[key] as string).trim() !== '' ? (body[key] as string).trim() : undefined);
  const documentId = text('documentId') ?? '';
  const document = documents.find((d) => d.id === documentId);
  const signedBy = text('signedBy') as PaperSigner | undefined;
  if (!document) problems.push(`documentId must be one of ${documents.map((d) => d.id).join(', ')}`);
  if (!signedBy || !PAPER_SIGNERS.includes(signedBy)) problems.push(`signedBy must be one of ${PAPER_SIGNERS.join(', ')}`);
  const version = typeof body.version === 'number' ? body.version : Number(body.version);
  if (!Number.isInteger(version) || version < 1) problems.push('version must be a whole number from 1');
  else if (document && version !== document.version) problems.push(`version ${version} is not the current version of ${document.id} (${document.version}); record forms of the current version only`);
  if (document && signedBy && PAPER_SIGNERS.includes(signedBy) && !document.audience.some((a) => SIGNER_AUDIENCES[signedBy].includes(a))) {
    problems.push(`${document.id} is not signed by a ${signedBy} (it is for ${document.audience.join(', ')})`);
  }
  const signedOn = text('signedOn') ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(signedOn) || Number.isNaN(Date.parse(`${signedOn}T00:00:00Z`))) problems.push('signedOn must be a date as YYYY-MM-DD');
  else if (signedOn > today) problems.push('signedOn cannot be in the future');
  const upn = text('upn')?.toLowerCase();
  const aadObjectId = text('aadObjectId')?.toLowerCase();
  const name = text('name');
  if (upn !== undefined && !UPN.test(upn)) problems.push('upn must be a username such as 2021alexs@school.example');
  if (aadObjectId !== undefined && !OBJECT_ID.test(aadObjectId)) problems.push('aadObjectId must be an Entra object id (a GUID)');
  if (name !== undefined && name.length > 100) problems.push('name must be at most 100 characters');
  if ((signedBy === 'pupil' || signedBy === 'parent') && !upn && !aadObjectId) problems.push(`a ${signedBy} form needs the pupil's upn or aadObjectId`);
  if (signedBy === 'parent' && !name) problems.push("a parent form needs the parent's or carer's name");
  if (signedBy === 'pupil' && document?.needsParent && !name) problems.push('this document needs the name of the parent or carer who read it with the child');
  if (signedBy === 'visitor' && !name) problems.push("a visitor form needs the visitor's name");
  if (signedBy === 'staff' && !aadObjectId) problems.push("a staff form needs the member of staff's aadObjectId");
  if (problems.length > 0 || !document || !signedBy) return { problems };
  return {
    document,
    form: { documentId: document.id, version, signedBy, ...(upn ? { upn } : {}), ...(aadObjectId ? { aadObjectId } : {}), ...(name ? { name } : {}), signedOn },
  };
}

const FORM_HEADERS: Record<string, keyof PaperForm> = {
  documentid: 'documentId', document: 'documentId', version: 'version', signedby: 'signedBy', upn: 'upn', username: 'upn',
  aadobjectid: 'aadObjectId', objectid: 'aadObjectId', name: 'name', signedon: 'signedOn', date: 'signedOn',
};

/**
 * Reads a CSV of paper forms with the same fields as `POST /api/aup/paper`: document_id, version, signed_by,
 * upn, aad_object_id, name, signed_on (headers matched ignoring case, spaces and underscores). Each row is
 * returned as a body for `checkPaperForm`, with its line number (the header is line 1).
 */
export function readPaperFormsCsv(csv: string): { rows: { row: number; body: Record<string, unknown> }[]; problems: PaperRowProblem[] } {
  const table = readCsvTable(csv);
  if ('problem' in table) return { rows: [], problems: [table.problem] };
  const { header, body } = table;
  const columns = header.map((h) => FORM_HEADERS[h.toLowerCase().replace(/[\s_-]/g, '')]);
  const missing = (['documentId', 'version', 'signedBy', 'signedOn'] as const).filter((c) => !columns.includes(c));
  if (missing.length > 0) return { rows: [], problems: [{ row: 1, message: `the header row needs the columns ${missing.map((c) => c.replace(/[A-Z]/g, (l) => `_${l.toLowerCase()}`)).join(', ')}` }] };
  return {
    rows: body.map((cells, index) => ({ row: index + 2, body: Object.fromEntries(columns.flatMap((c, i) => (c && cells[i] ? [[c, cells[i]]] : []))) })),
    problems: [],
  };
}
