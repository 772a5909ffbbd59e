import fc from 'fast-check';
import { rolesThatMayView, type IncidentAudience } from '../../../school/incident-routing';
import {
  academicYearOf,
  addClose,
  addEscalation,
  addIncident,
  emptyMonth,
  ESCALATION_KINDS,
  SUPPRESSED,
  summariseMonths,
  summaryAudiencesFor,
  summaryMonths,
  TERMS,
  termOf,
  type IncidentSummaryFigures,
  type MonthCounters,
} from '../../../school/incident-summary';
import { INCIDENT_TYPES, type IncidentType } from '../../../school/incident-types';
import type { Role } from '../../../school/roles';
import { shownAupCoverage, shownCompliance, shownConsent, type ConsentFigures } from '../../../usecases/summarise-incidents';
import { LinearKnowledge, minus, sumOf, withoutKnown, type Functional } from '../../support/disclosure-prover';

/*
 * The governors' summary cannot be subtracted. For random and adversarial incident sets, every figure the
 * summary shows becomes a linear equation over the unknown counts (incidents per audience, month and type;
 * closed; per year group; escalations), together with everything the viewer's own triage list tells them.
 * Then every hidden figure, and every count about incidents the viewer cannot list, must not be determined.
 */
const NOW = new Date('2026-11-23T09:00:00Z');
const MONTHS = summaryMonths(NOW);
const CURRENT_YEAR = academicYearOf(MONTHS[MONTHS.length - 1]!);
const AUDIENCES: readonly IncidentAudience[] = ['standard', 'child-protection', 'staff-concern', 'headteacher-concern'];
const YEAR_GROUPS = ['Reception', 'Year 1', 'Year 2', 'Year 3', 'Year 4', 'Year 5', 'Year 6'];
const TYPES = INCIDENT_TYPES.map((t) => t.id);

interface Incident {
  month: number;
  type: IncidentType;
  audience: IncidentAudience;
  yearGroups: string[];
  closeDays: number | null;
  escalations: (typeof ESCALATION_KINDS)[number][];
}

const x = (a: IncidentAudience, m: string, t: string): string => `x|${a}|${m}|${t}`;
const closedAtom = (a: IncidentAudience): string => `closed|${a}`;
const yg = (a: IncidentAudience, g: string): string => `yg|${a}|${g}`;
const esc = (a: IncidentAudience, k: string): string => `esc|${a}|${k}`;

/** The published quantity behind each summary figure, over the given audiences. */
function cellFunctional(cell: string, audiences: readonly IncidentAudience[]): Functional {
  const [kind, key] = cell.split(/:(.*)/s) as [string, string];
  const xs = (months: readonly string[], types: readonly string[]): Functional => sumOf(audiences.flatMap((a) => months.flatMap((m) => types.map((t) => x(a, m, t)))));
  switch (kind) {
    case 'total':
      return xs(MONTHS, TYPES);
    case 'closed':
      return sumOf(audiences.map(closedAtom));
    case 'open':
      return minus(xs(MONTHS, TYPES), sumOf(audiences.map(closedAtom)));
    case 'type':
      return xs(MONTHS, [key]);
    case 'fourC':
      return xs(MONTHS, INCIDENT_TYPES.filter((t) => t.fourC === key).map((t) => t.id));
    case 'month':
      return xs([key], TYPES);
    case 'term': {
      const [year, term] = key.split('-') as [string, string];
      return xs(MONTHS.filter((m) => academicYearOf(m) === Number(year) && termOf(m) === term), TYPES);
    }
    case 'yearGroup':
      return sumOf(audiences.map((a) => yg(a, key)));
    case 'escalated':
      return sumOf(audiences.map((a) => esc(a, key)));
    default:
      throw new Error(`Unknown cell ${cell}`);
  }
}

