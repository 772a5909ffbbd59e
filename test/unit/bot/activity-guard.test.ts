import { refuseActivity } from '../../../bot/adapter';

const TENANT = '11111111-2222-3333-4444-555555555555';
const OTHER = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const SERVICE_URL = 'https://smba.trafficmanager.net/uk/';

/** The claims identity botbuilder leaves on the turn after checking the Bot Framework token. */
const signedFor = (serviceUrl: string | null) => ({ getClaimValue: (type: string) => (type === 'serviceurl' ? serviceUrl : null) });

function activity(overrides: Record<string, unknown> = {}) {
  return { channelId: 'msteams', serviceUrl: SERVICE_URL, conversation: { id: 'a:1', tenantId: TENANT }, channelData: { tenant: { id: TENANT } }, ...overrides } as never;
}

describe('the deployed activity guard', () => {
  it('lets a Teams activity from an allowed tenant through when the token vouches for its service URL', () => {
    expect(refuseActivity(activity(), signedFor(SERVICE_URL), [TENANT])).toBeUndefined();
    // Tenant ids compare without regard to case; a trust may allow several.
    expect(refuseActivity(activity({ channelData: { tenant: { id: TENANT.toUpperCase() } }, conversation: { id: 'a:1' } }), signedFor(SERVICE_URL), [OTHER, TENANT])).toBeUndefined();
  });

  it.each(['webchat', 'directline', 'emulator', undefined])('refuses channel %p', (channelId) => {
    expect(refuseActivity(activity({ channelId }), signedFor(SERVICE_URL), [TENANT])).toBe('channel');
  });

  it('refuses another tenant, no tenant, and two tenants that disagree', () => {
    expect(refuseActivity(activity({ channelData: { tenant: { id: OTHER } }, conversation: { id: 'a:1', tenantId: OTHER } }), signedFor(SERVICE_URL), [TENANT])).toBe('tenant');
    expect(refuseActivity(activity({ channelData: {}, conversation: { id: 'a:1' } }), signedFor(SERVICE_URL), [TENANT])).toBe('tenant');
    expect(refuseActivity(activity({ channelData: { tenant: { id: TENANT } }, conversation: { id: 'a:1', tenantId: OTHER } }), signedFor(SERVICE_URL), [TENANT, OTHER])).toBe('tenant');
    expect(refuseActivity(activity(), signedFor(SERVICE_URL), [])).toBe('tenant');
  });

  it('refuses a service URL the token does not vouch for, or none at all', () => {
    expect(refuseActivity(activity({ serviceUrl: 'https://attacker.example/' }), signedFor(SERVICE_URL), [TENANT])).toBe('service-url');
    expect(refuseActivity(activity({ serviceUrl: undefined }), signedFor(null), [TENANT])).toBe('service-url');
    expect(refuseActivity(activity(), signedFor(null), [TENANT])).toBe('service-url');
    expect(refuseActivity(activity(), undefined, [TENANT])).toBe('service-url');
  });
});
