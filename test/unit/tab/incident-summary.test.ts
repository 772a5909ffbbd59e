import {
  academicYearOf,
  addClose,
  addEscalation,
  addIncident,
  emptyMonth,
  medianFromHistogram,
  summariseMonths,
  summaryMonths,
  suppress,
  termOf,
} from '../../../school/incident-summary';

describe('incident summary rules', () => {
  it.each([
    ['2025-08', 2024, 'summer'],
    ['2025-09', 2025, 'autumn'],
    ['2025-12', 2025, 'autumn'],
    ['2026-01', 2025, 'spring'],
    ['2026-04', 2025, 'spring'],
    ['2026-05', 2025, 'summer'],
    ['2026-08', 2025, 'summer'],
  ] as const)('%s is in academic year %i, %s term', (month, year, term) => {
    expect(academicYearOf(month)).toBe(year);
    expect(termOf(month)).toBe(term);
  });

  it.each([
    [0, 0],
    [1, 'hidden'],
    [2, 'hidden'],
    [3, 3],
    [40, 40],
  ] as const)('shows a count of %i as %p', (count, shown) => {
    expect(suppress(count)).toBe(shown);
  });

  it('covers the current and previous academic years, September first', () => {
    const months = summaryMonths(new Date('2026-11-23T09:00:00Z'));
    expect(months).toHaveLength(24);
    expect(months[0]).toBe('2025-09');
    expect(months[23]).toBe('2027-08');
    expect(summaryMonths(new Date('2026-08-31T23:00:00Z'))[0]).toBe('2024-09');
  });

  it.each([
    [{}, null],
    [{ '4': 1 }, 4],
    [{ '1': 1, '3': 1 }, 2],
    [{ '0': 2, '10': 1 }, 0],
    [{ '2': 1, '5': 2, '9': 1 }, 5],
  ])('median of %p is %p', (histogram, median) => {
    expect(medianFromHistogram(histogram)).toBe(median);
  });

  it('summarises months with suppression, terms and escalations, and ignores months outside the window', () => {
    let sep = emptyMonth('2026-09');
    for (let i = 0; i < 3; i++) sep = addIncident(sep, { type: 'cyberbullying', yearGroups: ['Year 4', 'Year 4'] });
    sep = addIncident(sep, { type: 'illegal-content', yearGroups: ['Year 6'] });
    sep = addClose(addClose(addClose(sep, 2), 4), 10);
    sep = addEscalation(sep, 'police');
    let jan = emptyMonth('2026-04');
    jan = addIncident(jan, { type: 'misinformation', yearGroups: [] });
    const old = addIncident(emptyMonth('2024-10'), { type: 'other', yearGroups: ['Year 1'] });
    const s = summariseMonths([sep, jan, old], new Date('2026-11-23T09:00:00Z'));
    expect(s.academicYears).toEqual(['2025/26', '2026/27']);
    // Closed (3) is hidden as well, or open (2) would be 5 − 3.
    expect(s.totals).toEqual({ incidents: 5, open: 'hidden', closed: 'hidden', medianDaysToClose: 4 });
    // Content (2) is hidden, so Conduct (3) is too, and with it its only non-zero type, Cyberbullying.
    expect(s.byType.find((r) => r.key === 'cyberbullying')!.count).toBe('hidden');
    expect(s.byType.find((r) => r.key === 'illegal-content')!.count).toBe('hidden');
    expect(s.byType.find((r) => r.key === 'other')!.count).toBe(0);
    expect(s.byFourC.find((r) => r.key === 'conduct')!.count).toBe('hidden');
    expect(s.byFourC.find((r) => r.key === 'content')!.count).toBe('hidden');
    // Year groups are protected as if they added up to the total: Year 6 (1) takes Year 4 (3) with it.
    expect(s.byYearGroup).toEqual([
      { key: 'Year 4', label: 'Year 4', count: 'hidden' },
      { key: 'Year 6', label: 'Year 6', count: 'hidden' },
    ]);
    // Spring 2025/26 (1) is hidden, and Autumn 2026/27 (4) with it, and in turn one month of each.
    expect(s.byTerm.map((t) => [t.key, t.count])).toEqual([
      ['2025-autumn', 0],
      ['2025-spring', 'hidden'],
      ['2025-summer', 0],
      ['2026-autumn', 'hidden'],
      ['2026-spring', 0],
      ['2026-summer', 0],
    ]);
    expect(s.byMonth.find((m) => m.key === '2026-09')!.count).toBe('hidden');
    expect(s.byMonth).toHaveLength(24);
    expect(s.escalated.find((e) => e.kind === 'police')).toMatchObject({ count: 'hidden', percent: 'hidden' });
    expect(s.escalated.find((e) => e.kind === 'dsl')).toMatchObject({ count: 0, percent: 0 });
  });
});
