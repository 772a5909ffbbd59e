import {
  buildIncidentRecordedCard,
  buildMyReportsCard,
  buildReportCard,
  CARD_BYTE_LIMIT,
  cardBytes,
  PUPIL_DATASET,
  STANDARD_INVOLVED_CHOICES,
  toAttachment,
  type AdaptiveCardJson,
  type MyReportRow,
  type RecordedCardOptions,
} from '../../../bot/cards/cards';
import { withTypeahead } from '../../../bot/typeahead';
import { STATIC_PUPIL_LIMIT } from '../../../usecases/pupil-picker';
import { INCIDENT_TYPES } from '../../../school/incident-types';
import { INCIDENT_FIELDS, type FieldProblem, type IncidentFormValues } from '../../../school/incident-submission';
import { DEFAULT_RESPONSE_MATRIX, ILLEGAL_CONTENT_GUIDANCE, suggestActions } from '../../../school/response-matrix';
import { cardElements as elementsOf, parseCardProblems } from '../../support/adaptive-cards';

type Element = Record<string, unknown>;

function inputById(card: AdaptiveCardJson, id: string): Element {
  const input = elementsOf(card).find((e) => e.id === id && String(e.type).startsWith('Input.'));
  if (!input) throw new Error(`The card has no input "${id}".`);
  return input;
}

function texts(card: AdaptiveCardJson): string[] {
  return elementsOf(card)
    .filter((e) => e.type === 'TextBlock')
    .map((e) => String(e.text));
}

function submitAction(card: AdaptiveCardJson): Element {
  return (card.actions as Element[]).find((a) => a.type === 'Action.Execute')!;
}

const pupilChoices = [
  { title: 'Ada L (Year 4)', value: 'pupil:p-001' },
  { title: 'Ben M (Year 5)', value: 'pupil:p-002' },
];

const typed: Required<IncidentFormValues> = {
  occurredOn: '2026-03-27',
  occurredAt: '10:15',
  involved: 'pupil:p-001,staff',
  location: 'ICT suite, PC 4',
  incidentType: 'cyberbullying',
  description: 'Messages calling a pupil names were posted in the class team.',
  actionTaken: 'Screenshots kept; told the class teacher.',
  childProtection: 'true',
  subjectStaff: '',
};

const problems: FieldProblem[] = [
  { field: 'occurredOn', message: 'The date of the incident cannot be in the future.' },
  { field: 'involved', message: 'Choose who was involved from the list; one of the choices is no longer on the register.' },
  { field: 'description', message: 'Describe what happened, including any evidence (a web address, or what you saw).' },
];

const recordedOptions: RecordedCardOptions = {
  reference: 'ES-2026-0042',
  type: 'inappropriate-website',
  occurredOn: '2026-03-27',
  suggestedActions: suggestActions(DEFAULT_RESPONSE_MATRIX, 'inappropriate-website', 'pupil'),
  illegalGuidance: [],
  alertedRoles: ['coordinator'],
};

const illegalOptions: RecordedCardOptions = {
  ...recordedOptions,
  reference: 'ES-2026-0043',
  type: 'illegal-content',
  suggestedActions: suggestActions(DEFAULT_RESPONSE_MATRIX, 'illegal-content', 'pupil'),
  illegalGuidance: ILLEGAL_CONTENT_GUIDANCE,
  alertedRoles: ['coordinator', 'dsl'],
};

const reports: MyReportRow[] = [
  { reference: 'ES-2026-0042', type: 'cyberbullying', status: 'open', occurredOn: '2026-03-27' },
  { reference: 'ES-2026-0007', type: 'data-breach', status: 'in-progress', occurredOn: '2026-02-02' },
  { reference: 'ES-2025-0311', type: 'other', status: 'closed', occurredOn: '2025-12-01' },
];