/** Every figure in the summary as [cell, shown value]. Year groups not listed are shown as 0 by omission. */
function publishedCells(s: IncidentSummaryFigures): [string, number | typeof SUPPRESSED][] {
  const listed = new Set(s.byYearGroup.map((r) => r.key));
  return [
    ['total', s.totals.incidents],
    ['open', s.totals.open],
    ['closed', s.totals.closed],
    ...s.byType.map((r) => [`type:${r.key}`, r.count] as [string, number | typeof SUPPRESSED]),
    ...s.byFourC.map((r) => [`fourC:${r.key}`, r.count] as [string, number | typeof SUPPRESSED]),
    ...s.byMonth.map((r) => [`month:${r.key}`, r.count] as [string, number | typeof SUPPRESSED]),
    ...s.byTerm.map((r) => [`term:${r.key}`, r.count] as [string, number | typeof SUPPRESSED]),
    ...s.byYearGroup.map((r) => [`yearGroup:${r.key}`, r.count] as [string, number | typeof SUPPRESSED]),
    ...YEAR_GROUPS.filter((g) => !listed.has(g)).map((g) => [`yearGroup:${g}`, 0] as [string, number]),
    ...s.escalated.map((e) => [`escalated:${e.kind}`, e.count] as [string, number | typeof SUPPRESSED]),
  ];
}

function countersOf(incidents: readonly Incident[]): MonthCounters[] {
  const byMonth = new Map<string, MonthCounters>();
  for (const i of incidents) {
    const key = MONTHS[i.month]!;
    let m = addIncident(byMonth.get(key) ?? emptyMonth(key), i);
    if (i.closeDays !== null) m = addClose(m, i.closeDays, i.audience);
    for (const k of i.escalations) m = addEscalation(m, k, i.audience);
    byMonth.set(key, m);
  }
  return [...byMonth.values()];
}

function listedBy(roles: ReadonlySet<Role>): IncidentAudience[] {
  return AUDIENCES.filter((a) => rolesThatMayView(a).some((r) => roles.has(r)));
}

/** Quantities about incidents the viewer cannot list, which the summary must never give away. */
function secretsAbout(audience: IncidentAudience): Functional[] {
  const only = [audience];
  return [
    cellFunctional('total', only),
    cellFunctional('closed', only),
    ...TYPES.map((t) => cellFunctional(`type:${t}`, only)),
    ...MONTHS.map((m) => cellFunctional(`month:${m}`, only)),
    ...YEAR_GROUPS.map((g) => cellFunctional(`yearGroup:${g}`, only)),
  ];
}

/**
 * What a viewer can determine: the shown figures, their own list and, in the worst case, that the year groups
 * add up to the total (true when every incident names exactly one; a reader may know a school records them so).
 */
function knowledgeOf(incidents: readonly Incident[], published: [string, number | typeof SUPPRESSED][], scope: readonly IncidentAudience[], known: (atom: string) => boolean): LinearKnowledge {
  const k = new LinearKnowledge();
  for (const [cell, shown] of published) if (shown !== SUPPRESSED) k.learn(withoutKnown(cellFunctional(cell, scope), known));
  for (const a of AUDIENCES) {
    const mine = incidents.filter((i) => i.audience === a);
    if (mine.every((i) => i.yearGroups.length === 1)) k.learn(withoutKnown(minus(sumOf(YEAR_GROUPS.map((g) => yg(a, g))), cellFunctional('total', [a])), known));
  }
  return k;
}

/** Every hidden figure or secret the viewer could work out (empty when the summary is safe). */
function determinedSecrets(incidents: readonly Incident[], roles: ReadonlySet<Role>): string[] {
  const scope = summaryAudiencesFor(roles);
  const summary = summariseMonths(countersOf(incidents), NOW, scope);
  const listed = listedBy(roles);
  const known = (atom: string): boolean => listed.includes(atom.split('|')[1] as IncidentAudience);
  const published = publishedCells(summary);
  const k = knowledgeOf(incidents, published, scope, known);
  const found: string[] = [];
  for (const [cell, shown] of published) {
    if (shown !== SUPPRESSED) continue;
    const unknownPart = withoutKnown(cellFunctional(cell, scope), known);
    if (unknownPart.size > 0 && k.determines(unknownPart)) found.push(cell);
  }
  for (const a of AUDIENCES.filter((a) => !listed.includes(a))) {
    secretsAbout(a).forEach((f, i) => {
      if (k.determines(withoutKnown(f, known))) found.push(`${a} secret #${i}`);
    });
  }
  return found;
}

