import { parse } from 'csv-parse/sync';
import { describeImplausibleBirthDate } from './birth-date-plausibility';

/** A pupil as the MIS or SDS lists them, before any username or account exists. */
export interface RollPupil {
  /** Spreadsheet row: the header is row 1, so the first pupil is usually row 2. */
  row: number;
  /** The stable key written to `employeeId`: the UPN, else the admission number or MIS id (SDS: the sourcedId). */
  externalId: string;
  upn?: string;
  admissionNumber?: string;
  forename: string;
  surname: string;
  yearGroup?: YearGroup;
  registrationGroup?: string;
  /** Two digits, only when the file has a cohort column. */
  cohort?: string;
  /** YYYY-MM-DD, only when the file has a date of birth column; it sets how long safeguarding records are kept. */
  dateOfBirth?: string;
}

export type YearGroup = 'N' | 'R' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8';

/** A row that did not become a pupil, with a sentence saying what to fix. */
export interface RollRejection {
  row: number;
  externalId?: string;
  reason: string;
  /** Which file of an SDS pair the row is in; absent for a single MIS file. */
  file?: string;
}

export interface RollReadResult {
  pupils: RollPupil[];
  rejected: RollRejection[];
  /** SDS only: users.csv rows that are not students (staff, parents), listed so none goes unaccounted for. */
  skipped?: RollRejection[];
  /**
   * Pupils who were read, but whose date of birth is not plausible for their year group (or for a pupil at all),
   * so it was left out (school/birth-date-plausibility.ts): the pupil is provisioned, and retention falls back to
   * the school's rule until the MIS is corrected.
   */
  flagged?: RollRejection[];
}

/** What the date-of-birth check needs: the academic year the roll is for, and today. */
export interface RollReadOptions {
  /** The year the roll's academic year starts (2026 for 2026/27); without it only a pupil's age is checked. */
  academicYearStart?: number;
  /** Defaults to now. */
  today?: Date;
}

/** The file as a whole cannot be used: nothing in it has been read. */
export class RollFormatError extends Error {
  override name = 'RollFormatError';
}

type Field = 'preferredForename' | 'forename' | 'legalForename' | 'preferredSurname' | 'surname' | 'legalSurname' | 'year' | 'registrationGroup' | 'upn' | 'admissionNumber' | 'cohort' | 'dateOfBirth';

/** Normalised header → field. Where a file has two aliases of one field, the one listed first here wins. */
const HEADER_ALIASES: ReadonlyArray<readonly [Field, readonly string[]]> = [
  ['preferredForename', ['preferredforename', 'preferredforenames', 'preferredfirstname', 'preferredgivenname', 'knownas']],
  ['forename', ['forename', 'forenames', 'firstname', 'firstnames', 'givenname', 'givennames']],
  ['legalForename', ['legalforename', 'legalforenames', 'legalfirstname', 'legalgivenname']],
  ['preferredSurname', ['preferredsurname', 'preferredlastname', 'preferredfamilyname']],
  ['surname', ['surname', 'lastname', 'familyname']],
  ['legalSurname', ['legalsurname', 'legallastname', 'legalfamilyname']],
  ['year', ['ncyear', 'nationalcurriculumyear', 'yeargroup', 'year', 'yr']],
  ['registrationGroup', ['reggroup', 'registrationgroup', 'regform', 'registrationform', 'reg', 'form', 'formgroup', 'tutorgroup', 'class', 'classname']],
  ['upn', ['upn', 'uniquepupilnumber']],
  ['admissionNumber', ['admissionnumber', 'admissionno', 'adno', 'admno', 'misid', 'pupilid', 'studentid']],
  ['cohort', ['cohort', 'cohortyear']],
  ['dateOfBirth', ['dateofbirth', 'dob', 'birthdate']],
];

