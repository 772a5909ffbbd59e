import type { RollPupil, RollRejection, YearGroup } from './pupil-roll';

/** The policy's username: cohort, forename and the initial of the surname. */
export const DEFAULT_USERNAME_PATTERN = '{cohort}{forename}{surnameInitial}';
/** Entra's limit on the part of a user principal name before the @. */
export const MAX_LOCAL_PART_LENGTH = 64;
/** Entra's limit on the domain part of a user principal name. */
export const MAX_DOMAIN_LENGTH = 48;
/** Characters a new username leaves free so that a clash suffix (2 to 999) still fits. */
export const CLASH_SUFFIX_ROOM = 3;

const PLACEHOLDERS = ['cohort', 'forename', 'surnameInitial', 'surname'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/** Letters NFKD leaves whole, spelled the way an English-speaking school would type them. */
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', ł: 'l', ı: 'i', þ: 'th', ħ: 'h', ŧ: 't', ŋ: 'n', ĸ: 'k', ƒ: 'f', ɨ: 'i', ʉ: 'u', ə: 'e',
};

/** Lower-cases a name, transliterates accented and other Latin letters, and drops anything outside a-z0-9. */
export function normaliseNamePart(value: string): string {
  return Array.from(value.normalize('NFKD').toLowerCase(), (ch) => TRANSLITERATIONS[ch] ?? ch)
    .join('')
    .replace(/[^a-z0-9]/g, '');
}

/** The calendar year in which the academic year containing `date` began; it starts on 1 September, UK time. */
export function academicYearStarting(date: Date, timeZone = 'Europe/London'): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'numeric' }).formatToParts(date);
  const year = Number(parts.find((p) => p.type === 'year')?.value);
  const month = Number(parts.find((p) => p.type === 'month')?.value);
  return month >= 9 ? year : year - 1;
}

const YEARS_SINCE_RECEPTION: Readonly<Record<YearGroup, number>> = { N: -1, R: 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8 };

/** The two-digit calendar year in which a pupil in `yearGroup` during the academic year `academicYearStart` started (or will start) Reception. */
export function cohortFor(yearGroup: YearGroup, academicYearStart: number): string {
  const entry = academicYearStart - YEARS_SINCE_RECEPTION[yearGroup];
  return String(((entry % 100) + 100) % 100).padStart(2, '0');
}

export interface UsernameOptions {
  /** Placeholders: {cohort} {forename} {surnameInitial} {surname}; literal a-z, 0-9, '.', '_' and '-' are kept. */
  pattern: string;
  domain: string;
  academicYearStart: number;
  /** Two digits; wins over the file's cohort column and the year group. */
  cohortOverride?: string;
}

export type UsernameResult = { ok: true; localPart: string; userPrincipalName: string; cohort: string } | { ok: false; reason: string };

/** Says what is wrong with a username pattern, or undefined when it can be used. */
export function describeUsernamePatternProblem(pattern: string): string | undefined {
  const unknown = [...pattern.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '').filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) return `The username pattern "${pattern}" uses {${unknown.join('}, {')}}; the placeholders are {cohort}, {forename}, {surnameInitial} and {surname}.`;
  if (!pattern.includes('{forename}') && !pattern.includes('{surname}')) return `The username pattern "${pattern}" needs {forename} or {surname} so that pupils can tell their usernames apart.`;
  const literal = pattern.replace(/\{[^}]*\}/g, 'x');
  if (/[^a-z0-9._-]/.test(literal)) return `The username pattern "${pattern}" has characters a username cannot use; outside the placeholders use only lower-case a-z, 0-9, '.', '_' and '-'.`;
  if (literal.startsWith('.') || literal.endsWith('.') || literal.includes('..')) return `The username pattern "${pattern}" would start or end a username with a dot, or put two dots together; move or remove the dot.`;
  return undefined;
}

