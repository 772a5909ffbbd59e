import { randomUUID } from 'node:crypto';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import {
  createClientCredential,
  createDeviceCodeCredential,
  createGraphCredential,
  createStaticTokenCredential,
  readCertificateCredential,
} from '../../../graph/graph-credentials';
import { GraphCredentialError } from '../../../graph/graph-errors';
import { createGraphGateway } from '../../../graph/graph-gateway';
import { verifyGraphContractAfterAll } from '../../support/graph-contract';
import { createFakeClock, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

const TENANT = '6babcaad-604b-40ac-a9d7-9fd97c0b779f';
const CLIENT = '0f2d8a4e-7c51-4d1e-9f3a-5b6c7d8e9f10';

/** OpenID configuration for an authority, so msal-node needs no discovery call. */
function authorityMetadata(host: string): string {
  return JSON.stringify({
    token_endpoint: `${host}/${TENANT}/oauth2/v2.0/token`,
    authorization_endpoint: `${host}/${TENANT}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${host}/${TENANT}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${host}/${TENANT}/oauth2/v2.0/logout`,
    issuer: `${host}/${TENANT}/v2.0`,
    jwks_uri: `${host}/${TENANT}/discovery/v2.0/keys`,
  });
}

function tokenResponse(accessToken: string): Record<string, unknown> {
  return { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken };
}

function form(body: unknown): URLSearchParams {
  return new URLSearchParams(typeof body === 'string' ? body : '');
}

useOfflineNetwork();
verifyGraphContractAfterAll();
describe('Graph credentials', () => {
  it('with a static token, sends Authorization: Bearer and the token as given', async () => {
    const fake = new GraphFake({ expectedAccessToken: 'eyJ0eXAi.static' });
    fake.intercept();
    fake.seedSchool();
    const gateway = createGraphGateway({ authProvider: createGraphCredential({ kind: 'token', accessToken: 'Bearer eyJ0eXAi.static' }) });

    await gateway.listSubscribedSkus();

    expect(fake.authorizations).toEqual(['Bearer eyJ0eXAi.static']);
  });

  it('with client credentials, asks the configured national-cloud authority for a token for that cloud, once', async () => {
    const authorityHost = 'https://login.microsoftonline.us';
    const tokenCalls: URLSearchParams[] = [];
    nock(authorityHost)
      .post(`/${TENANT}/oauth2/v2.0/token`)
      .query(true)
      .times(5)
      .reply((_uri, body) => {
        tokenCalls.push(form(body));
        return [200, tokenResponse('app-token-1')];
      });
    const fake = new GraphFake({ expectedAccessToken: 'app-token-1' });
    fake.intercept('https://graph.microsoft.us');
    fake.seedSchool();
    // Generated per run, so no secret-looking literal sits in the repository.
    const clientSecret = randomUUID();
    const credential = createClientCredential({
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret,
      authorityHost,
      graphBaseUrl: 'https://graph.microsoft.us',
      authorityMetadata: authorityMetadata(authorityHost),
    });
    const gateway = createGraphGateway({ authProvider: credential, baseUrl: 'https://graph.microsoft.us', concurrency: 2 });

    await Promise.all([gateway.listSubscribedSkus(), gateway.listSubscribedSkus()]);
    await gateway.listSubscribedSkus();

    expect(tokenCalls).toHaveLength(1);
    expect(Object.fromEntries(tokenCalls[0] as URLSearchParams)).toMatchObject({
      grant_type: 'client_credentials',
      client_id: CLIENT,
      client_secret: clientSecret,
      scope: 'https://graph.microsoft.us/.default',
    });
    expect(fake.authorizations).toEqual(['Bearer app-token-1', 'Bearer app-token-1', 'Bearer app-token-1']);
  });

  it('without authority metadata, reads the OpenID configuration from the configured authority host only', async () => {
    const authorityHost = 'https://login.partner.microsoftonline.cn';
    const scope = nock(authorityHost)
      .get(`/${TENANT}/v2.0/.well-known/openid-configuration`)
      .reply(200, JSON.parse(authorityMetadata(authorityHost)))
      .post(`/${TENANT}/oauth2/v2.0/token`)
      .query(true)
      .reply(200, tokenResponse('cn-token'));
    const credential = createClientCredential({ tenantId: TENANT, clientId: CLIENT, clientSecret: 's', authorityHost, graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn' });

    await expect(credential.getAccessToken()).resolves.toBe('cn-token');
    expect(scope.isDone()).toBe(true);
  });

  it('with a certificate, signs a client assertion carrying the SHA-256 thumbprint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-cert-'));
    try {
      const { pem, der } = selfSignedCertificate();
      const pemPath = join(dir, 'graph.pem');
      writeFileSync(pemPath, pem);
      const authorityHost = 'https://login.microsoftonline.com';
      let assertion: URLSearchParams | undefined;
      nock(authorityHost)
        .post(`/${TENANT}/oauth2/v2.0/token`)
        .query(true)
        .reply((_uri, body) => {
          assertion = form(body);
          return [200, tokenResponse('cert-token')];
        });
      const credential = createClientCredential({ tenantId: TENANT, clientId: CLIENT, certificatePath: pemPath, authorityMetadata: authorityMetadata(authorityHost) });

      await expect(credential.getAccessToken()).resolves.toBe('cert-token');

      expect(assertion?.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const header = JSON.parse(Buffer.from((assertion?.get('client_assertion') ?? '').split('.')[0] as string, 'base64url').toString('utf8'));
      expect(header['x5t#S256']).toBe(createHash('sha256').update(der).digest('base64url'));
      expect(readCertificateCredential(pemPath)).toMatchObject({
        thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
        x5c: der.toString('base64'),
        privateKey: expect.stringContaining('-----BEGIN PRIVATE KEY-----'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with the device-code flow, shows the sign-in message and keeps the token for the process', async () => {
    const authorityHost = 'https://login.microsoftonline.com';
    let tokenCalls = 0;
    nock(authorityHost)
      .post(`/${TENANT}/oauth2/v2.0/devicecode`)
      .reply(200, { device_code: 'dc', user_code: 'FAKE-CODE', verification_uri: 'https://microsoft.com/devicelogin', expires_in: 900, interval: 1, message: 'To sign in, enter the code FAKE-CODE.' })
      .post(`/${TENANT}/oauth2/v2.0/token`)
      .query(true)
      .times(3)
      .reply(() => {
        tokenCalls += 1;
        return [200, tokenResponse('admin-token')];
      });
    const messages: string[] = [];
    const credential = createDeviceCodeCredential({ tenantId: TENANT, clientId: CLIENT, authorityMetadata: authorityMetadata(authorityHost), onDeviceCodeMessage: (m) => messages.push(m) });

    await expect(credential.getAccessToken()).resolves.toBe('admin-token');
    await expect(credential.getAccessToken()).resolves.toBe('admin-token');

    expect(messages).toEqual(['To sign in, enter the code FAKE-CODE.']);
    expect(tokenCalls).toBe(1);
  });

  it('when the secret is wrong, the whole run stops with a GraphCredentialError that says what to check', async () => {
    const authorityHost = 'https://login.microsoftonline.com';
    nock(authorityHost)
      .post(`/${TENANT}/oauth2/v2.0/token`)
      .query(true)
      .reply(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
    const fake = new GraphFake();
    fake.intercept();
    const clock = createFakeClock();
    const credential = createClientCredential({ tenantId: TENANT, clientId: CLIENT, clientSecret: 'wrong', authorityMetadata: authorityMetadata(authorityHost) });
    const gateway = createGraphGateway({ authProvider: credential, now: clock.now, sleep: clock.sleep });

    const error = await gateway.listSubscribedSkus().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GraphCredentialError);
    expect(error).toMatchObject({ errorCode: 'invalid_client' });
    expect((error as Error).message).toMatch(/AADSTS7000215.*Check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and the secret or certificate/);
    expect(fake.records).toEqual([]);
  });

  it('refuses client credentials without a secret or a certificate, and names an unreadable certificate file', () => {
    expect(() => createClientCredential({ tenantId: TENANT, clientId: CLIENT })).toThrow(GraphCredentialError);
    expect(() => readCertificateCredential('/nonexistent/graph.pem')).toThrow(/Cannot read the Graph certificate file "\/nonexistent\/graph.pem" \(ENOENT\)\. Check GRAPH_CERTIFICATE_PATH\./);
  });

  it('an empty static token is refused when Graph is first called', async () => {
    await expect(createStaticTokenCredential('  ').getAccessToken()).rejects.toBeInstanceOf(GraphCredentialError);
  });
});

/** A throwaway self-signed RSA certificate, built with node:crypto only (no openssl needed). */
function selfSignedCertificate(): { pem: string; der: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from('e-safety graph test')))));
  const algorithm = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const validity = seq(tlv(0x17, Buffer.from('260101000000Z')), tlv(0x17, Buffer.from('360101000000Z')));
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([1])), algorithm, name, validity, name, publicKey.export({ type: 'spki', format: 'der' }));
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, privateKey as KeyObject)])));
  const certificate = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  // PKCS#1 on purpose: the credential converts it to the PKCS#8 msal-node expects.
  return { pem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() + certificate, der };
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const length: number[] = [];
  for (let n = body.length; n > 0; n >>= 8) length.unshift(n & 0xff);
  return Buffer.concat([Buffer.from([tag]), Buffer.from(body.length < 128 ? [body.length] : [0x80 | length.length, ...length]), body]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, ...parts);
}

function set(...parts: Buffer[]): Buffer {
  return tlv(0x31, ...parts);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const value of rest) {
    const chunk = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}
