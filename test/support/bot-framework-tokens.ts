import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import nock from 'nock';

/**
 * Bot Framework's signing keys, served offline through nock. The channel's published key is `published`;
 * `forger` is anyone else's key. botbuilder fetches these once per metadata URL and caches them for the process.
 */
export const BOT_FRAMEWORK_LOGIN = 'https://login.botframework.com';
export const published = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const PUBLISHED_KID = 'published-key';

/** Serves the published key, endorsed for the given channels (a key only signs activities of channels it is endorsed for). */
export function serveBotFrameworkKeys(endorsements: string[] = ['msteams']): void {
  nock(BOT_FRAMEWORK_LOGIN)
    .get('/v1/.well-known/openidconfiguration')
    .reply(200, { issuer: 'https://api.botframework.com', jwks_uri: `${BOT_FRAMEWORK_LOGIN}/v1/.well-known/keys` })
    .get('/v1/.well-known/keys')
    .reply(200, { keys: [{ ...published.publicKey.export({ format: 'jwk' }), kid: PUBLISHED_KID, use: 'sig', endorsements }] });
}

/** A channel token as Teams would send it for `appId`, vouching for `serviceUrl`, signed with `key` under the header's `kid`. */
export function channelToken(appId: string, key: KeyObject, kid: string, serviceUrl: string, validFrom = Math.floor(Date.now() / 1000) - 60): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = [
    part({ alg: 'RS256', typ: 'JWT', kid }),
    part({ iss: 'https://api.botframework.com', aud: appId, serviceurl: serviceUrl, nbf: validFrom, exp: validFrom + 3600 }),
  ].join('.');
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
}