/** The two-digit cohort for a pupil: the option's override, else the file's cohort column, else worked out from the year group. */
export function resolveCohort(pupil: RollPupil, options: Pick<UsernameOptions, 'academicYearStart' | 'cohortOverride'>): { ok: true; cohort: string } | { ok: false; reason: string } {
  if (options.cohortOverride !== undefined) {
    if (!/^\d{2}$/.test(options.cohortOverride)) return { ok: false, reason: `The cohort "${options.cohortOverride}" should be two digits, the year of entry to Reception, such as 24.` };
    return { ok: true, cohort: options.cohortOverride };
  }
  if (pupil.cohort) return { ok: true, cohort: pupil.cohort };
  if (pupil.yearGroup) return { ok: true, cohort: cohortFor(pupil.yearGroup, options.academicYearStart) };
  return { ok: false, reason: `Row ${pupil.row} has no year group and no cohort, so the username's cohort cannot be worked out; add the pupil's year group or a cohort column.` };
}

/** Builds a pupil's username from the pattern, before any clash is resolved. */
export function proposeUsername(pupil: RollPupil, options: UsernameOptions): UsernameResult {
  const patternProblem = describeUsernamePatternProblem(options.pattern);
  if (patternProblem) return { ok: false, reason: patternProblem };
  const domain = options.domain.trim().toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(domain) || domain.length > MAX_DOMAIN_LENGTH) {
    return { ok: false, reason: `The domain "${options.domain}" is not a domain name a user principal name can use; give the school's verified domain, such as school.example.org.` };
  }
  const cohort = resolveCohort(pupil, options);
  if (!cohort.ok) return cohort;

  const uses = (name: Placeholder): boolean => options.pattern.includes(`{${name}}`);
  let forename = normaliseNamePart(pupil.forename);
  let surname = normaliseNamePart(pupil.surname);
  if (uses('forename') && !forename) return { ok: false, reason: emptyNameReason(pupil, 'forename', pupil.forename) };
  if ((uses('surname') || uses('surnameInitial')) && !surname) return { ok: false, reason: emptyNameReason(pupil, 'surname', pupil.surname) };

  const build = (): string =>
    options.pattern.replace(/\{(cohort|forename|surnameInitial|surname)\}/g, (_match, name: Placeholder) =>
      name === 'cohort' ? cohort.cohort : name === 'forename' ? forename : name === 'surname' ? surname : surname.charAt(0),
    );
  const budget = MAX_LOCAL_PART_LENGTH - CLASH_SUFFIX_ROOM;
  let localPart = build();
  if (localPart.length > budget && uses('forename')) {
    const excess = localPart.length - budget;
    const forenameCount = options.pattern.split('{forename}').length - 1;
    forename = forename.slice(0, Math.max(1, forename.length - Math.ceil(excess / forenameCount)));
    localPart = build();
  }
  if (localPart.length > budget && uses('surname')) {
    const excess = localPart.length - budget;
    const surnameCount = options.pattern.split('{surname}').length - 1;
    surname = surname.slice(0, Math.max(1, surname.length - Math.ceil(excess / surnameCount)));
    localPart = build();
  }
  if (localPart.length > budget) {
    return { ok: false, reason: `The username pattern "${options.pattern}" makes usernames longer than ${budget} characters even with the names shortened; use a shorter pattern.` };
  }
  return { ok: true, localPart, userPrincipalName: `${localPart}@${domain}`, cohort: cohort.cohort };
}

/** Suffixes 2 to 99999: more pupils than that with one name is a pattern problem, not a clash. */
const MAX_CLASH_SUFFIX = 99_999;

/**
 * Returns `localPart` if it is free, else the first free of `localPart2`, `localPart3`, … cut to fit 64 characters.
 * `startAt` skips suffixes the caller already knows are taken (see `assignUsernames`), so a roll where
 * thousands of pupils share a name is resolved in linear rather than quadratic time.
 */
export function resolveClash(localPart: string, taken: (candidate: string) => boolean, startAt = 2): string {
  if (startAt <= 2 && !taken(localPart)) return localPart;
  return findFreeSuffix(localPart, taken, Math.max(2, startAt)).candidate;
}

function findFreeSuffix(localPart: string, taken: (candidate: string) => boolean, from: number): { candidate: string; suffix: number } {
  for (let n = from; n <= MAX_CLASH_SUFFIX; n++) {
    const suffix = String(n);
    const candidate = localPart.slice(0, MAX_LOCAL_PART_LENGTH - suffix.length) + suffix;
    if (!taken(candidate)) return { candidate, suffix: n };
  }
  throw new RangeError(`Every username from ${localPart} to ${localPart}99999 is taken; change the username pattern.`);
}