const FORENAME_FIELDS: readonly Field[] = ['preferredForename', 'forename', 'legalForename'];
const SURNAME_FIELDS: readonly Field[] = ['preferredSurname', 'surname', 'legalSurname'];
/** A title or date line above the header is common in SIMS report exports; look this far for the real header. */
const HEADER_SEARCH_ROWS = 10;

/** The letters a UPN check character can be (no I, O or S), indexed by value. */
const UPN_LETTERS = 'ABCDEFGHJKLMNPQRTUVWXYZ';

/** Reads a pupil list exported from the MIS (SIMS, Arbor, Bromcom): one pupil per row under a header row. */
export function readRollCsv(csv: string | Buffer, options: RollReadOptions = {}): RollReadResult {
  const records = parseCsv(csv, 'The roll');
  const headerIndex = findHeader(records, (headers) => hasAny(headers, FORENAME_FIELDS) && hasAny(headers, SURNAME_FIELDS));
  const header = records[headerIndex] ?? [];
  const columns = mapColumns(header, 'The roll');
  const found = describeHeaders(header);
  const missing: string[] = [];
  if (!FORENAME_FIELDS.some((f) => columns.has(f))) missing.push("a forename column (headed 'Forename', 'First name', 'Legal forename' or 'Preferred forename')");
  if (!SURNAME_FIELDS.some((f) => columns.has(f))) missing.push("a surname column (headed 'Surname', 'Last name', 'Legal surname' or 'Family name')");
  if (!columns.has('upn') && !columns.has('admissionNumber')) missing.push("an identifier column (headed 'UPN' or 'Admission number'), so that a re-import matches the same pupils");
  if (missing.length > 0) throw new RollFormatError(`The roll needs ${joinList(missing)}; the headers found were: ${found}.`);

  const pupils: RollPupil[] = [];
  const rejected: RollRejection[] = [];
  const flagged: RollRejection[] = [];
  const firstRowById = new Map<string, number>();
  for (let index = headerIndex + 1; index < records.length; index++) {
    const record = records[index] ?? [];
    if (isBlank(record)) continue;
    const row = index + 1;
    const cell = (field: Field): string => tidy(record[columns.get(field) ?? -1]);
    const problems: string[] = [];

    if (record.length > header.length && record.slice(header.length).some((value) => value.trim() !== '')) {
      problems.push(`it has ${record.length} fields but the header has ${header.length}, so a value probably contains a comma; put any name with a comma inside double quotes`);
    }
    const forename = firstFilled(FORENAME_FIELDS.map(cell));
    const surname = firstFilled(SURNAME_FIELDS.map(cell));
    if (!forename) problems.push("add the pupil's forename");
    if (!surname) problems.push("add the pupil's surname");

    const rawUpn = cell('upn').replace(/\s+/g, '').toUpperCase();
    const admissionNumber = cell('admissionNumber');
    if (rawUpn) {
      const problem = describeUpnProblem(rawUpn);
      if (problem) problems.push(`${problem}; correct it in the MIS and export again`);
    }
    const externalId = rawUpn || admissionNumber;
    if (!externalId) problems.push('add a UPN or an admission number, which the pupil is matched on at the next import');

    const rawYear = cell('year');
    const yearGroup = rawYear ? parseYearGroup(rawYear) : undefined;
    const rawCohort = cell('cohort');
    const cohort = rawCohort ? parseCohort(rawCohort) : undefined;
    if (rawCohort && !cohort) problems.push(`the cohort "${rawCohort}" should be the two-digit year the pupil started Reception, such as 24 or 2024`);
    if (rawYear && !yearGroup && !(isFirstYearNursery(rawYear) && cohort)) {
      problems.push(
        isFirstYearNursery(rawYear)
          ? `the year group "${rawYear}" is two years before Reception; give the pupil a cohort (the year they will start Reception) in a cohort column`
          : `the year group "${rawYear}" is not one we recognise; use N, R or 1 to 8 (Y3, Year 3 and Reception are fine too)`,
      );
    }

    const rawBirthDate = cell('dateOfBirth');
    const dateOfBirth = rawBirthDate ? parseDateOfBirth(rawBirthDate) : undefined;
    if (rawBirthDate && !dateOfBirth) problems.push(describeBirthDateProblem(rawBirthDate));

    if (externalId) {
      const first = firstRowById.get(externalId);
      if (first !== undefined) problems.push(`this pupil is listed twice: row ${first} has the same ${rawUpn ? 'UPN' : 'admission number'} ${externalId}; remove one of the rows`);
      else firstRowById.set(externalId, row);
    }

    if (problems.length > 0) {
      rejected.push({ row, ...(externalId ? { externalId } : {}), reason: formatReason(`Row ${row}`, problems) });
      continue;
    }
    const pupil: RollPupil = { row, externalId, forename, surname };
    if (rawUpn) pupil.upn = rawUpn;
    if (admissionNumber) pupil.admissionNumber = admissionNumber;
    if (yearGroup) pupil.yearGroup = yearGroup;
    const registrationGroup = cell('registrationGroup');
    if (registrationGroup) pupil.registrationGroup = registrationGroup;
    if (cohort) pupil.cohort = cohort;
    const implausible = dateOfBirth ? describeImplausibleBirthDate(dateOfBirth, yearGroup, plausibility(options)) : undefined;
    if (implausible) flagged.push({ row, externalId, reason: formatReason(`Row ${row}`, [implausible]) });
    else if (dateOfBirth) pupil.dateOfBirth = dateOfBirth;
    pupils.push(pupil);
  }
  return { pupils, rejected, flagged };
}