const incident = (months: fc.Arbitrary<number>, types: fc.Arbitrary<IncidentType>): fc.Arbitrary<Incident> =>
  fc.record({
    month: months,
    type: types,
    audience: fc.constantFrom<IncidentAudience>('standard', 'standard', 'standard', 'child-protection', 'staff-concern', 'headteacher-concern'),
    yearGroups: fc.oneof(fc.subarray(YEAR_GROUPS, { minLength: 1, maxLength: 1 }), fc.subarray(YEAR_GROUPS, { maxLength: 2 })),
    closeDays: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
    escalations: fc.subarray([...ESCALATION_KINDS]),
  });

/** Random schools, and adversarial ones: few incidents crowded into few months and types, where subtraction bites. */
const incidentSets = fc.oneof(
  fc.array(incident(fc.integer({ min: 0, max: 23 }), fc.constantFrom(...TYPES)), { maxLength: 60 }),
  fc.array(incident(fc.constantFrom(0, 1, 14), fc.constantFrom<IncidentType>('cyberbullying', 'inappropriate-website', 'sexual-exploitation')), { minLength: 1, maxLength: 10 }),
  fc.array(incident(fc.constantFrom(2), fc.constantFrom<IncidentType>('other', 'misinformation')), { minLength: 1, maxLength: 8 }),
);

const VIEWERS: [string, Role[]][] = [
  ['a governor', ['governor']],
  ['the chair', ['chair', 'governor']],
  ['the coordinator', ['coordinator']],
  ['the DSL', ['dsl']],
  ['the head', ['headteacher']],
  ['a coordinator who is also a governor', ['coordinator', 'governor']],
];

function standard(month: number, type: IncidentType, overrides: Partial<Incident> = {}): Incident {
  return { month, type, audience: 'standard', yearGroups: ['Year 4'], closeDays: null, escalations: [], ...overrides };
}

describe('the disclosure prover', () => {
  it('catches the subtraction in the issue: 6 incidents, 4 of them Content, gives the hidden Conduct count', () => {
    const k = new LinearKnowledge();
    // Cell-by-cell suppression only: the total and Content are shown, Conduct (2) is hidden.
    k.learn(cellFunctional('total', ['standard']));
    k.learn(cellFunctional('fourC:content', ['standard']));
    k.learn(cellFunctional('fourC:contact', ['standard']));
    k.learn(cellFunctional('fourC:commerce', ['standard']));
    expect(k.determines(cellFunctional('fourC:conduct', ['standard']))).toBe(true);
    expect(k.determines(cellFunctional('type:cyberbullying', ['standard']))).toBe(false);
  });

  it("catches a head subtracting their own list from a summary that counts allegations about them", () => {
    const listed = listedBy(new Set<Role>(['headteacher']));
    const known = (atom: string): boolean => listed.includes(atom.split('|')[1] as IncidentAudience);
    const k = new LinearKnowledge();
    k.learn(withoutKnown(cellFunctional('total', AUDIENCES), known));
    expect(k.determines(withoutKnown(cellFunctional('total', ['headteacher-concern']), known))).toBe(true);
  });

  it('finds nothing determined when two cells of a relation are hidden', () => {
    const k = new LinearKnowledge();
    // No incident type is Commerce, so it is always 0 and tells nothing; Contact and Conduct are hidden.
    for (const c of ['total', 'fourC:content', 'fourC:commerce']) k.learn(cellFunctional(c, ['standard']));
    expect(k.determines(cellFunctional('fourC:conduct', ['standard']))).toBe(false);
    expect(k.determines(cellFunctional('fourC:contact', ['standard']))).toBe(false);
    expect(k.determines(minus(cellFunctional('total', ['standard']), cellFunctional('fourC:content', ['standard'])))).toBe(true);
  });
});

