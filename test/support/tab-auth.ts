import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { randomUUID } from 'node:crypto';
import type { IncidentRecord, IncidentStore } from '../../records/incident-store';
import { IncidentAggregateStore } from '../../records/incident-aggregate-store';
import type { Tables } from '../../records/tables';
import { fourCOf, type IncidentType } from '../../school/incident-types';
import { countForNewIncident, storeCount } from '../../usecases/summarise-incidents';

/** A stand-in for Entra's signing keys: an RSA key pair, its JWKS on 127.0.0.1:0, and a token minter. */
export interface TestIdentityProvider {
  jwksUri: string;
  issuer: string;
  audience: string;
  tenantId: string;
  env: Record<string, string>;
  /** A user's token, as Teams SSO gets one (`scp` is `access_as_user` unless overridden; null leaves `scp` out). */
  token(objectId: string, overrides?: { issuer?: string; audience?: string; tid?: string; expiresInSeconds?: number; key?: KeyLike; scp?: string | null; claims?: Record<string, unknown> }): Promise<string>;
  otherKey: KeyLike;
  close(): Promise<void>;
}

export async function startTestIdentityProvider(): Promise<TestIdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const tenantId = randomUUID();
  const issuer = `https://login.example.test/${tenantId}/v2.0`;
  const audience = 'api://esafety.example.test/00000000-0000-4000-8000-00000000a11d';
  const jwksUri = `http://127.0.0.1:${port}/keys`;
  return {
    jwksUri,
    issuer,
    audience,
    tenantId,
    env: { AUTH_ISSUER: issuer, AUTH_JWKS_URI: jwksUri, AUTH_AUDIENCE: audience, MicrosoftAppTenantId: tenantId },
    otherKey: other.privateKey,
    token: async (objectId, o = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const scp = o.scp === undefined ? 'access_as_user' : o.scp;
      return new SignJWT({ oid: objectId, tid: o.tid ?? tenantId, ...(scp === null ? {} : { scp }), ...o.claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .setIssuer(o.issuer ?? issuer)
        .setAudience(o.audience ?? audience)
        .setIssuedAt(now - 60)
        .setExpirationTime(now + (o.expiresInSeconds ?? 600))
        .sign(o.key ?? privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Records an incident as the report use case would, and counts it in the aggregates. */
export async function seedIncident(
  deps: { incidents: IncidentStore; tables: Tables },
  schoolId: string,
  values: Partial<IncidentRecord> & { reference: string; type: IncidentType },
): Promise<IncidentRecord> {
  const at = values.createdAt ?? '2026-10-01T09:00:00.000Z';
  const record: IncidentRecord = {
    schoolId,
    fourC: fourCOf(values.type),
    audience: 'standard',
    childProtection: false,
    subject: 'pupil',
    occurredOn: at.slice(0, 10),
    occurredAt: undefined,
    involved: [{ kind: 'pupil-unlisted' }],
    yearGroups: ['Year 4'],
    location: 'ICT suite',
    description: 'A pupil opened a site.',
    actionTaken: 'Closed the tab.',
    status: 'open',
    reporterId: randomUUID(),
    submissionId: randomUUID(),
    createdAt: at,
    updatedAt: at,
    eventCount: 1,
    ...values,
  };
  const result = await deps.incidents.createIncident(record, { at, actorId: record.reporterId, kind: 'reported', what: 'Reported', why: '' }, []);
  if (result.created) await storeCount(new IncidentAggregateStore(deps.tables), record.schoolId, countForNewIncident(record));
  return record;
}
