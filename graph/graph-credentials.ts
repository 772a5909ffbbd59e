import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ConfidentialClientApplication,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
  type Configuration,
} from '@azure/msal-node';
import type { AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import { DEFAULT_GRAPH_BASE_URL } from './graph-batch';
import { GraphCredentialError } from './graph-errors';

/** The global-cloud Entra authority host (GRAPH_AUTHORITY_HOST's default). */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** Where to sign in and which Graph to ask for; both hosts change in the national clouds. */
export interface AuthorityOptions {
  tenantId: string;
  clientId: string;
  /** Entra authority host, e.g. https://login.microsoftonline.us; defaults to the global cloud. */
  authorityHost?: string;
  /** Graph endpoint the token is for; the scope is `${graphBaseUrl}/.default`. */
  graphBaseUrl?: string;
  /** OpenID configuration JSON for the authority, to skip fetching it (offline or air-gapped runs). */
  authorityMetadata?: string;
  /** Instance-discovery JSON, to skip asking the authority host for it. */
  cloudDiscoveryMetadata?: string;
}

/** App-only sign-in with a client secret or a PEM certificate. */
export interface ClientCredentialOptions extends AuthorityOptions {
  clientSecret?: string;
  /** PEM file holding the private key and the certificate. */
  certificatePath?: string;
}

/** Delegated sign-in of an admin through the device-code flow. */
export interface DeviceCodeCredentialOptions extends AuthorityOptions {
  /** Shows Entra's "go to … and enter code …" sentence; defaults to printing it on stderr. */
  onDeviceCodeMessage?: (message: string) => void;
}

/** The three ways the app may authenticate to Graph; `kind` matches GRAPH_AUTH. */
export type GraphCredentialOptions =
  | ({ kind: 'client-credentials' } & ClientCredentialOptions)
  | ({ kind: 'device-code' } & DeviceCodeCredentialOptions)
  | { kind: 'token'; accessToken: string };

/** A certificate credential as msal-node takes it. */
export interface CertificateCredential {
  thumbprintSha256: string;
  privateKey: string;
  x5c: string;
}

/** Creates the graph client's AuthenticationProvider for the chosen sign-in. */
export function createGraphCredential(options: GraphCredentialOptions): AuthenticationProvider {
  switch (options.kind) {
    case 'client-credentials':
      return createClientCredential(options);
    case 'device-code':
      return createDeviceCodeCredential(options);
    case 'token':
      return createStaticTokenCredential(options.accessToken);
  }
}

/** A bearer token the caller already holds (GRAPH_ACCESS_TOKEN); it is never refreshed. */
export function createStaticTokenCredential(accessToken: string): AuthenticationProvider {
  const token = accessToken.trim().replace(/^Bearer\s+/i, '');
  return {
    getAccessToken: async () => {
      if (!token) throw new GraphCredentialError('No Graph access token was given. Set GRAPH_ACCESS_TOKEN, or use GRAPH_AUTH=client-credentials or device-code.');
      return token;
    },
  };
}

/** App-only tokens from msal-node's ConfidentialClientApplication; msal caches them in memory until they expire. */
export function createClientCredential(options: ClientCredentialOptions): AuthenticationProvider {
  const { clientSecret, certificatePath } = options;
  if (!clientSecret && !certificatePath) {
    throw new GraphCredentialError('Client-credentials sign-in needs a client secret (SECRET_GRAPH_CLIENT_SECRET) or a certificate (GRAPH_CERTIFICATE_PATH).');
  }
  const auth = authConfig(options);
  const app = new ConfidentialClientApplication({
    auth: clientSecret ? { ...auth, clientSecret } : { ...auth, clientCertificate: readCertificateCredential(certificatePath as string) },
  });
  const scopes = [scopeFor(options)];
  const using = clientSecret ? 'the client secret' : 'the certificate';
  return singleFlight(async () => {
    const result = await callMsal(
      () => app.acquireTokenByClientCredential({ scopes }),
      `with ${using} for app ${options.clientId} in tenant ${options.tenantId}`,
      'Check GRAPH_TENANT_ID, GRAPH_CLIENT_ID and the secret or certificate, and that an admin granted the application permissions.',
    );
    return accessTokenOf(result);
  });
}

/** Delegated tokens through the device-code flow; the token and its refresh token live in memory for this process only. */
export function createDeviceCodeCredential(options: DeviceCodeCredentialOptions): AuthenticationProvider {
  const app = new PublicClientApplication({ auth: authConfig(options) });
  const scopes = [scopeFor(options)];
  const show = options.onDeviceCodeMessage ?? ((message: string) => process.stderr.write(`${message}\n`));
  let account: AccountInfo | null = null;
  let cached: { token: string; expiresAt: number } | undefined;
  const context = `through the device-code flow for app ${options.clientId} in tenant ${options.tenantId}`;
  const advice = 'Check GRAPH_TENANT_ID and GRAPH_CLIENT_ID, that the app registration allows public client flows, and that the admin finished signing in.';
  const keep = (result: AuthenticationResult | null): string => {
    const token = accessTokenOf(result);
    account = result?.account ?? account;
    cached = { token, expiresAt: (result?.expiresOn?.getTime() ?? Date.now()) - 5 * 60_000 };
    return token;
  };
  return singleFlight(async () => {
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    if (account) {
      try {
        return keep(await app.acquireTokenSilent({ account, scopes }));
      } catch {
        account = null;
      }
    }
    return keep(
      await callMsal(
        () => app.acquireTokenByDeviceCode({ scopes, deviceCodeCallback: (response) => show(response.message) }),
        context,
        advice,
      ),
    );
  });
}

/** Reads a PEM file with a private key and a certificate, as msal-node's `clientCertificate`. */
export function readCertificateCredential(pemPath: string): CertificateCredential {
  let pem: string;
  try {
    pem = readFileSync(pemPath, 'utf8');
  } catch (error) {
    throw new GraphCredentialError(`Cannot read the Graph certificate file "${pemPath}" (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}). Check GRAPH_CERTIFICATE_PATH.`);
  }
  const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const keyBlock = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!certificateBlock || !keyBlock) {
    throw new GraphCredentialError(`The Graph certificate file "${pemPath}" must hold both a PEM private key and a PEM certificate. Check GRAPH_CERTIFICATE_PATH.`);
  }
  let certificate: X509Certificate;
  let privateKey: string;
  try {
    certificate = new X509Certificate(certificateBlock);
    privateKey = createPrivateKey(keyBlock).export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new GraphCredentialError(`The Graph certificate file "${pemPath}" holds a key or certificate that cannot be read (is the key encrypted?). Check GRAPH_CERTIFICATE_PATH.`);
  }
  return {
    thumbprintSha256: certificate.fingerprint256.replace(/:/g, ''),
    privateKey,
    x5c: certificate.raw.toString('base64'),
  };
}

