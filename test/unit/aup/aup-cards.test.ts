import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAupAllDoneCard, buildAupCard } from '../../../bot/aup-cards';
import type { AupAcknowledgement } from '../../../records/aup-store';
import { parseAupDocument } from '../../../school/aup-documents';
import { cardElements, parseCardProblems } from '../../support/adaptive-cards';

const load = (file: string) => parseAupDocument(readFileSync(join(__dirname, '../../../aup', file), 'utf8'), file);
const staff = load('staff.md');
const pupil = load('pupil-ks1.md');
const acknowledgement: AupAcknowledgement = {
  personId: 'p1', name: 'A Person', role: 'staff', documentId: 'staff-aup', version: 1, textHash: staff.hash,
  acknowledgedAt: '2026-09-04T08:00:00.000Z', channel: 'teams-card', recordedAt: '2026-09-04T08:00:00.000Z',
};

function actions(card: unknown): Record<string, unknown>[] {
  return cardElements(card).filter((e) => typeof e.type === 'string' && (e.type as string).startsWith('Action.'));
}

describe('the AUP card', () => {
  it.each([
    ['staff, not yet acknowledged', buildAupCard({ document: staff, userId: '29:abc' })],
    ['staff, acknowledged', buildAupCard({ document: staff, acknowledgement, userId: '29:abc' })],
    ['staff, with a note and a banner', buildAupCard({ document: staff, note: 'Reminder', banner: 'Changed' })],
    ['pupil, asking for the parent', buildAupCard({ document: pupil, userId: '29:abc' })],
    ['pupil, with problems shown', buildAupCard({ document: pupil, parentName: 'X', errors: { parentName: 'Type a name', discussed: 'Tick' } })],
    ['all done', buildAupAllDoneCard([{ document: staff, acknowledgement }])],
  ])('%s parses cleanly', (_case, card) => {
    expect(parseCardProblems(card)).toEqual([]);
    expect(JSON.stringify(card)).not.toContain('${');
  });

  it('offers "I have read and understood" carrying the document id and version, and refreshes per user', () => {
    const card = buildAupCard({ document: staff, userId: '29:abc' });
    const execute = actions(card).find((a) => a.verb === 'acknowledgeAup');
    expect(execute).toMatchObject({ type: 'Action.Execute', title: 'I have read and understood', data: { documentId: 'staff-aup', version: 1 } });
    expect(card.refresh).toEqual({ action: { type: 'Action.Execute', title: 'Refresh', verb: 'refreshAup', data: { documentId: 'staff-aup' } }, userIds: ['29:abc'] });
  });

  it('once acknowledged, shows "Acknowledged v1 on 4 Sep 2026" and no button', () => {
    const card = buildAupCard({ document: staff, acknowledgement });
    expect(JSON.stringify(card)).toContain('Acknowledged v1 on 4 Sep 2026');
    expect(actions(card).some((a) => a.verb === 'acknowledgeAup')).toBe(false);
  });

  it('folds a long document behind a toggle, with the full text one tap away', () => {
    const card = buildAupCard({ document: staff });
    const folded = cardElements(card).find((e) => e.id === 'aupMoreRules');
    expect(folded).toMatchObject({ isVisible: false });
    expect(actions(card).find((a) => a.type === 'Action.ToggleVisibility')).toMatchObject({ targetElements: ['aupMoreRules'] });
    const full = actions(card).find((a) => a.type === 'Action.ShowCard');
    expect(JSON.stringify(full)).toContain('If I ever see illegal material');
  });

  it('asks a pupil\'s parent or carer for their name and confirmation; a staff card does not', () => {
    const ids = (card: unknown) => cardElements(card).map((e) => e.id).filter(Boolean);
    expect(ids(buildAupCard({ document: pupil }))).toEqual(expect.arrayContaining(['parentName', 'discussed']));
    expect(ids(buildAupCard({ document: staff }))).not.toContain('parentName');
  });
});
