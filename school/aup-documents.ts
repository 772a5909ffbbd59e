import { createHash } from 'node:crypto';
import { academicYearAt, academicYearOfDate } from './academic-year';
import { isRole, type Role } from './roles';

/**
 * Who a document is for. Roles are people with accounts who acknowledge in Teams; `eyfs` and `visitor`
 * have no account and are acknowledged on paper, which the coordinator records.
 */
export type AupAudience = Role | 'eyfs' | 'visitor' | 'parent';
/** `parent`: a parent's or carer's agreement (EYFS and KS1), signed on paper and linked to their child. */
export const PAPER_AUDIENCES = ['eyfs', 'visitor', 'parent'] as const;

/** A rule heading and its rules, as the card shows them. */
export interface AupRuleGroup {
  heading: string;
  rules: string[];
}

/** One version of one AUP document, as the school wrote it. */
export interface AupDocument {
  id: string;
  title: string;
  version: number;
  /** The date the version took effect, YYYY-MM-DD. */
  date: string;
  audience: AupAudience[];
  /** The text after the front matter, line endings normalised. */
  text: string;
  /** Paragraphs before the first heading. */
  introduction: string;
  groups: AupRuleGroup[];
  /** SHA-256 of the exact text the card shows (title, version and body). */
  hash: string;
  /** True when the card needs a parent's or carer's name and confirmation (pupil documents). */
  needsParent: boolean;
  /**
   * `annual`: acknowledged again every academic year (front matter `renewal: annual`). From 1 September
   * (Europe/London) last year's acknowledgements no longer count and the hourly AUP job starts a new campaign.
   */
  renewal: 'annual' | 'none';
  /**
   * Pupil documents only: the year groups the document is for (front matter `year-groups: 3, 4, 5, 6`), so a
   * school can keep a Key Stage 1 and a Key Stage 2 pupil AUP live at once. Absent: every pupil.
   */
  yearGroups?: readonly string[];
}

/** Year groups as the register keeps them (school/pupil-roll.ts `YearGroup`). */
const YEAR_GROUPS = ['N', 'R', '1', '2', '3', '4', '5', '6', '7', '8'];

/** A document file with something wrong; `problems` lists every one so the school can fix them at once. */
export class AupDocumentError extends Error {
  override readonly name = 'AupDocumentError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} has problems: ${problems.join('; ')}.`);
  }
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Parses one document file: `---` front matter (id, title, version, date, audience, optional renewal) then Markdown. */
export function parseAupDocument(content: string, source: string): AupDocument {
  const normalised = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const match = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(normalised);
  if (!match) throw new AupDocumentError(source, ['it must start with front matter between two "---" lines']);
  const fields = new Map<string, string>();
  for (const line of match[1]!.split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 1) continue;
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim().replace(/^["']|["']$/g, ''));
  }
  const problems: string[] = [];
  const id = fields.get('id') ?? '';
  if (!ID_PATTERN.test(id)) problems.push('id must be lower-case letters, digits and hyphens (e.g. staff-aup)');
  const title = fields.get('title') ?? '';
  if (title === '') problems.push('title is missing');
  const versionText = fields.get('version') ?? '';
  const version = Number(versionText);
  if (!/^\d{1,4}$/.test(versionText) || version < 1) problems.push(`version must be a whole number from 1 (got "${versionText}")`);
  const date = fields.get('date') ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) problems.push(`date must be YYYY-MM-DD (got "${date}")`);
  const audienceWords = (fields.get('audience') ?? '').split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
  const audience: AupAudience[] = [];
  for (const word of audienceWords) {
    if (isRole(word) || (PAPER_AUDIENCES as readonly string[]).includes(word)) audience.push(word as AupAudience);
    else problems.push(`"${word}" is not an audience (use roles such as staff, governor, pupil, or eyfs, visitor, parent)`);
  }
  if (audienceWords.length === 0) problems.push('audience is missing');
  const yearGroupWords = (fields.get('year-groups') ?? '').split(',').map((w) => w.trim().toUpperCase()).filter(Boolean);
  for (const word of yearGroupWords) {
    if (!YEAR_GROUPS.includes(word)) problems.push(`"${word}" is not a year group (use N, R or 1 to 8, e.g. year-groups: 3, 4, 5, 6)`);
  }
  const renewalText = (fields.get('renewal') ?? 'none').toLowerCase();
  if (renewalText !== 'annual' && renewalText !== 'none') problems.push(`renewal must be "annual" or "none" (got "${renewalText}")`);
  const text = match[2]!.trim();
  if (text === '') problems.push('the document has no text');
  if (problems.length > 0) throw new AupDocumentError(source, problems);
  const { introduction, groups } = groupRules(text);
  return {
    id,
    title,
    version,
    date,
    audience,
    text,
    introduction,
    groups,
    hash: hashAupText(title, version, text),
    needsParent: audience.includes('pupil') || audience.includes('eyfs'),
    renewal: renewalText === 'annual' ? 'annual' : 'none',
    ...(yearGroupWords.length > 0 ? { yearGroups: [...new Set(yearGroupWords)] } : {}),
  };
}