function plausibility(options: RollReadOptions): { academicYearStart?: number | undefined; today: Date } {
  return { academicYearStart: options.academicYearStart, today: options.today ?? new Date() };
}

/**
 * Reads an SDS v2.1 `users.csv` + `roles.csv` pair. Only users with a `student` role become pupils;
 * the grade comes from their primary student role (`isPrimary`), else their first one.
 *
 * SDS v2.1 grades use the OneRoster/CEDS codes (IT, PR, PK, TK, KG, 01–13, PS, UG, Other; see
 * https://learn.microsoft.com/schooldatasync/default-list-of-values). SDS has no field for the English
 * National Curriculum year, so UK exports write the NC year number into `grade`; we read it that way:
 * 01–08 → Year 1–8, KG (or K) → Reception, PK/PR/TK → Nursery. UG, Other or an empty grade leave the
 * year group unknown (the username step then asks for a cohort). IT, 09–13 and PS are rejected: they are
 * not a primary or middle school year.
 */
export function readSdsRoll(usersCsv: string | Buffer, rolesCsv: string | Buffer, options: RollReadOptions = {}): RollReadResult {
  const users = parseCsv(usersCsv, 'users.csv');
  const roles = parseCsv(rolesCsv, 'roles.csv');
  const userHeaderIndex = findHeader(users, () => true);
  const userHeader = users[userHeaderIndex] ?? [];
  const roleHeaderIndex = findHeader(roles, () => true);
  const roleHeader = roles[roleHeaderIndex] ?? [];
  const userColumns = indexHeaders(userHeader);
  const roleColumns = indexHeaders(roleHeader);
  requireColumns('users.csv', userHeader, userColumns, ['sourcedId', 'givenName', 'familyName']);
  requireColumns('roles.csv', roleHeader, roleColumns, ['userSourcedId', 'role']);

  const userIds = new Set<string>();
  for (const record of users.slice(userHeaderIndex + 1)) {
    const id = tidy(record[userColumns.get('sourcedid') ?? -1]);
    if (id) userIds.add(id);
  }

  const rejected: RollRejection[] = [];
  const studentRoles = new Map<string, { row: number; grade: string; primary: boolean }[]>();
  for (let index = roleHeaderIndex + 1; index < roles.length; index++) {
    const record = roles[index] ?? [];
    if (isBlank(record)) continue;
    const value = (name: string): string => tidy(record[roleColumns.get(name) ?? -1]);
    if (value('role').toLowerCase() !== 'student') continue;
    const userId = value('usersourcedid');
    const row = index + 1;
    if (!userId || !userIds.has(userId)) {
      rejected.push({
        row,
        file: 'roles.csv',
        ...(userId ? { externalId: userId } : {}),
        reason: userId
          ? `roles.csv row ${row} gives a student role to "${userId}", who is not in users.csv; add the user or remove the role.`
          : `roles.csv row ${row} is a student role with no userSourcedId; add the student's sourcedId from users.csv.`,
      });
      continue;
    }
    const list = studentRoles.get(userId) ?? [];
    list.push({ row, grade: value('grade'), primary: value('isprimary').toLowerCase() === 'true' });
    studentRoles.set(userId, list);
  }

  const pupils: RollPupil[] = [];
  const skipped: RollRejection[] = [];
  const flagged: RollRejection[] = [];
  const firstRowById = new Map<string, number>();
  for (let index = userHeaderIndex + 1; index < users.length; index++) {
    const record = users[index] ?? [];
    if (isBlank(record)) continue;
    const row = index + 1;
    const value = (name: string): string => tidy(record[userColumns.get(name) ?? -1]);
    const externalId = value('sourcedid');
    const problems: string[] = [];
    if (!externalId) problems.push("add the user's sourcedId");
    const first = externalId ? firstRowById.get(externalId) : undefined;
    if (first !== undefined) problems.push(`this user is listed twice: row ${first} has the same sourcedId ${externalId}; remove one of the rows`);
    else if (externalId) firstRowById.set(externalId, row);

    const roleList = externalId ? studentRoles.get(externalId) : undefined;
    if (!roleList && problems.length === 0) {
      skipped.push({ row, file: 'users.csv', externalId, reason: `users.csv row ${row} has no student role in roles.csv, so it is not a pupil.` });
      continue;
    }
    const forename = firstFilled([value('preferredgivenname'), value('preferredfirstname'), value('givenname')]);
    const surname = firstFilled([value('preferredfamilyname'), value('preferredlastname'), value('familyname')]);
    if (!forename) problems.push("add the pupil's givenName");
    if (!surname) problems.push("add the pupil's familyName");

    const role = roleList?.find((r) => r.primary) ?? roleList?.[0];
    const grade = readSdsGrade(role?.grade ?? '');
    if (grade === 'invalid') problems.push(`the grade "${role?.grade}" on roles.csv row ${role?.row} is not a primary or middle school year; use KG for Reception, PK for Nursery or 01 to 08 for Years 1 to 8`);
    const rawBirthDate = value('birthdate');
    const dateOfBirth = rawBirthDate ? parseDateOfBirth(rawBirthDate) : undefined;
    if (rawBirthDate && !dateOfBirth) problems.push(describeBirthDateProblem(rawBirthDate));

    if (problems.length > 0) {
      rejected.push({ row, file: 'users.csv', ...(externalId ? { externalId } : {}), reason: formatReason(`users.csv row ${row}`, problems) });
      continue;
    }
    const pupil: RollPupil = { row, externalId, forename, surname };
    if (grade && grade !== 'invalid') pupil.yearGroup = grade;
    const implausible = dateOfBirth ? describeImplausibleBirthDate(dateOfBirth, pupil.yearGroup, plausibility(options)) : undefined;
    if (implausible) flagged.push({ row, file: 'users.csv', externalId, reason: formatReason(`users.csv row ${row}`, [implausible]) });
    else if (dateOfBirth) pupil.dateOfBirth = dateOfBirth;
    pupils.push(pupil);
  }
  rejected.sort((a, b) => (a.file === b.file ? a.row - b.row : a.file === 'users.csv' ? -1 : 1));
  return { pupils, rejected, skipped, flagged };
}