describe('the governors’ summary cannot be subtracted', () => {
  it('hides Conduct and a complement in the issue’s example of 6 incidents, 4 of them Content', () => {
    const incidents = [...[0, 1, 2, 3].map(() => standard(0, 'inappropriate-website')), standard(0, 'cyberbullying'), standard(0, 'other')];
    const s = summariseMonths(countersOf(incidents), NOW, ['standard', 'child-protection']);
    expect(s.byFourC.find((r) => r.key === 'conduct')!.count).toBe(SUPPRESSED);
    expect(s.byFourC.filter((r) => r.count === SUPPRESSED).length).toBeGreaterThanOrEqual(2);
    expect(determinedSecrets(incidents, new Set<Role>(['governor']))).toEqual([]);
  });

  it('hides open and closed together when 7 of 8 are open', () => {
    const incidents = Array.from({ length: 8 }, (_, i) => standard(i % 3, 'cyberbullying', { closeDays: i === 0 ? 3 : null }));
    const s = summariseMonths(countersOf(incidents), NOW, ['standard', 'child-protection']);
    expect(s.totals).toMatchObject({ incidents: 8, open: SUPPRESSED, closed: SUPPRESSED, medianDaysToClose: null });
  });

  it('never counts allegations about adults, so a head’s list minus the summary is always zero', () => {
    const incidents = [standard(0, 'cyberbullying'), standard(0, 'cyberbullying'), standard(0, 'cyberbullying'), standard(0, 'other', { audience: 'headteacher-concern' })];
    const s = summariseMonths(countersOf(incidents), NOW, summaryAudiencesFor(new Set<Role>(['headteacher'])));
    expect(s.totals.incidents).toBe(3);
  });

  it('counts for a coordinator only the concerns their list shows', () => {
    expect(summaryAudiencesFor(new Set<Role>(['coordinator']))).toEqual(['standard']);
    expect(summaryAudiencesFor(new Set<Role>(['governor']))).toEqual(['standard', 'child-protection']);
    expect(summaryAudiencesFor(new Set<Role>(['dsl']))).toEqual(['standard', 'child-protection']);
  });

  it.each(VIEWERS)('no hidden count can be worked out by %s, for random and adversarial schools', (_who, roles) => {
    fc.assert(
      fc.property(incidentSets, (incidents) => {
        expect(determinedSecrets(incidents, new Set(roles))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('hides an escalation’s share with its count, and the median when fewer than 3 have closed', () => {
    fc.assert(
      fc.property(incidentSets, (incidents) => {
        const scope = summaryAudiencesFor(new Set<Role>(['governor']));
        const s = summariseMonths(countersOf(incidents), NOW, scope);
        for (const e of s.escalated) if (e.count === SUPPRESSED) expect(e.percent).toBe(SUPPRESSED);
        const closed = incidents.filter((i) => scope.includes(i.audience) && i.closeDays !== null).length;
        if (closed < 3) expect(s.totals.medianDaysToClose).toBeNull();
        else expect(s.totals.medianDaysToClose).not.toBeNull();
        expect(s.byTerm.map((t) => t.key)).toEqual([CURRENT_YEAR - 1, CURRENT_YEAR].flatMap((y) => TERMS.map((t) => `${y}-${t}`)));
      }),
      { numRuns: 100 },
    );
  });
});

describe('AUP coverage for governors', () => {
  it('hides a share that would single someone out, and its complement in the document total', () => {
    // 12 staff, 10 acknowledged; the one head has not: the head's 0% and the staff group's figures would give them away.
    const shown = shownAupCoverage({
      title: 'Staff AUP',
      version: 2,
      percent: 76,
      members: 13,
      acknowledged: 10,
      groups: [
        { group: 'staff', percent: 83, members: 12, acknowledged: 10 },
        { group: 'headteacher', percent: 0, members: 1, acknowledged: 0 },
      ],
    });
    expect(shown.groups).toEqual([
      { group: 'staff', percent: SUPPRESSED },
      { group: 'headteacher', percent: SUPPRESSED },
    ]);
    expect(shown.percent).toBe(SUPPRESSED);
    const everyone = shownAupCoverage({ title: 'Staff AUP', version: 2, percent: 100, members: 20, acknowledged: 20, groups: [{ group: 'staff', percent: 100, members: 20, acknowledged: 20 }] });
    expect(everyone).toEqual({ title: 'Staff AUP', version: 2, percent: 100, groups: [{ group: 'staff', percent: 100 }] });
  });
});

describe('pupil-policy compliance for governors', () => {
  it.each([
    [{ total: 30, compliant: 29 }, 'hidden', 30],
    [{ total: 30, compliant: 27 }, 90, 30],
    [{ total: 2, compliant: 2 }, 'hidden', 'hidden'],
    [{ total: 0, compliant: 0 }, 0, 0],
  ])('%j shows %p compliant of %p pupils', (c, percent, pupils) => {
    const shown = shownCompliance({ ...c, compliantShare: c.total === 0 ? 0 : c.compliant / c.total, finishedAt: '2026-11-23T02:10:00Z' });
    expect(shown).toEqual({ compliantPercent: percent, pupils, checkedOn: '2026-11-23' });
  });
});

describe('photo and video consent for governors', () => {
  const STATUSES = ['given', 'refused', 'withdrawn', 'notRecorded'] as const;
  type Area = ConsentFigures['areas'][number];

  /** Everything a reader learns: the roll (always known in school), each area's sum, and every count shown. */
  function hiddenCellsDetermined(areas: Area[], pupils: number): string[] {
    const shown = shownConsent({ pupils, areas });
    const k = new LinearKnowledge();
    k.learn(new Map([['pupils', 1n]]));
    areas.forEach((_a, i) => k.learn(new Map<string, bigint>([['pupils', 1n], ...STATUSES.map((s) => [`${i}:${s}`, -1n] as [string, bigint])])));
    const hidden: string[] = [];
    shown.areas.forEach((a, i) =>
      STATUSES.forEach((s) => {
        if (a[s] === SUPPRESSED) hidden.push(`${i}:${s}`);
        else k.learn(new Map([[`${i}:${s}`, 1n]]));
      }),
    );
    // A share shown is the count given over the roll, so it tells the count.
    shown.areas.forEach((a) => expect(a.givenPercent === SUPPRESSED).toBe(a.given === SUPPRESSED || pupils === 0));
    return hidden.filter((cell) => k.determines(new Map([[cell, 1n]])));
  }

  it('hides a withdrawal by one pupil and a complement in its area, and shows the rest', () => {
    const shown = shownConsent({ pupils: 30, areas: [{ label: 'Website', given: 25, refused: 4, withdrawn: 1, notRecorded: 0 }, { label: 'Media', given: 30, refused: 0, withdrawn: 0, notRecorded: 0 }] });
    expect(shown.pupils).toBe(30);
    expect(shown.areas[0]).toEqual({ label: 'Website', given: 25, refused: SUPPRESSED, withdrawn: SUPPRESSED, notRecorded: 0, givenPercent: 83 });
    expect(shown.areas[1]).toEqual({ label: 'Media', given: 30, refused: 0, withdrawn: 0, notRecorded: 0, givenPercent: 100 });
    expect(hiddenCellsDetermined([{ label: 'Website', given: 25, refused: 4, withdrawn: 1, notRecorded: 0 }], 30)).toEqual([]);
  });

  it('hides everything for a roll of 1 or 2, whose size everyone knows', () => {
    const shown = shownConsent({ pupils: 2, areas: [{ label: 'Website', given: 2, refused: 0, withdrawn: 0, notRecorded: 0 }] });
    expect(shown).toEqual({ pupils: SUPPRESSED, areas: [{ label: 'Website', given: SUPPRESSED, refused: SUPPRESSED, withdrawn: SUPPRESSED, notRecorded: SUPPRESSED, givenPercent: SUPPRESSED }] });
  });

  it('never lets a hidden count be worked out from the roll and the other counts (random and adversarial rolls)', () => {
    const area = (pupils: number) =>
      fc.tuple(fc.nat({ max: pupils }), fc.nat({ max: pupils }), fc.nat({ max: pupils })).map(([a, b, c]) => {
        const [x, y, z] = [a, b, c].sort((p, q) => p - q) as [number, number, number];
        return { label: 'area', given: x, refused: y - x, withdrawn: z - y, notRecorded: pupils - z };
      });
    const adversarial = (pupils: number) => fc.constantFrom(...[0, 1, 2].map((small) => ({ label: 'area', given: pupils - Math.min(small, pupils), refused: Math.min(small, pupils), withdrawn: 0, notRecorded: 0 })));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }).chain((pupils) => fc.tuple(fc.constant(pupils), fc.array(fc.oneof(area(pupils), adversarial(pupils)), { minLength: 1, maxLength: 5 }))),
        ([pupils, areas]) => {
          expect(hiddenCellsDetermined(areas, pupils)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
