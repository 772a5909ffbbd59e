import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type Activity, type ConversationReference, type TurnContext } from 'botbuilder';
import { AuthenticationError } from 'botframework-connector';
import type { Logger } from '../app/logger';
import type { ProactiveMessenger } from '../usecases/deliver-alerts';
import { SAFE_ERROR } from './esafety-bot';

export interface BotCredentials {
  appId: string;
  appPassword: string;
  appType: string;
  tenantId: string;
}

/** jsonwebtoken's error types for a bad signature, a token used too early, or an expired one. */
const REJECTED_TOKEN_ERRORS = new Set(['JsonWebTokenError', 'NotBeforeError', 'TokenExpiredError']);

/**
 * botbuilder 4.23 lets jsonwebtoken's errors escape (a forged signature, a future `nbf`), and CloudAdapter
 * answers anything but an `AuthenticationError` with 500; this turns them into the 401 they are.
 */
class TokenCheckingAuthentication extends ConfigurationBotFrameworkAuthentication {
  override async authenticateRequest(activity: Activity, authHeader: string): ReturnType<ConfigurationBotFrameworkAuthentication['authenticateRequest']> {
    try {
      return await super.authenticateRequest(activity, authHeader);
    } catch (error) {
      if (error instanceof Error && REJECTED_TOKEN_ERRORS.has(error.name)) throw new AuthenticationError(`Unauthorized: ${error.name}`, 401);
      throw error;
    }
  }
}

/**
 * The Bot Framework adapter. With an empty app id, botbuilder skips authentication, which is what the
 * local Playground and the loopback tests use; with an app id every incoming activity must carry a
 * valid Bot Framework token.
 */
export function createBotAdapter(credentials: BotCredentials, logger: Logger): CloudAdapter {
  // botbuilder insists on an app id for SingleTenant, so the unauthenticated local mode names no type.
  const auth = new TokenCheckingAuthentication(
    credentials.appId
      ? {
          MicrosoftAppId: credentials.appId,
          MicrosoftAppPassword: credentials.appPassword,
          MicrosoftAppType: credentials.appType,
          MicrosoftAppTenantId: credentials.tenantId,
        }
      : {},
  );
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context: TurnContext, error: Error) => {
    const correlationId = context.activity.id ?? 'none';
    logger.error('turn.failed', { correlationId, activityType: context.activity.type, errorName: error.name });
    if (context.activity.type === 'message') {
      await context.sendActivity(`${SAFE_ERROR} (Reference for IT: ${correlationId})`).catch(() => undefined);
    }
  };
  return adapter;
}

/** Sends proactive messages through the adapter into stored conversations. */
export class AdapterMessenger implements ProactiveMessenger {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
  ) {}

  async sendText(reference: Partial<ConversationReference>, text: string): Promise<void> {
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      await context.sendActivity(text);
    });
  }
}