/** Reads a year group as MIS exports write it ('Y3', 'Year 3', '3', 'NC Year 3', 'R', 'Rec', 'Reception', 'N', 'Nursery'); undefined when it is not one. */
export function parseYearGroup(value: string): YearGroup | undefined {
  const compact = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  const words: Record<string, YearGroup> = {
    n: 'N', n2: 'N', nursery: 'N', nur: 'N', fs1: 'N', yn: 'N',
    r: 'R', rec: 'R', reception: 'R', yr: 'R', yearr: 'R', fs2: 'R', ncyearr: 'R',
  };
  const word = words[compact];
  if (word) return word;
  const match = /^(?:nc|nationalcurriculum)?(?:year|yr|y)?(?:group)?0?([1-8])$/.exec(compact);
  return match ? (match[1] as YearGroup) : undefined;
}

/**
 * Reads a date of birth written as YYYY-MM-DD (as SDS writes dates) or DD/MM/YYYY (as UK MIS exports and
 * Excel in a UK locale do; one-digit days and months too) into YYYY-MM-DD; undefined when it is not a real
 * day from 1900 to 2099.
 * A US-style MM/DD/YYYY cannot be told apart when the day is 12 or less, so it is read the UK way.
 */
export function parseDateOfBirth(value: string): string | undefined {
  const text = value.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : uk ? [uk[3], uk[2], uk[1]] : [];
  if (!year || !month || !day) return undefined;
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || y > 2099 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

function describeBirthDateProblem(raw: string): string {
  return `the date of birth "${raw}" is not a date we can read; write it as DD/MM/YYYY (such as 07/03/2018) or YYYY-MM-DD (such as 2018-03-07)`;
}

/** Says what is wrong with a unique pupil number, or undefined when it is well formed with the right check letter. */
export function describeUpnProblem(upn: string): string | undefined {
  if (!/^[A-Z]\d{11}[0-9A-Z]$/.test(upn)) {
    return `the UPN "${upn}" is not a unique pupil number, which is 13 characters: a letter, 11 digits, then a digit or (for a temporary UPN) a letter`;
  }
  const last = upn.charAt(12);
  if (/[A-Z]/.test(last) && !UPN_LETTERS.includes(last)) return `the UPN "${upn}" ends in "${last}", which a temporary UPN never uses`;
  let sum = 0;
  for (let i = 1; i < 13; i++) {
    const ch = upn.charAt(i);
    sum += (/\d/.test(ch) ? Number(ch) : UPN_LETTERS.indexOf(ch)) * (i + 1);
  }
  const expected = UPN_LETTERS.charAt(sum % 23);
  return upn.charAt(0) === expected ? undefined : `the UPN "${upn}" has the wrong check letter (it should start with ${expected}), so it has probably been mistyped`;
}

function readSdsGrade(grade: string): YearGroup | undefined | 'invalid' {
  const code = grade.trim().toUpperCase();
  if (code === '' || code === 'UG' || code === 'OTHER') return undefined;
  if (code === 'KG' || code === 'K') return 'R';
  if (code === 'PK' || code === 'PR' || code === 'TK') return 'N';
  return parseYearGroup(code) ?? 'invalid';
}

function isFirstYearNursery(value: string): boolean {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '') === 'n1';
}

