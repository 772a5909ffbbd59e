import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type Activity, type ConversationReference, type InvokeResponse, type TurnContext } from 'botbuilder';
import { AuthenticationConstants, AuthenticationError, type AuthenticateRequestResult, type ClaimsIdentity } from 'botframework-connector';
import type { Logger } from '../infra/logger';
import type { ProactiveMessenger } from '../usecases/deliver-alerts';
import { SAFE_ERROR } from './esafety-bot';

export interface BotCredentials {
  appId: string;
  appPassword: string;
  appType: string;
  tenantId: string;
  certificate?: { thumbprint: string; privateKey: string } | undefined;
  /**
   * Deployed, the tenants whose activities the bot handles (config sets at least one, and refuses to start
   * without). Non-empty turns the activity guard on: Teams only, these tenants only, and a service URL the
   * Bot Framework token vouches for. Empty only in local development (the Playground, loopback tests).
   */
  allowedTenantIds?: readonly string[];
}

/** Why the guard turned an authenticated activity away; logged, never shown to the sender. */
export type ActivityRefusal = 'channel' | 'tenant' | 'service-url';

/**
 * Decides whether an inbound activity may reach the bot. The Bot Framework token has already been checked
 * (signature, issuer, audience, and that the signing key is endorsed for the activity's channel).
 * - Channel: the app is a Teams app; Bot Framework channel ids are documented at
 *   https://learn.microsoft.com/azure/bot-service/bot-service-channels-reference (Teams is `msteams`).
 * - Tenant: Teams puts the tenant in `channelData.tenant.id` and `conversation.tenantId`
 *   (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-messages#teams-channel-data);
 *   an activity without one, or with two that disagree, is refused.
 * - Service URL: replies and every later alert go to the activity's `serviceUrl`, so it must be the one the
 *   Bot Framework signed into the token's `serviceurl` claim (botbuilder skips that check when the activity
 *   has no serviceUrl at all; this does not).
 */
export function refuseActivity(activity: Partial<Activity>, identity: Pick<ClaimsIdentity, 'getClaimValue'> | undefined, allowedTenantIds: readonly string[]): ActivityRefusal | undefined {
  if (activity.channelId !== 'msteams') return 'channel';
  const fromChannelData = (activity.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant?.id;
  const fromConversation = activity.conversation?.tenantId;
  const tenants = [fromChannelData, fromConversation].filter((t): t is string => typeof t === 'string' && t !== '').map((t) => t.toLowerCase());
  if (tenants.length === 0 || new Set(tenants).size > 1 || !allowedTenantIds.includes(tenants[0]!)) return 'tenant';
  const signedServiceUrl = identity?.getClaimValue(AuthenticationConstants.ServiceUrlClaim);
  if (!activity.serviceUrl || !signedServiceUrl || signedServiceUrl !== activity.serviceUrl) return 'service-url';
  return undefined;
}

/**
 * CloudAdapter with the deployed activity guard. It wraps the turn logic of inbound activities only, after
 * authentication, so proactive alerts (continueConversationAsync) are not affected. A refused activity gets
 * the normal 200 (the Bot Framework would retry an error) and never reaches the bot or storage.
 */
class GuardedCloudAdapter extends CloudAdapter {
  constructor(
    auth: ConfigurationBotFrameworkAuthentication,
    private readonly allowedTenantIds: readonly string[],
    private readonly logger: Logger,
  ) {
    super(auth);
  }

  protected override processActivity(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined>;
  protected override processActivity(result: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined>;
  protected override processActivity(auth: string | AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    const guarded = async (context: TurnContext) => {
      const identity = context.turnState.get<ClaimsIdentity | undefined>(this.BotIdentityKey);
      const refusal = refuseActivity(context.activity, identity, this.allowedTenantIds);
      if (refusal) {
        this.logger.warn('bot.activity-refused', { correlationId: context.activity.id ?? 'none', reason: refusal, channelId: String(context.activity.channelId ?? '').slice(0, 32), activityType: context.activity.type });
        return;
      }
      await logic(context);
    };
    return typeof auth === 'string' ? super.processActivity(auth, activity, guarded) : super.processActivity(auth, activity, guarded);
  }
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
 * local Playground and the loopback tests use (config refuses an empty app id when deployed); with an app id
 * every incoming activity must carry a valid Bot Framework token. With allowed tenants (deployed), the
 * activity guard runs too.
 */
export function createBotAdapter(credentials: BotCredentials, logger: Logger): CloudAdapter {
  // botbuilder insists on an app id for SingleTenant, so the unauthenticated local mode names no type.
  const auth = new TokenCheckingAuthentication(
    credentials.appId
      ? {
          MicrosoftAppId: credentials.appId,
          MicrosoftAppPassword: credentials.certificate ? undefined : credentials.appPassword,
          MicrosoftAppType: credentials.appType,
          MicrosoftAppTenantId: credentials.tenantId,
          ...(credentials.certificate ? { CertificateThumbprint: credentials.certificate.thumbprint, CertificatePrivateKey: credentials.certificate.privateKey } : {}),
        }
      : {},
  );
  const allowed = (credentials.allowedTenantIds ?? []).map((t) => t.toLowerCase());
  const adapter = allowed.length > 0 ? new GuardedCloudAdapter(auth, allowed, logger) : new CloudAdapter(auth);
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