describe('every card the bot builds', () => {
  const cards: Array<[string, () => AdaptiveCardJson]> = [
    ['the blank report card', () => buildReportCard({ submissionId: 'sub-00000001', pupilChoices: [] })],
    ['the blank report card with pupils to choose from', () => buildReportCard({ submissionId: 'sub-00000001', pupilChoices })],
    ['the report card with values, problems and a banner', () => buildReportCard({ submissionId: 'sub-00000001', pupilChoices, values: typed, problems, banner: 'Not saved.' })],
    ['the recorded card', () => buildIncidentRecordedCard(recordedOptions)],
    ['the recorded card for illegal content', () => buildIncidentRecordedCard(illegalOptions)],
    ['the recorded card when nobody holds the alerted role', () => buildIncidentRecordedCard({ ...recordedOptions, alertedRoles: [] })],
    ['the empty my-reports card', () => buildMyReportsCard([])],
    ['the my-reports card with reports', () => buildMyReportsCard(reports)],
  ];

  it.each(cards)('when %s is built, the Adaptive Cards renderer parses it with no warnings', (_label, build) => {
    expect(parseCardProblems(build())).toEqual([]);
  });

  it.each(cards)('when %s is built, it is schema 1.5 and keeps no unexpanded template expression', (_label, build) => {
    const card = build();
    expect(card.version).toBe('1.5');
    const json = JSON.stringify(card);
    expect(json).not.toContain('"$when"');
    expect(json).not.toContain('"$data"');
    expect(json).not.toContain('${');
  });

  it.each(cards)('when %s is sent, it goes as an Adaptive Card attachment', (_label, build) => {
    const card = build();
    expect(toAttachment(card)).toEqual({ contentType: 'application/vnd.microsoft.card.adaptive', content: card });
  });

  it('when a card is broken, parseCardProblems says what is wrong (so the checks above can fail)', () => {
    const broken = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Input.Texty', id: 'a' }, { type: 'Input.Text', id: 'b' }, { type: 'Input.Text', id: 'b' }] };
    const found = parseCardProblems(broken);
    expect(found).toEqual([expect.stringContaining('Input.Texty'), expect.stringContaining('Duplicate Id "b"')]);
  });
});

