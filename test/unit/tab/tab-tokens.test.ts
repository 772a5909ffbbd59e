import { acceptedAudiences, issueLocalIdentity, TabTokenValidator } from '../../../tab/server/tab-tokens';

describe('tab tokens', () => {
  it.each([
    ['api://esafety.example.org/00000000-0000-4000-8000-000000000001', ['api://esafety.example.org/00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001']],
    ['00000000-0000-4000-8000-000000000001', ['00000000-0000-4000-8000-000000000001']],
    ['api://custom', ['api://custom']],
  ])('accepts %s as %p', (audience, accepted) => {
    expect(acceptedAudiences(audience)).toEqual(accepted);
  });

  const options = { issuer: '', jwksUri: '', audience: '', tenantIds: [] };

  it('accepts a local identity only when the secret is set, and only with that secret', async () => {
    const token = await issueLocalIdentity('secret-one-0123456789', 'e5afe000-0000-4000-8000-000000000106', new Date());
    await expect(new TabTokenValidator({ ...options, localIdentitySecret: 'secret-one-0123456789' }).validate(token)).resolves.toEqual({ ok: true, objectId: 'e5afe000-0000-4000-8000-000000000106' });
    await expect(new TabTokenValidator({ ...options, localIdentitySecret: 'secret-two-0123456789' }).validate(token)).resolves.toMatchObject({ ok: false });
    await expect(new TabTokenValidator({ ...options, localIdentitySecret: undefined }).validate(token)).resolves.toEqual({ ok: false, reason: 'local-identity-disabled' });
  });

  it('refuses an expired local identity and garbage', async () => {
    const old = await issueLocalIdentity('secret-one-0123456789', 'e5afe000-0000-4000-8000-000000000106', new Date(Date.now() - 3_600_000));
    const validator = new TabTokenValidator({ ...options, localIdentitySecret: 'secret-one-0123456789' });
    await expect(validator.validate(old)).resolves.toMatchObject({ ok: false });
    await expect(validator.validate('nope')).resolves.toEqual({ ok: false, reason: 'malformed' });
  });
});
