import * as ACData from 'adaptivecards-templating';
import type { AupAcknowledgement } from '../records/aup-store';
import { formatAupDate, type AupDocument, type AupRuleGroup } from '../school/aup-documents';
import type { AdaptiveCardJson } from './cards/cards';
import aupTemplate from './cards/aup-card.json';

/** Groups shown open before the rest fold behind "Show the other sections". */
export const OPEN_GROUPS = 2;

export interface AupCardOptions {
  document: AupDocument;
  /** The viewer's acknowledgement of the current version, if they made one: the card then shows it instead of the button. */
  acknowledgement?: AupAcknowledgement;
  /** The viewer's Teams user id (MRI, `29:…`), so Teams refreshes the card for them; empty in some channels. */
  userId?: string;
  /** A line above the title, e.g. why the card was sent. */
  note?: string;
  banner?: string;
  parentName?: string;
  errors?: { parentName?: string; discussed?: string };
}

/** "Acknowledged v3 on 4 Sep 2026". */
export function acknowledgedLabel(acknowledgement: Pick<AupAcknowledgement, 'version' | 'acknowledgedAt' | 'channel'>): string {
  const paper = acknowledgement.channel === 'paper' ? ' (paper form)' : '';
  return `Acknowledged v${acknowledgement.version} on ${formatAupDate(acknowledgement.acknowledgedAt)}${paper}`;
}

function groupView(group: AupRuleGroup): { heading: string; rulesText: string } {
  return { heading: group.heading, rulesText: group.rules.map((rule) => `- ${rule}`).join('\n') };
}

/** The document as Teams Markdown: headings become bold lines (TextBlock has no headings). */
function fullText(document: AupDocument): string {
  return document.text.replace(/^#{1,6}\s+(.*)$/gm, '**$1**');
}

/**
 * The AUP card. Anyone who has not acknowledged the current version sees the rules and "I have read and
 * understood"; after a refresh, the person who acknowledged sees "Acknowledged vN on D Mon YYYY". The
 * Universal Actions refresh makes Teams ask the bot for that per-user view whenever the card is shown:
 * https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views
 */
export function buildAupCard(options: AupCardOptions): AdaptiveCardJson {
  const { document, acknowledgement } = options;
  const acknowledged = acknowledgement !== undefined;
  const visible = document.groups.slice(0, OPEN_GROUPS).map(groupView);
  const folded = document.groups.slice(OPEN_GROUPS).map(groupView);
  const card = new ACData.Template(aupTemplate).expand({
    $root: {
      documentId: document.id,
      version: document.version,
      title: document.title,
      dateLabel: formatAupDate(`${document.date}T12:00:00Z`),
      note: options.note ?? '',
      banner: options.banner ?? '',
      acknowledged,
      acknowledgedLabel: acknowledgement ? acknowledgedLabel(acknowledgement) : '',
      introduction: document.introduction,
      visibleGroups: visible,
      foldedGroups: folded,
      hasFolded: folded.length > 0,
      foldedCount: folded.length,
      askParent: document.needsParent && !acknowledged,
      parentName: options.parentName ?? '',
      errors: { parentName: options.errors?.parentName ?? '', discussed: options.errors?.discussed ?? '' },
      fullText: fullText(document),
    },
  }) as AdaptiveCardJson;
  card.refresh = {
    action: { type: 'Action.Execute', title: 'Refresh', verb: 'refreshAup', data: { documentId: document.id } },
    ...(options.userId ? { userIds: [options.userId] } : {}),
  };
  return card;
}

/** A short card for someone who owes nothing. */
export function buildAupAllDoneCard(acknowledged: readonly { document: AupDocument; acknowledgement: AupAcknowledgement }[]): AdaptiveCardJson {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: 'You are up to date with the school\'s acceptable use policies.', weight: 'Bolder', wrap: true },
      ...acknowledged.map(({ document, acknowledgement }) => ({ type: 'TextBlock', text: `${document.title}: ${acknowledgedLabel(acknowledgement)}`, wrap: true })),
    ],
  };
}
