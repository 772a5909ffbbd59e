import type { AdaptiveCardInvokeResponse, TurnContext } from 'botbuilder';
import type { Principal } from '../school/roles';

/** A chat command such as `/aup` or `/meeting`; `args` is the text after the command word. */
export interface BotCommand {
  name: string;
  /** One line for /help. */
  help: string;
  handle(context: TurnContext, principal: Principal, args: string): Promise<void>;
}

/** A Universal Actions verb (`Action.Execute`) and what answers it, including card refreshes. */
export interface CardVerb {
  verb: string;
  handle(context: TurnContext, principal: Principal, data: Record<string, unknown>, trigger: 'manual' | 'automatic' | undefined): Promise<AdaptiveCardInvokeResponse>;
}

/** What a feature adds to the bot. The bot core routes to it; the feature never edits the core. */
export interface BotFeature {
  commands?: BotCommand[];
  cardVerbs?: CardVerb[];
}

export function cardResponse(card: Record<string, unknown>): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card };
}

export function messageResponse(text: string): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text as unknown as Record<string, unknown> };
}