describe('buildReportCard', () => {
  it('when the card is blank, has every stable input id, empty values, the toggle off and no banner or problems', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: [] });
    for (const field of INCIDENT_FIELDS) {
      const input = inputById(card, field);
      expect(input.value).toBe(field === 'childProtection' ? 'false' : '');
    }
    expect(elementsOf(card).some((e) => e.style === 'attention')).toBe(false);
    expect(elementsOf(card).some((e) => e.type === 'TextBlock' && e.color === 'Attention')).toBe(false);
    expect(submitAction(card)).toMatchObject({ verb: 'submitIncident', data: { submissionId: 'sub-00000001' } });
  });

  it('when pupils are on the register, lists them first and then the standard choices', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices });
    expect(inputById(card, 'involved').choices).toEqual([...pupilChoices, ...STANDARD_INVOLVED_CHOICES]);
  });

  it('offers every incident type, labelled as on the proforma', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: [] });
    expect(inputById(card, 'incidentType').choices).toEqual(INCIDENT_TYPES.map((t) => ({ title: t.label, value: t.id })));
  });

  it('when given typed values, puts each one back in its input unchanged', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices, values: typed, problems });
    for (const field of INCIDENT_FIELDS) expect(inputById(card, field).value).toBe(typed[field]);
  });

  it('when given problems, shows each problem and a banner saying nothing was sent', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices, values: typed, problems });
    const shown = texts(card);
    for (const problem of problems) expect(shown).toContain(problem.message);
    expect(shown).toContain('Your report has not been sent yet: please check the highlighted answers.');
  });

  it('when given a problem, shows it below its own question and above the next one', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices, values: typed, problems });
    const body = card.body as Element[];
    const holdsInput = (element: Element, id?: string) => elementsOf(element).some((e) => String(e.type).startsWith('Input.') && (id === undefined || e.id === id));
    for (const problem of problems) {
      const question = body.findIndex((e) => holdsInput(e, problem.field));
      const shown = body.findIndex((e) => e.type === 'TextBlock' && e.text === problem.message);
      const next = body.findIndex((e, i) => i > question && holdsInput(e));
      expect(shown).toBeGreaterThan(question);
      expect(shown).toBeLessThan(next === -1 ? body.length : next);
    }
  });

  it('when given a banner, shows that banner instead of the default', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices, values: typed, problems: [], banner: 'Your report has NOT been saved.' });
    expect(texts(card)).toContain('Your report has NOT been saved.');
    expect(texts(card)).not.toContain('Your report has not been sent yet: please check the highlighted answers.');
  });

  it('when the card is shown again, keeps the same submission id so a resubmission is recognised', () => {
    const card = buildReportCard({ submissionId: 'sub-12345678', pupilChoices, values: typed, problems });
    expect(submitAction(card).data).toEqual({ submissionId: 'sub-12345678' });
  });

  const injections = [
    '${submissionId}',
    '${$root.banner}',
    '$root',
    '${values}',
    "${if(true, 'evaluated', 'literal')}",
    '${join(typeChoices, ",")}',
    '{{DATE(2026-03-27T10:00:00Z, SHORT)}}',
    'He wrote ${errors.description} and $data and ${$index}.',
  ];
  it.each(injections)('when a user types "%s", shows it literally instead of evaluating it', (text) => {
    const values: IncidentFormValues = { ...typed, description: text, location: text, actionTaken: text };
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: [{ title: text, value: 'pupil:p-009' }], values, problems });
    expect(inputById(card, 'description').value).toBe(text);
    expect(inputById(card, 'location').value).toBe(text);
    expect(inputById(card, 'actionTaken').value).toBe(text);
    expect((inputById(card, 'involved').choices as Element[])[0]).toEqual({ title: text, value: 'pupil:p-009' });
    expect(submitAction(card).data).toEqual({ submissionId: 'sub-00000001' });
    expect(parseCardProblems(card)).toEqual([]);
  });

  it('when a value looks like a number or a boolean, keeps it as text', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices, values: { ...typed, location: '42', actionTaken: 'true', description: 'null' } });
    expect(inputById(card, 'location').value).toBe('42');
    expect(inputById(card, 'actionTaken').value).toBe('true');
    expect(inputById(card, 'description').value).toBe('null');
  });
});