function parseCohort(value: string): string | undefined {
  const digits = value.replace(/\s+/g, '');
  if (/^\d{2}$/.test(digits)) return digits;
  if (/^(19|20)\d{2}$/.test(digits)) return digits.slice(2);
  return undefined;
}

function parseCsv(input: string | Buffer, name: string): string[][] {
  const text = decodeText(input);
  if (text.trim() === '') throw new RollFormatError(`${name} is empty; export it again from the MIS with a header row and one row per pupil.`);
  let lastLine = 0;
  try {
    return parse(text, {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      on_record: (record: string[], context: { lines: number }) => {
        lastLine = context.lines;
        return record;
      },
    }) as string[][];
  } catch (error) {
    throw new RollFormatError(describeCsvError(error, name, lastLine + 1), { cause: error });
  }
}

function describeCsvError(error: unknown, name: string, startLine: number): string {
  const code = (error as { code?: unknown }).code;
  const line = Number((error as { lines?: unknown }).lines) || startLine;
  if (code === 'CSV_QUOTE_NOT_CLOSED') {
    return `${name} could not be read: the quoted value that starts on line ${startLine} is never closed; add the missing double quote and export again.`;
  }
  return `${name} could not be read as CSV near line ${line}; check that line, or export the file again as CSV.`;
}

