import { randomUUID, type KeyObject } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { TABLE_NAMES } from '../../records/tables';
import { startTestApp, type TestApp } from '../support/test-app';
import { messageActivity, newUser } from '../support/teams-activities';
import { channelToken as signedChannelToken, forger, published, PUBLISHED_KID, serveBotFrameworkKeys } from '../support/bot-framework-tokens';

const teacher = newUser('Test Teacher');

/** A bot registration as production has one: with an app id, every activity must carry a Bot Framework token. */
const registeredBot = {
  MicrosoftAppId: randomUUID(),
  MicrosoftAppPassword: 'not-a-real-secret',
  MicrosoftAppType: 'SingleTenant',
  MicrosoftAppTenantId: randomUUID(),
};

/** A channel token for this bot registration. */
function channelToken(key: KeyObject, kid: string, serviceUrl: string, validFrom?: number): string {
  return signedChannelToken(registeredBot.MicrosoftAppId, key, kid, serviceUrl, validFrom);
}

describe('/api/messages with a bot registration', () => {
  let app: TestApp;
  let botRuns: jest.SpyInstance;

  beforeAll(async () => {
    app = await startTestApp({ roles: { staff: [teacher] }, env: registeredBot });
    botRuns = jest.spyOn(app.services.bot, 'run');
    // CloudAdapter prints every rejected request with console.error; the statuses below are what matter.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app?.close();
  });

  async function postMessage(headers: Record<string, string>): Promise<{ status: number; ms: number }> {
    const started = Date.now();
    const response = await fetch(`${app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(messageActivity(teacher, '/report', app.connector.serviceUrl)),
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    return { status: response.status, ms: Date.now() - started };
  }

  /** Every row any table holds for this test's school. */
  async function storedRows(): Promise<string[]> {
    const rows: string[] = [];
    for (const name of Object.values(TABLE_NAMES)) {
      const table = await app.services.tables.getTable(name);
      const filter = odata`PartitionKey ge ${app.schoolId} and PartitionKey lt ${`${app.schoolId}~`}`;
      for await (const entity of table.listEntities({ queryOptions: { filter } })) rows.push(`${name}/${entity.partitionKey}/${entity.rowKey}`);
    }
    return rows;
  }

  it('when an activity has no Authorization header, answers 401 without running the bot', async () => {
    const { status, ms } = await postMessage({});
    expect(status).toBe(401);
    expect(ms).toBeLessThan(5_000);
  });

  it('when an activity carries a bearer token that is not a JWT at all, answers 401', async () => {
    const { status } = await postMessage({ authorization: 'Bearer garbage' });
    expect(status).toBe(401);
  });

  // Runs before any test serves the keys: botbuilder caches them per metadata URL for the rest of the file.
  it('when the Bot Framework signing keys cannot be fetched, refuses the activity with 500 (Teams retries) at once', async () => {
    const { status, ms } = await postMessage({ authorization: `Bearer ${channelToken(published.privateKey, PUBLISHED_KID, app.connector.serviceUrl)}` });
    expect(status).toBe(500);
    expect(ms).toBeLessThan(5_000);
  });

  it('when a token names a key the Bot Framework never published, answers 401', async () => {
    serveBotFrameworkKeys();
    const { status, ms } = await postMessage({ authorization: `Bearer ${channelToken(forger.privateKey, 'unknown-key', app.connector.serviceUrl)}` });
    expect(status).toBe(401);
    expect(ms).toBeLessThan(5_000);
  });

  it('when a token names the published key but was signed by another key, answers 401', async () => {
    serveBotFrameworkKeys();
    const { status, ms } = await postMessage({ authorization: `Bearer ${channelToken(forger.privateKey, PUBLISHED_KID, app.connector.serviceUrl)}` });
    expect(status).toBe(401);
    expect(ms).toBeLessThan(5_000);
  });

  it('when a properly signed token is not valid yet, answers 401', async () => {
    serveBotFrameworkKeys();
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const { status } = await postMessage({ authorization: `Bearer ${channelToken(published.privateKey, PUBLISHED_KID, app.connector.serviceUrl, inAnHour)}` });
    expect(status).toBe(401);
  });

  it('after rejected activities, nothing was stored, sent to the channel or handled by the bot', async () => {
    expect(botRuns).not.toHaveBeenCalled();
    expect(app.connector.sent).toEqual([]);
    expect(await storedRows()).toEqual([]);
  });
});
