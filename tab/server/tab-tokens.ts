import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';

/** Issuer and audience of the stand-in identity used outside Teams in local development. */
export const LOCAL_ISSUER = 'urn:esafety:local-identity';
export const LOCAL_AUDIENCE = 'urn:esafety:tab';
const LOCAL_TOKEN_SECONDS = 15 * 60;

/**
 * The delegated scope the app registration exposes and Teams SSO asks for (README, "SSO app registration").
 * A token for a signed-in user names it in `scp`; an app-only token (client credentials) has `roles` and no
 * `scp`, so it can never stand for a person
 * (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference#payload-claims).
 */
export const TAB_SCOPE = 'access_as_user';

export interface TabTokenOptions {
  /** The expected issuer; `{tenantid}` is replaced by the token's tenant, as in Entra's multi-tenant metadata. */
  issuer: string;
  /** The signing keys' address; `{tenantid}` as in `issuer`. */
  jwksUri: string;
  audience: string;
  /** The tenants whose users may sign in: a token from any other tenant is refused before its keys are fetched. */
  tenantIds: readonly string[];
  /** When set, HS256 tokens signed with it (from /tab/dev-login) are accepted too. */
  localIdentitySecret: string | undefined;
}

export type TokenCheck = { ok: true; objectId: string } | { ok: false; reason: string };

/**
 * Checks a Teams SSO token: signature against the tenant's published keys, issuer, audience, expiry,
 * tenant and the `access_as_user` scope; the caller is the `oid` claim. Roles are never read from the token.
 */
export class TabTokenValidator {
  /** One key set per address: with `{tenantid}` in the address, one per allowed tenant (a trust has a handful). */
  private readonly keys = new Map<string, JWTVerifyGetKey>();
  private readonly tenants: ReadonlySet<string>;
  private readonly localKey: Uint8Array | undefined;

  constructor(private readonly options: TabTokenOptions) {
    this.tenants = new Set(options.tenantIds.map((t) => t.toLowerCase()));
    this.localKey = options.localIdentitySecret ? new TextEncoder().encode(options.localIdentitySecret) : undefined;
  }

  private keysFor(tenantId: string): JWTVerifyGetKey {
    const uri = this.options.jwksUri.replaceAll('{tenantid}', tenantId);
    let keys = this.keys.get(uri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(uri), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
      this.keys.set(uri, keys);
    }
    return keys;
  }

  async validate(token: string): Promise<TokenCheck> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    try {
      if (alg === 'HS256') {
        if (!this.localKey) return { ok: false, reason: 'local-identity-disabled' };
        const { payload } = await jwtVerify(token, this.localKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: ['HS256'], requiredClaims: ['exp', 'oid'] });
        return typeof payload.oid === 'string' ? { ok: true, objectId: payload.oid } : { ok: false, reason: 'no-oid' };
      }
      if (!this.options.jwksUri || !this.options.issuer || !this.options.audience || this.tenants.size === 0) return { ok: false, reason: 'sso-not-configured' };
      // The tenant is read before the signature is checked only to choose which tenant's keys and issuer to check
      // it against; a tenant not allowed here is refused without fetching anything.
      const claimed = decodeJwt(token).tid;
      const tenantId = typeof claimed === 'string' ? claimed.toLowerCase() : '';
      if (!this.tenants.has(tenantId)) return { ok: false, reason: 'wrong-tenant' };
      const { payload } = await jwtVerify(token, this.keysFor(tenantId), {
        issuer: this.options.issuer.replaceAll('{tenantid}', tenantId),
        audience: acceptedAudiences(this.options.audience),
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'oid', 'tid'],
        clockTolerance: 60,
      });
      if (typeof payload.tid !== 'string' || payload.tid.toLowerCase() !== tenantId) return { ok: false, reason: 'wrong-tenant' };
      // `scp` is one space-separated string of the delegated scopes granted.
      if (typeof payload.scp !== 'string' || !payload.scp.split(' ').includes(TAB_SCOPE)) return { ok: false, reason: payload.scp === undefined ? 'app-only-token' : 'missing-scope' };
      return typeof payload.oid === 'string' ? { ok: true, objectId: payload.oid } : { ok: false, reason: 'no-oid' };
    } catch (error) {
      return { ok: false, reason: (error as { code?: string }).code ?? 'invalid' };
    }
  }
}

/** A short-lived stand-in identity for local development; only issued when the secret is set. */
export async function issueLocalIdentity(secret: string, objectId: string, now: Date): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ oid: objectId, tid: 'local' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOCAL_TOKEN_SECONDS)
    .sign(new TextEncoder().encode(secret));
}

/**
 * Entra v2 access tokens carry the app id (a GUID) as `aud`; v1 tokens carry the Application ID URI.
 * Accept both forms of the one configured audience, and nothing else.
 */
export function acceptedAudiences(audience: string): string[] {
  const appId = /^api:\/\/[^/]+\/([0-9a-f-]{36})$/i.exec(audience)?.[1];
  return appId ? [audience, appId] : [audience];
}