function authConfig(options: AuthorityOptions): Configuration['auth'] {
  const host = (options.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  return {
    clientId: options.clientId,
    authority: `${host}/${options.tenantId}`,
    // Listing the host makes msal trust it without instance discovery, so any national-cloud host works.
    knownAuthorities: [new URL(host).host],
    ...(options.authorityMetadata ? { authorityMetadata: options.authorityMetadata } : {}),
    ...(options.cloudDiscoveryMetadata ? { cloudDiscoveryMetadata: options.cloudDiscoveryMetadata } : {}),
  };
}

function scopeFor(options: AuthorityOptions): string {
  return `${(options.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '')}/.default`;
}

/** One token request at a time: parallel batches starting together must not each sign in. */
function singleFlight(acquire: () => Promise<string>): AuthenticationProvider {
  let inFlight: Promise<string> | undefined;
  return {
    getAccessToken: () => {
      inFlight ??= acquire().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}

async function callMsal(
  call: () => Promise<AuthenticationResult | null>,
  context: string,
  advice: string,
): Promise<AuthenticationResult | null> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GraphCredentialError) throw error;
    const code = (error as { errorCode?: string }).errorCode;
    const detail = String((error as { errorMessage?: string }).errorMessage || (error as Error).message || '').split(/\r?\n/)[0];
    throw new GraphCredentialError(`Could not get a Microsoft Graph token ${context}: ${code ?? 'error'}${detail ? ` (${detail})` : ''}. ${advice}`, code);
  }
}

function accessTokenOf(result: AuthenticationResult | null): string {
  if (!result?.accessToken) throw new GraphCredentialError('The identity platform returned no access token for Microsoft Graph.');
  return result.accessToken;
}