describe('buildIncidentRecordedCard', () => {
  it('when an incident is recorded, shows the reference, the type label, the date, who was alerted and the suggested actions in order', () => {
    const card = buildIncidentRecordedCard(recordedOptions);
    const json = JSON.stringify(card);
    expect(texts(card)[0]).toContain('ES-2026-0042');
    expect(json).toContain('Inappropriate website accessed');
    expect(json).toContain('27 March 2026');
    expect(json).toContain('the e-safety coordinator');
    const shown = texts(card);
    const actionLines = recordedOptions.suggestedActions.map((a) => shown.indexOf(`- ${a.label}`));
    expect(actionLines.every((i) => i >= 0)).toBe(true);
    expect([...actionLines].sort((a, b) => a - b)).toEqual(actionLines);
  });

  it('when the type is not illegal content, shows no stop-preserve-isolate-refer guidance', () => {
    expect(JSON.stringify(buildIncidentRecordedCard(recordedOptions))).not.toContain('stop, preserve, isolate, refer');
  });

  it('when the type is illegal content, shows each guidance step in order before the suggestions', () => {
    const shown = texts(buildIncidentRecordedCard(illegalOptions));
    const heading = shown.findIndex((t) => t.includes('stop, preserve, isolate, refer'));
    expect(heading).toBeGreaterThanOrEqual(0);
    expect(shown.slice(heading + 1, heading + 1 + ILLEGAL_CONTENT_GUIDANCE.length)).toEqual(ILLEGAL_CONTENT_GUIDANCE.map((line) => `- ${line}`));
    expect(shown.indexOf(`- ${illegalOptions.suggestedActions[0]!.label}`)).toBeGreaterThan(heading + ILLEGAL_CONTENT_GUIDANCE.length);
  });

  it('when several roles are alerted, names each of them', () => {
    const json = JSON.stringify(buildIncidentRecordedCard({ ...recordedOptions, alertedRoles: ['headteacher', 'dsl'] }));
    expect(json).toContain('the headteacher, the Designated Safeguarding Lead');
    expect(JSON.stringify(buildIncidentRecordedCard({ ...recordedOptions, alertedRoles: ['chair'] }))).toContain('the chair of governors');
  });

  it('when nobody holds the alerted role, says so rather than leaving it blank', () => {
    expect(JSON.stringify(buildIncidentRecordedCard({ ...recordedOptions, alertedRoles: [] }))).toContain('nobody');
  });

  it('when handed a whole stored incident, never repeats its description, location, action taken or who was involved', () => {
    const incident = {
      ...illegalOptions,
      description: 'Planted-description-7f3a about an image on a tablet.',
      location: 'Planted-location-9c1e',
      actionTaken: 'Planted-action-2b8d',
      involved: [{ kind: 'pupil', pupilId: 'planted-pupil-id-4d2f' }],
    };
    const json = JSON.stringify(buildIncidentRecordedCard(incident));
    for (const planted of ['Planted-description-7f3a', 'Planted-location-9c1e', 'Planted-action-2b8d', 'planted-pupil-id-4d2f']) expect(json).not.toContain(planted);
  });
});

describe('buildMyReportsCard', () => {
  it('when the person has reported nothing, says so and shows no table', () => {
    const card = buildMyReportsCard([]);
    expect(texts(card).some((t) => t.includes('You have not reported any concerns yet'))).toBe(true);
    expect(elementsOf(card).some((e) => e.type === 'Table')).toBe(false);
  });

  it('when the person has reports, shows one row per report, in the order given, with the type label and a readable status', () => {
    const card = buildMyReportsCard(reports);
    expect(texts(card).some((t) => t.includes('You have not reported any concerns yet'))).toBe(false);
    const table = elementsOf(card).find((e) => e.type === 'Table')!;
    const rows = (table.rows as Element[]).slice(1);
    const cells = rows.map((row) => (row.cells as Element[]).map((cell) => String(((cell.items as Element[])[0] as Element).text)));
    expect(cells).toEqual([
      ['ES-2026-0042', 'Cyberbullying', 'open', '27 March 2026'],
      ['ES-2026-0007', 'Data-protection breach', 'in progress', '2 February 2026'],
      ['ES-2025-0311', 'Other', 'closed', '1 December 2025'],
    ]);
  });
});