export interface PlannedUsername {
  externalId: string;
  userPrincipalName: string;
  cohort: string;
}

export interface AssignUsernamesOptions extends UsernameOptions {
  /**
   * Usernames already in the tenant or the register. A full UPN is compared as it is; a bare local part
   * is taken to be in `domain`. Compared case-insensitively.
   */
  existing: Iterable<string>;
  /** externalId → the UPN this pupil already has; a re-import keeps it instead of making a new one. */
  keep?: ReadonlyMap<string, string>;
}

/** Gives every pupil a username that clashes with no existing account or other pupil; earlier rows win. */
export function assignUsernames(pupils: RollPupil[], options: AssignUsernamesOptions): { assigned: PlannedUsername[]; rejected: RollRejection[] } {
  const domain = options.domain.trim().toLowerCase();
  const toKey = (name: string): string => {
    const lower = name.trim().toLowerCase();
    return lower.includes('@') ? lower : `${lower}@${domain}`;
  };
  const taken = new Set<string>();
  for (const name of options.existing) taken.add(toKey(name));

  const ordered = [...pupils].sort((a, b) => a.row - b.row);
  const keptBy = new Map<string, RollPupil>();
  for (const pupil of ordered) {
    const kept = options.keep?.get(pupil.externalId);
    if (kept === undefined) continue;
    taken.add(toKey(kept));
    if (!keptBy.has(toKey(kept))) keptBy.set(toKey(kept), pupil);
  }

  // `taken` only grows, so the first free suffix for a name is never below the last one handed out for it:
  // each name's search resumes where it stopped, and every candidate is looked at about once per roll.
  const isTaken = (candidate: string): boolean => taken.has(`${candidate}@${domain}`);
  const nextSuffix = new Map<string, number>();
  const allocate = (localPart: string): string => {
    const resumeAt = nextSuffix.get(localPart);
    if (resumeAt === undefined && !isTaken(localPart)) return localPart;
    const { candidate, suffix } = findFreeSuffix(localPart, isTaken, resumeAt ?? 2);
    nextSuffix.set(localPart, suffix + 1);
    return candidate;
  };

  const assigned: PlannedUsername[] = [];
  const rejected: RollRejection[] = [];
  const seenIds = new Map<string, number>();
  for (const pupil of ordered) {
    const reject = (reason: string): void => {
      rejected.push({ row: pupil.row, externalId: pupil.externalId, reason });
    };
    const firstRow = seenIds.get(pupil.externalId);
    if (firstRow !== undefined) {
      reject(`Row ${pupil.row} is the same pupil as row ${firstRow} (${pupil.externalId}); remove one of the rows.`);
      continue;
    }
    seenIds.set(pupil.externalId, pupil.row);

    const kept = options.keep?.get(pupil.externalId);
    if (kept !== undefined) {
      const holder = keptBy.get(toKey(kept));
      if (holder && holder !== pupil) {
        reject(`Row ${pupil.row} is recorded with the username ${kept}, which row ${holder.row} already has; correct the register before importing again.`);
        continue;
      }
      const cohort = resolveCohort(pupil, options);
      if (!cohort.ok) reject(cohort.reason);
      else assigned.push({ externalId: pupil.externalId, userPrincipalName: kept, cohort: cohort.cohort });
      continue;
    }

    const proposal = proposeUsername(pupil, options);
    if (!proposal.ok) {
      reject(proposal.reason);
      continue;
    }
    let localPart: string;
    try {
      localPart = allocate(proposal.localPart);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      reject(`Row ${pupil.row}: ${error.message}`);
      continue;
    }
    const userPrincipalName = `${localPart}@${domain}`;
    taken.add(userPrincipalName);
    assigned.push({ externalId: pupil.externalId, userPrincipalName, cohort: proposal.cohort });
  }
  return { assigned, rejected };
}

function emptyNameReason(pupil: RollPupil, part: 'forename' | 'surname', value: string): string {
  return `Row ${pupil.row}: the ${part} "${value}" has no letters or digits a username can use (a-z, 0-9, or accented Latin letters); check the ${part} in the MIS or give the pupil a username by hand.`;
}