/**
 * Whether a document is the one for a pupil in `yearGroup`. A document without year groups is for every
 * pupil; a pupil whose year group the register does not know may acknowledge any pupil document (the
 * school has not said which is theirs, and refusing them all would shut them out).
 */
export function fitsYearGroup(document: Pick<AupDocument, 'yearGroups'>, yearGroup: string | undefined): boolean {
  return !document.yearGroups || yearGroup === undefined || document.yearGroups.includes(yearGroup);
}

/** Two pupil documents for the same year group would ask a pupil for both; each year group has one pupil document. */
export function checkPupilYearGroups(documents: readonly AupDocument[]): string[] {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const document of documents.filter((d) => d.audience.includes('pupil') && d.yearGroups)) {
    for (const year of document.yearGroups!) {
      const other = owner.get(year);
      if (other) problems.push(`year group ${year} is in both "${other}" and "${document.id}"; give each year group one pupil document`);
      else owner.set(year, document.id);
    }
  }
  return problems;
}

/**
 * The academic year an acknowledgement of this document belongs to: for an annual document, the year of
 * `at` (an instant, or a form's YYYY-MM-DD date); for any other document, undefined (one acknowledgement per version).
 */
export function renewalYear(document: Pick<AupDocument, 'renewal'>, at: Date | string): number | undefined {
  if (document.renewal !== 'annual') return undefined;
  return typeof at === 'string' ? academicYearOfDate(at) : academicYearAt(at);
}

/**
 * Splits the body into rule groups: a `## Heading` starts a group and each `- ` or `* ` line is a rule.
 * Text before the first heading is the introduction; other paragraphs under a heading become rules too,
 * so nothing the school wrote is dropped from the card.
 */
export function groupRules(text: string): { introduction: string; groups: AupRuleGroup[] } {
  const intro: string[] = [];
  const groups: AupRuleGroup[] = [];
  let current: AupRuleGroup | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      current = { heading: heading[1]!.trim(), rules: [] };
      groups.push(current);
      continue;
    }
    const bullet = /^(?:[-*]|\d+[.)])\s+(.*)$/.exec(line);
    if (!current) intro.push(bullet ? bullet[1]! : line);
    else if (bullet || current.rules.length === 0) current.rules.push(bullet ? bullet[1]! : line);
    else current.rules[current.rules.length - 1] += ` ${line}`;
  }
  return { introduction: intro.join(' '), groups: groups.filter((g) => g.rules.length > 0) };
}

/** SHA-256 (hex) of what the card shows for a version, so a record proves which words were acknowledged. */
export function hashAupText(title: string, version: number, text: string): string {
  return createHash('sha256').update(`${title}\nversion ${version}\n${text.replace(/\r\n?/g, '\n').trim()}`, 'utf8').digest('hex');
}

/** Checks a set of documents together: ids must be unique. */
export function checkAupLibrary(documents: readonly AupDocument[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const document of documents) {
    if (seen.has(document.id)) problems.push(`two files have id "${document.id}"; a new version replaces the old file's text and raises its version`);
    seen.add(document.id);
  }
  problems.push(...checkPupilYearGroups(documents));
  return problems;
}

/** The documents someone with these roles is asked to acknowledge in Teams. */
export function documentsForRoles(documents: readonly AupDocument[], roles: ReadonlySet<Role>): AupDocument[] {
  return documents.filter((d) => d.audience.some((a) => isRole(a) && roles.has(a)));
}

/** The role someone acknowledges a document as: the first of their roles in its audience. */
export function acknowledgingRole(document: AupDocument, roles: ReadonlySet<Role>): Role | undefined {
  return document.audience.find((a): a is Role => isRole(a) && roles.has(a));
}

/** What someone has acknowledged: document id → the versions they acknowledged. */
export type AcknowledgedVersions = ReadonlyMap<string, readonly number[]>;

/** The documents someone still owes: those for their roles whose current version they have not acknowledged. */
export function documentsOwed(documents: readonly AupDocument[], roles: ReadonlySet<Role>, acknowledged: AcknowledgedVersions): AupDocument[] {
  return documentsForRoles(documents, roles).filter((d) => !(acknowledged.get(d.id) ?? []).includes(d.version));
}

/** Whether a submitted version may be acknowledged: only the current version is. */
export function checkAcknowledgedVersion(document: AupDocument, version: unknown): 'current' | 'stale' | 'invalid' {
  const number = typeof version === 'number' ? version : Number(version);
  if (!Number.isInteger(number) || number < 1) return 'invalid';
  return number === document.version ? 'current' : 'stale';
}

/** Formats a date as the card shows it: "4 Sep 2026" (UK school time). */
export function formatAupDate(at: Date | string): string {
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Europe/London' })
    .format(typeof at === 'string' ? new Date(at) : at)
    .replace('Sept', 'Sep');
}