/** Accepts UTF-8 (with or without a BOM), UTF-16 with a BOM, and Excel's Windows-1252 "CSV (Comma delimited)". */
function decodeText(input: string | Buffer): string {
  if (typeof input === 'string') return input.replace(/^\uFEFF/, '');
  let text: string;
  if (input[0] === 0xff && input[1] === 0xfe) text = new TextDecoder('utf-16le').decode(input);
  else if (input[0] === 0xfe && input[1] === 0xff) text = new TextDecoder('utf-16be').decode(input);
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      text = new TextDecoder('windows-1252').decode(input);
    }
  }
  return text.replace(/^\uFEFF/, '');
}

function findHeader(records: string[][], looksRight: (headers: ReadonlySet<string>) => boolean): number {
  const candidates: number[] = [];
  for (let i = 0; i < records.length && candidates.length < HEADER_SEARCH_ROWS; i++) {
    if (!isBlank(records[i] ?? [])) candidates.push(i);
  }
  const match = candidates.find((i) => looksRight(new Set((records[i] ?? []).map(normaliseHeader))));
  return match ?? candidates[0] ?? 0;
}

function hasAny(headers: ReadonlySet<string>, fields: readonly Field[]): boolean {
  return HEADER_ALIASES.some(([field, aliases]) => fields.includes(field) && aliases.some((alias) => headers.has(alias)));
}

function mapColumns(header: string[], name: string): Map<Field, number> {
  const normalised = header.map(normaliseHeader);
  const columns = new Map<Field, number>();
  for (const [field, aliases] of HEADER_ALIASES) {
    for (const alias of aliases) {
      const positions = normalised.flatMap((h, i) => (h === alias ? [i] : []));
      if (positions.length > 1) {
        throw new RollFormatError(`${name} has ${positions.length} columns headed "${header[positions[0] ?? 0]?.trim()}"; remove or rename all but one.`);
      }
      if (positions.length === 1 && !columns.has(field)) columns.set(field, positions[0] ?? 0);
    }
  }
  return columns;
}

function indexHeaders(header: string[]): Map<string, number> {
  const columns = new Map<string, number>();
  header.forEach((h, i) => {
    const key = normaliseHeader(h);
    if (key && !columns.has(key)) columns.set(key, i);
  });
  return columns;
}

function requireColumns(name: string, header: string[], columns: Map<string, number>, required: string[]): void {
  const missing = required.filter((column) => !columns.has(normaliseHeader(column)));
  if (missing.length > 0) {
    throw new RollFormatError(`${name} needs the ${missing.length === 1 ? 'column' : 'columns'} ${joinList(missing)}; the headers found were: ${describeHeaders(header)}.`);
  }
}

function normaliseHeader(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function describeHeaders(header: string[]): string {
  const names = header.map((h) => h.trim()).filter(Boolean);
  return names.length > 0 ? names.join(', ') : '(none)';
}

function tidy(value: string | undefined): string {
  return (value ?? '').replace(/\s+/g, ' ').trim();
}

function isBlank(record: string[]): boolean {
  return record.every((value) => value.trim() === '');
}

function firstFilled(values: string[]): string {
  return values.find((v) => v !== '') ?? '';
}

function joinList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function formatReason(where: string, problems: string[]): string {
  return `${where}: ${problems.join('; ')}.`;
}