describe('the report card for a school of any size (issue 11 §3)', () => {
  // The worst labels a roll can produce: 80 two-byte letters each (longer labels are cut to 80 characters).
  const widePupils = Array.from({ length: STATIC_PUPIL_LIMIT }, (_, i) => ({ title: `${'Ž'.repeat(120)}${i}`, value: `pupil:A${String(i).padStart(12, '0')}` }));
  // The longest values the form takes, in three-byte characters: a pasted message, the action taken and the room.
  const longest: IncidentFormValues = { ...typed, description: '語'.repeat(4000), actionTaken: '語'.repeat(2000), location: '語'.repeat(200) };

  it('when the card searches pupils, the "who was involved" input asks Teams for the pupils dataset as the user types', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: [], pupilSearch: PUPIL_DATASET });
    const involved = inputById(card, 'involved');
    expect(involved['choices.data']).toEqual({ type: 'Data.Query', dataset: 'pupils' });
    expect(involved.style).toBe('filtered');
    expect(involved.isMultiSelect).toBe(true);
    expect(involved.choices).toEqual([...STANDARD_INVOLVED_CHOICES]);
    expect(parseCardProblems(card)).toEqual([]);
  });

  it('when the card does not search pupils, its pupil picker carries no Data.Query (the staff picker always searches staff)', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices });
    expect(inputById(card, 'involved')['choices.data']).toBeUndefined();
    expect(inputById(card, 'subjectStaff')['choices.data']).toEqual({ type: 'Data.Query', dataset: 'staff' });
  });

  it('when the card lists the whole of a tiny roll, the pupil picker does not search (hosts without typeahead still work)', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices, pupilSearch: PUPIL_DATASET, pupilsComplete: true });
    const involved = inputById(card, 'involved');
    expect(involved['choices.data']).toBeUndefined();
    expect(involved.choices).toEqual([...pupilChoices, ...STANDARD_INVOLVED_CHOICES]);
  });

  it('when a whole tiny roll would not fit beside the longest values, the card searches instead of listing', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: widePupils, pupilSearch: PUPIL_DATASET, pupilsComplete: true, values: longest, problems });
    expect(cardBytes(card)).toBeLessThan(CARD_BYTE_LIMIT);
    expect(inputById(card, 'involved')['choices.data']).toEqual({ type: 'Data.Query', dataset: 'pupils' });
    expect(inputById(card, 'involved').choices).toEqual([...STANDARD_INVOLVED_CHOICES]);
  });

  it('when a pupil label is longer than 80 characters, cuts it to 80', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: [widePupils[0]!] });
    const title = String((inputById(card, 'involved').choices as Element[])[0]!.title);
    expect(title).toHaveLength(80);
    expect(title.endsWith('…')).toBe(true);
  });

  it('when a tiny roll is listed with the widest labels, the blank card is far under 28 KB', () => {
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: widePupils, pupilSearch: PUPIL_DATASET });
    expect((inputById(card, 'involved').choices as Element[]).length).toBe(STATIC_PUPIL_LIMIT + STANDARD_INVOLVED_CHOICES.length);
    expect(cardBytes(card)).toBeLessThan(10_000);
    expect(CARD_BYTE_LIMIT).toBeLessThanOrEqual(28 * 1024);
  });

  it('when the longest values and the widest tiny roll would pass 28 KB, the card drops the list and keeps the search', () => {
    const without = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: widePupils, values: longest, problems, banner: 'Not saved.' });
    expect(cardBytes(without)).toBeGreaterThan(CARD_BYTE_LIMIT); // so the case below is a real one
    const card = buildReportCard({ submissionId: 'sub-00000001', pupilChoices: widePupils, pupilSearch: PUPIL_DATASET, values: longest, problems, banner: 'Not saved.' });
    expect(cardBytes(card)).toBeLessThan(CARD_BYTE_LIMIT);
    expect(inputById(card, 'involved')['choices.data']).toEqual({ type: 'Data.Query', dataset: 'pupils' });
    expect(inputById(card, 'description').value).toBe(longest.description);
  });
});

describe('withTypeahead', () => {
  it('when a second picker (e.g. staff) needs search, makes only that input a typeahead on its own dataset', () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Container', items: [{ type: 'Input.ChoiceSet', id: 'subjectStaff', choices: [] }, { type: 'Input.ChoiceSet', id: 'other', choices: [] }] }] };
    const searched = withTypeahead(card, 'subjectStaff', 'staff', 'Type a name');
    const [staff, other] = ((searched.body as Element[])[0]!.items as Element[]);
    expect(staff).toMatchObject({ id: 'subjectStaff', style: 'filtered', placeholder: 'Type a name', 'choices.data': { type: 'Data.Query', dataset: 'staff' } });
    expect(other).toEqual({ type: 'Input.ChoiceSet', id: 'other', choices: [] });
  });
});
