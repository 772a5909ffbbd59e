import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { createMemoryLogger } from '../../../infra/logger';
import { runProvisionCli } from '../../../app/provision-cli';
import { AuditStore } from '../../../records/audit-store';
import { ProvisioningRunStore } from '../../../records/provisioning-run-store';
import { PupilRegisterStore } from '../../../records/pupil-register-store';
import { StorageUnavailableError, Tables } from '../../../records/tables';
import { readRollCsv } from '../../../school/pupil-roll';
import type { PupilPicker } from '../../../usecases/report-incident';
import { applyProvisioning, type ProvisioningDependencies } from '../../../usecases/provision-pupils';
import { resetPupilPassword } from '../../../usecases/reset-pupil-password';
import { createGatewayForFake, GraphFake } from '../../support/graph-fake';
import { pupilProvisioningSettings } from '../../support/school-settings';
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/tab-auth';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';
import { startTestApp, type TestApp } from '../../support/test-app';
import { cardActionInvoke, installActivity, messageActionInvoke, messageActivity, newUser } from '../../support/teams-activities';

/*
 * Issue #7: "no pupil names, descriptions, passwords or tokens in logs". Everything below is planted
 * where a careless log call would pick it up, every surface is driven through its success and error
 * paths, and then every log line is searched for it.
 *
 * Usernames contain the forename by design (21ysoldinem@…), so they may not be logged either: logs name
 * pupils by externalId (the MIS key) and people by Entra object id.
 */

const PUPIL = { forename: 'Ysoldine', surname: 'Marrowgate', externalId: 'H999000777001' };
const CLASSMATE = { forename: 'Tiberon', surname: 'Quaffsley', externalId: 'X999000777002' };
const PHRASE = 'gloomwhistle lantern';
const DESCRIPTION = `${PUPIL.forename} ${PUPIL.surname} was sent the ${PHRASE} video by ${CLASSMATE.forename} ${CLASSMATE.surname} during ICT.`;
const PASSWORD = 'Narwhal9137';
const RESET_PASSWORD = 'Pangolin4862';
const DOMAIN = 'oakfield.example';

/** A JWT-shaped string with distinctive claims; the signature is random, as nothing here checks it. */
function plantedJwt(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [part({ alg: 'RS256', typ: 'JWT', kid: 'planted' }), part({ ...claims, jti: randomUUID() }), Buffer.from(randomUUID() + randomUUID()).toString('base64url')].join('.');
}

const GRAPH_TOKEN = plantedJwt({ oid: '6b1e3a57-0000-4000-8000-00000000ad01', scp: 'User.ReadWrite.All', planted: 'graph-token' });
const STALE_GRAPH_TOKEN = plantedJwt({ oid: '6b1e3a57-0000-4000-8000-00000000ad01', planted: 'stale-graph-token' });
const BOT_AUTHORIZATION = `Bearer ${plantedJwt({ iss: 'https://api.botframework.com', planted: 'bot-authorization' })}`;

/** What must never be in a log line: each value, and each long piece of each token (a truncated token is still a leak). */
function forbiddenIn(values: string[]): string[] {
  const pieces = values.flatMap((value) => [value, ...value.replace(/^Bearer\s+/i, '').split('.').filter((piece) => piece.length >= 16)]);
  return [...new Set(pieces.map((piece) => piece.toLowerCase()))];
}

const NAMES_AND_CONTENT = [PUPIL.forename, PUPIL.surname, CLASSMATE.forename, CLASSMATE.surname, PHRASE];
/** The pupils' unique pupil numbers (their register ids here): confidential (DfE), so never logged, under any key. */
const UNIQUE_PUPIL_NUMBERS = [PUPIL.externalId, CLASSMATE.externalId];
const SECRETS = [PASSWORD, RESET_PASSWORD, GRAPH_TOKEN, STALE_GRAPH_TOKEN, BOT_AUTHORIZATION];

type LogEntry = Record<string, unknown> & { time: string; level: string; event: string };

/** Parses every line, failing on any that is not one JSON object with a time, a level and an event. */
function parseLogLines(lines: readonly string[]): LogEntry[] {
  return lines.map((line) => {
    expect(line).not.toContain('\n');
    const entry = JSON.parse(line) as LogEntry;
    expect(entry).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.stringMatching(/^(debug|info|warn|error)$/), event: expect.any(String) }));
    return entry;
  });
}

/** Each planted value found in the lines, with the event that carried it; empty when nothing leaked. */
function leaks(lines: readonly string[], planted: string[]): string[] {
  const forbidden = forbiddenIn(planted);
  return lines.flatMap((line) => {
    const lower = line.toLowerCase();
    const event = (JSON.parse(line) as LogEntry).event;
    return forbidden.filter((value) => lower.includes(value)).map((value) => `"${value}" in ${event}`);
  });
}

/** Everything the app's libraries print with console.* while a block runs (botbuilder reports refused requests there). */
function captureConsole(): { text: () => string } {
  const printed: string[] = [];
  beforeAll(() => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message} ${a.stack ?? ''}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')));
    }
  });
  afterAll(() => jest.restoreAllMocks());
  return { text: () => printed.join('\n').toLowerCase() };
}

/** A connection string for a storage endpoint on a loopback port that nothing listens on. */
async function unreachableTables(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return testTablesConnectionString().replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);
}

function rollCsv(): string {
  return ['UPN,Forename,Surname,Year,Reg Group', `${PUPIL.externalId},${PUPIL.forename},${PUPIL.surname},5,5M`, `${CLASSMATE.externalId},${CLASSMATE.forename},${CLASSMATE.surname},5,5M`, `L999000777003,${CLASSMATE.forename},,5,5M`].join('\r\n');
}

describe('the bot and the tab log no pupil names, descriptions or tokens', () => {
  const teacher = newUser('Staff Sender');
  const coordinator = newUser('Staff Coordinator');
  const dsl = newUser('Staff Lead');
  const printed = captureConsole();
  let idp: TestIdentityProvider;
  let app: TestApp;
  let pupilFault: Error | undefined;
  const tabTokens: string[] = [];

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    const register = new PupilRegisterStore(new Tables({ connectionString: testTablesConnectionString() }));
    // The real register, unless a test makes the next read fail.
    const pupils: PupilPicker = {
      listPupilChoices: async (schoolId) => {
        const fault = pupilFault;
        if (fault) throw fault;
        return register.listPupilChoices(schoolId);
      },
    };
    app = await startTestApp({
      roles: { staff: [teacher, coordinator, dsl], coordinator: [coordinator], dsl: [dsl] },
      env: { ...idp.env, LOG_LEVEL: 'debug' },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z'), pupils },
    });
    const now = new Date().toISOString();
    await register.savePupils(
      app.schoolId,
      [PUPIL, CLASSMATE].map((p) => ({ ...p, yearGroup: '5', registrationGroup: '5M', cohort: '20', userPrincipalName: `20${p.forename.toLowerCase()}${p.surname[0]!.toLowerCase()}@${DOMAIN}`, status: 'active' as const, groups: [], createdAt: now, updatedAt: now })),
    );
    for (const user of [coordinator, dsl]) await post(installActivity(user, app.connector.serviceUrl));
  });

  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  /** POSTs an activity as Teams would, with a bot Authorization header (unchecked here: the app runs without a bot registration). */
  async function post(activity: { id: string }): Promise<{ status: number; body: unknown; lines: string[] }> {
    const before = app.logLines.length;
    const response = await fetch(`${app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: BOT_AUTHORIZATION },
      body: JSON.stringify(activity),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, lines: app.logLines.slice(before) };
  }

  async function openReportCard(): Promise<string> {
    const before = app.connector.sent.length;
    await post(messageActivity(teacher, '/report', app.connector.serviceUrl));
    const reply = await app.connector.waitFor((s) => app.connector.sent.indexOf(s) >= before && s.activity.attachments !== undefined);
    const card = reply.activity.attachments![0]!.content as { actions: { data: { submissionId: string } }[] };
    expect(JSON.stringify(card)).toContain(`pupil:${PUPIL.externalId}`);
    return card.actions[0]!.data.submissionId;
  }

  const form = {
    occurredOn: '2026-11-20',
    occurredAt: '10:15',
    involved: `pupil:${PUPIL.externalId}`,
    location: `${CLASSMATE.surname}'s desk in the ICT suite`,
    incidentType: 'cyberbullying',
    description: DESCRIPTION,
    actionTaken: `Spoke to ${PUPIL.forename} and ${CLASSMATE.forename} about the ${PHRASE}.`,
    childProtection: 'true',
  };

  /** Waits until the alerts a report sent after its turn (to the DSL and the coordinator) are logged, so later turns' lines are their own. */
  async function settleAlerts(reference: string): Promise<void> {
    const delivered = (): number => parseLogLines(app.logLines).filter((e) => e.event === 'alert.delivered' && e.reference === reference).length;
    for (let waited = 0; delivered() < 2; waited += 20) {
      if (waited > 5000) throw new Error(`The alerts for ${reference} were never delivered.`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Lines written while one activity was handled carry its id as the correlation id. */
  function expectCorrelated(lines: string[], activityId: string): void {
    for (const entry of parseLogLines(lines)) expect({ event: entry.event, correlationId: entry.correlationId }).toEqual({ event: entry.event, correlationId: activityId });
  }

  it('when a report naming a register pupil is recorded, no name, description or bot token reaches the logs', async () => {
    const submissionId = await openReportCard();
    const activity = cardActionInvoke(teacher, 'submitIncident', { ...form, submissionId }, app.connector.serviceUrl);
    const { body, lines } = await post(activity);
    const reference = /ES-2026-\d{4,}/.exec(JSON.stringify(body))![0];
    await settleAlerts(reference);

    expect(parseLogLines(lines).map((e) => e.event)).toContain('incident.reported');
    expectCorrelated(lines, activity.id);
    // The whole stored record is there to be leaked: prove the planted text really reached the app.
    expect((await app.services.report.incidents.getIncident(app.schoolId, reference))?.description).toBe(DESCRIPTION);
  });

  it('when a report is invalid, says so without logging what was typed', async () => {
    const submissionId = await openReportCard();
    const activity = cardActionInvoke(teacher, 'submitIncident', { ...form, occurredOn: '2027-01-01', incidentType: PUPIL.surname, submissionId }, app.connector.serviceUrl);
    const { body, lines } = await post(activity);
    expect(JSON.stringify(body)).toContain('cannot be in the future');
    expectCorrelated(lines, activity.id);
  });

  it('when storage fails while recording, and when the failure carries a name in its message, logs only the error name', async () => {
    const submissionId = await openReportCard();
    pupilFault = new StorageUnavailableError('listPupilChoices', new Error(`Table query for ${PUPIL.forename} ${PUPIL.surname} timed out`));
    const unavailable = cardActionInvoke(teacher, 'submitIncident', { ...form, submissionId }, app.connector.serviceUrl);
    const first = await post(unavailable);
    pupilFault = new Error(`Unexpected pupil ${PUPIL.forename} ${PUPIL.surname}: ${PHRASE}`);
    const unexpected = cardActionInvoke(teacher, 'submitIncident', { ...form, submissionId }, app.connector.serviceUrl);
    const second = await post(unexpected);
    pupilFault = undefined;

    expect(JSON.stringify(first.body)).toContain('has NOT been saved');
    expect(parseLogLines(first.lines).map((e) => e.event)).toEqual(['incident.report.not-saved']);
    expectCorrelated(first.lines, unavailable.id);
    expect(parseLogLines(second.lines).map((e) => [e.event, e.errorName])).toEqual([['incident.report.failed', 'Error']]);
    expectCorrelated(second.lines, unexpected.id);
  });

  it('when a teacher reports a Teams message that names a pupil, the message text stays out of the logs', async () => {
    const messagePayload = { id: '1700000000001', createdDateTime: '2026-11-22T14:05:00.000Z', body: { contentType: 'html', content: `<p>${DESCRIPTION}</p>` } };
    const opened = await post(messageActionInvoke(teacher, 'composeExtension/fetchTask', { commandId: 'reportMessage', messagePayload }, app.connector.serviceUrl));
    expect(JSON.stringify(opened.body)).toContain(PHRASE);
    const submissionId = /"submissionId":"([0-9a-f-]{36})"/.exec(JSON.stringify(opened.body))![1]!;
    const activity = messageActionInvoke(teacher, 'composeExtension/submitAction', { commandId: 'reportMessage', data: { ...form, submissionId } }, app.connector.serviceUrl);
    const { body, lines } = await post(activity);
    expectCorrelated(lines, activity.id);
    await settleAlerts(/ES-2026-\d{4,}/.exec(JSON.stringify(body))![0]);
  });

  it('when a turn fails outright, the top-level handler logs the activity id and no message text', async () => {
    pupilFault = new Error(`Register read failed for ${PUPIL.forename} ${PUPIL.surname}`);
    const activity = messageActivity(teacher, `/report ${PUPIL.forename} ${PUPIL.surname}`, app.connector.serviceUrl);
    const { lines } = await post(activity);
    pupilFault = undefined;
    expect(parseLogLines(lines).map((e) => [e.event, e.errorName])).toEqual([['turn.failed', 'Error']]);
    expectCorrelated(lines, activity.id);
  });

  it('when someone types a pupil name to the bot, or presses a stale card button, the text is not logged', async () => {
    await post(messageActivity(teacher, `${PUPIL.forename} ${PUPIL.surname} needs help with the ${PHRASE}`, app.connector.serviceUrl));
    const stale = cardActionInvoke(teacher, 'openOldReport', { note: DESCRIPTION }, app.connector.serviceUrl);
    const { lines } = await post(stale);
    expect(parseLogLines(lines).map((e) => e.event)).toEqual(['card.unknown-verb']);
    expectCorrelated(lines, stale.id);
  });

  async function callTab(token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; etag: string | null }> {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, text: await response.text(), etag: response.headers.get('etag') };
  }

  it('when the tab API is called with valid and invalid tokens, logs neither the tokens nor the incident text', async () => {
    const valid = await idp.token(dsl.aadObjectId);
    const forged = await idp.token(dsl.aadObjectId, { key: idp.otherKey });
    const expired = await idp.token(dsl.aadObjectId, { expiresInSeconds: -3600 });
    tabTokens.push(valid, forged, expired);

    const list = await callTab(valid, 'GET', '/api/incidents');
    expect(list.status).toBe(200);
    const reference = /ES-2026-\d{4,}/.exec(list.text)![0];
    const detail = await callTab(valid, 'GET', `/api/incidents/${reference}`);
    expect(detail.text).toContain(PHRASE);
    const action = await callTab(valid, 'POST', `/api/incidents/${reference}/actions`, { what: `Called ${PUPIL.surname}'s parents`, why: `Because of the ${PHRASE}`, etag: JSON.parse(detail.text).etag });
    expect(action.status).toBe(200);
    expect((await callTab(valid, 'GET', `/api/incidents?status=${PUPIL.surname}`)).status).toBe(400);

    const before = app.logLines.length;
    for (const token of [forged, expired, `${PUPIL.forename}.${PUPIL.surname}.${PHRASE.replace(' ', '-')}`]) {
      expect((await callTab(token, 'GET', '/api/summary')).status).toBe(401);
    }
    expect(parseLogLines(app.logLines.slice(before)).map((e) => [e.event, e.reason])).toEqual([
      ['tab.token-refused', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
      ['tab.token-refused', 'ERR_JWT_EXPIRED'],
      ['tab.token-refused', 'malformed'],
    ]);
  });

  it('after all of it, no log line and no console output holds a planted name, description or token', () => {
    expect(tabTokens).toHaveLength(3);
    parseLogLines(app.logLines);
    const usernames = [PUPIL, CLASSMATE].map((p) => `20${p.forename.toLowerCase()}${p.surname[0]!.toLowerCase()}`);
    expect(leaks(app.logLines, [...NAMES_AND_CONTENT, ...UNIQUE_PUPIL_NUMBERS, ...usernames, ...SECRETS, ...tabTokens])).toEqual([]);
    expect(forbiddenIn([...NAMES_AND_CONTENT, ...SECRETS, ...tabTokens]).filter((value) => printed.text().includes(value))).toEqual([]);
  });

  it('every line carries a correlation id: bot turns (their activity id), the alerts a report sends, and tab API requests', () => {
    const uncorrelated = new Set(parseLogLines(app.logLines).filter((e) => e.correlationId === undefined).map((e) => e.event));
    expect([...uncorrelated].sort()).toEqual([]);
  });
});

describe('user principal names and unique pupil numbers never reach a log line, whatever field carries them', () => {
  it.each([
    ['an error text', { errorMessage: `Graph said: user ${PUPIL.externalId.toLowerCase()}@${DOMAIN} was not found` }],
    ['a URL', { url: `/users/20ysoldinem@${DOMAIN}/memberOf?$select=id` }],
    ['an id field', { externalId: PUPIL.externalId, pupilId: CLASSMATE.externalId }],
    ['a temporary UPN (a letter last)', { target: 'H99900077700A' }],
  ])('in %s', (_where, fields) => {
    const logger = createMemoryLogger('debug');
    logger.child({ schoolId: 'oakfield' }).warn('planted', fields);
    const planted = [...UNIQUE_PUPIL_NUMBERS, 'H99900077700A', `20ysoldinem@${DOMAIN}`, `@${DOMAIN}`];
    expect(leaks(logger.lines, planted)).toEqual([]);
    // Everything else in the line stays, so it can still be followed: the school, the event and the rest of the text.
    expect(logger.lines[0]).toContain('"schoolId":"oakfield"');
    expect(JSON.parse(logger.lines[0]!).event).toBe('planted');
  });

  it('leaves ids that only look a little like them alone: object ids, references, dates', () => {
    const logger = createMemoryLogger('debug');
    const fields = { actorId: '6b1e3a57-0000-4000-8000-00000000ad01', reference: 'ES-2026-0001', at: '2026-11-23T09:00:00.000Z', row: 4 };
    logger.info('kept', fields);
    expect(JSON.parse(logger.lines[0]!)).toMatchObject(fields);
  });
});

describe('a registered bot refusing a forged Authorization header logs no token', () => {
  const teacher = newUser('Staff Sender');
  const registration = { MicrosoftAppId: randomUUID(), MicrosoftAppPassword: 'not-a-real-secret', MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: randomUUID() };
  const printed = captureConsole();
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ roles: { staff: [teacher] }, env: { ...registration, LOG_LEVEL: 'debug' } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 and neither the logs nor the console carry the header', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    nock('https://login.botframework.com')
      .get('/v1/.well-known/openidconfiguration')
      .reply(200, { issuer: 'https://api.botframework.com', jwks_uri: 'https://login.botframework.com/v1/.well-known/keys' })
      .get('/v1/.well-known/keys')
      .reply(200, { keys: [{ ...keys.publicKey.export({ format: 'jwk' }), kid: 'published-key', use: 'sig', endorsements: ['msteams'] }] });
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: 'published-key' })}.${part({ iss: 'https://api.botframework.com', aud: registration.MicrosoftAppId, nbf: now - 60, exp: now + 3600, planted: 'forged' })}`;
    const forged = `Bearer ${unsigned}.${sign('sha256', Buffer.from(unsigned), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).toString('base64url')}`;

    const statuses: number[] = [];
    for (const authorization of [forged, BOT_AUTHORIZATION]) {
      const response = await fetch(`${app.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(messageActivity(teacher, `${PUPIL.forename} ${PUPIL.surname}`, 'http://127.0.0.1:9/')),
      });
      await response.text();
      statuses.push(response.status);
    }

    expect(statuses).toEqual([401, 401]);
    // botbuilder reports refusals with console.error, outside the JSON logs; that output is checked too.
    expect(printed.text()).toContain('unauthorized');
    parseLogLines(app.logLines);
    expect(leaks(app.logLines, [forged, BOT_AUTHORIZATION, PUPIL.forename, PUPIL.surname])).toEqual([]);
    expect(forbiddenIn([forged, BOT_AUTHORIZATION, PUPIL.forename, PUPIL.surname]).filter((value) => printed.text().includes(value))).toEqual([]);
  });
});

describe('provisioning logs no pupil names, usernames, passwords or Graph tokens', () => {
  it('when apply creates accounts, one fails with a 400 that quotes the name, and passwords are reset, nothing planted is logged', async () => {
    const fake = new GraphFake({ seed: 11, expectedAccessToken: GRAPH_TOKEN, checkContract: false });
    fake.seedSchool();
    fake.intercept();
    // Graph error messages can echo what was sent; they must not be logged either.
    fake.failNext({ method: 'POST', url: /^\/users$/, status: 400, code: 'Request_BadRequest', message: `Invalid value for displayName: ${CLASSMATE.forename} ${CLASSMATE.surname}` });
    fake.failNext({ url: /assignLicense/, status: 429, retryAfterSeconds: 2 });
    const logger = createMemoryLogger('debug');
    const { gateway } = createGatewayForFake({ accessToken: GRAPH_TOKEN, logger });
    const tables = new Tables({ connectionString: testTablesConnectionString() });
    const register = new PupilRegisterStore(tables);
    const clock = (): Date => new Date('2026-09-07T09:00:00Z');
    const deps: ProvisioningDependencies = {
      schoolId: uniqueSchoolId('redact'),
      register,
      audit: new AuditStore(tables, clock),
      runs: new ProvisioningRunStore(tables),
      gateway,
      settings: pupilProvisioningSettings(DOMAIN),
      actorId: 'admin-object-id',
      clock,
      logger,
      generatePassword: () => PASSWORD,
    };
    const slips: { userPrincipalName: string; password: string }[] = [];

    const result = await applyProvisioning(deps, { roll: readRollCsv(rollCsv()), academicYearStart: 2026, deliverSlips: async (issued) => void slips.push(...issued) });

    expect(result.summary).toMatchObject({ create: 1, failed: 1, reject: 1 });
    expect(slips.map((s) => s.password)).toEqual([PASSWORD]);
    const [created] = slips;
    const resetDeps = { ...deps, register, gateway, forcePasswordChange: true, generatePassword: () => RESET_PASSWORD };
    const reset = await resetPupilPassword(resetDeps, { userPrincipalName: created!.userPrincipalName, deliverSlips: async () => undefined });
    expect(reset.kind).toBe('reset');
    expect(fake.userByPrincipalName(created!.userPrincipalName)?.passwordProfile?.password).toBe(RESET_PASSWORD);
    fake.failNext({ method: 'PATCH', url: /^\/users\//, status: 400, code: 'Request_BadRequest', message: `The password ${RESET_PASSWORD} does not comply with policy.` });
    expect((await resetPupilPassword(resetDeps, { userPrincipalName: created!.userPrincipalName, deliverSlips: async () => undefined })).kind).toBe('failed');
    expect((await resetPupilPassword(resetDeps, { userPrincipalName: `${CLASSMATE.forename}@${DOMAIN}`, deliverSlips: async () => undefined })).kind).toBe('refused');

    const events = parseLogLines(logger.lines).map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['provisioning.started', 'provisioning.pupil-failed', 'graph.retry', 'password-reset.done', 'password-reset.failed']));
    expect(fake.authorizations.every((a) => a === `Bearer ${GRAPH_TOKEN}`)).toBe(true);
    const usernames = (await register.listPupils(deps.schoolId)).map((p) => p.userPrincipalName.split('@')[0]!);
    expect(usernames).toHaveLength(2);
    expect(leaks(logger.lines, [...NAMES_AND_CONTENT, ...UNIQUE_PUPIL_NUMBERS, ...usernames, PASSWORD, RESET_PASSWORD, GRAPH_TOKEN])).toEqual([]);
  });

  describe('npm run provision', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redaction-cli-'));
    const csv = join(dir, 'roll.csv');
    writeFileSync(csv, rollCsv());

    async function run(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; logLines: string[]; prose: string[] }> {
      let stdout = '';
      let stderr = '';
      const code = await runProvisionCli(argv, {
        stdout: { write: (text: string) => (stdout += text), isTTY: false },
        stderr: { write: (text: string) => (stderr += text), isTTY: false },
        env,
        clock: () => new Date('2026-09-07T09:00:00Z'),
      });
      // The CLI writes JSON log lines and sentences for the admin to the same stream.
      const lines = stderr.split('\n').filter((line) => line !== '');
      return { code, stdout, logLines: lines.filter((line) => line.startsWith('{')), prose: lines.filter((line) => !line.startsWith('{')) };
    }

    it('when apply --json and reset-password --json run, Graph refuses a token and storage is down, the JSON log lines on stderr hold nothing planted', async () => {
      const fake = new GraphFake({ seed: 12, expectedAccessToken: GRAPH_TOKEN, checkContract: false });
      fake.seedSchool();
      fake.intercept();
      fake.failNext({ method: 'POST', url: /^\/users$/, status: 400, code: 'Request_BadRequest', message: `Invalid value for displayName: ${CLASSMATE.forename} ${CLASSMATE.surname}` });
      const env = {
        SCHOOL_ID: uniqueSchoolId('redact-cli'),
        SCHOOL_NAME: 'Oakfield Primary',
        SCHOOL_DOMAIN: DOMAIN,
        TABLES_CONNECTION_STRING: testTablesConnectionString(),
        GRAPH_MODE: 'live',
        GRAPH_AUTH: 'token',
        GRAPH_ACCESS_TOKEN: GRAPH_TOKEN,
        LOG_LEVEL: 'debug',
      };

      const apply = await run(['apply', '--csv', csv, '--academic-year', '2026', '--slips', join(dir, 'slips.html'), '--json'], env);
      expect(apply.code).toBe(1);
      expect(JSON.parse(apply.stdout).summary).toMatchObject({ create: 1, failed: 1, reject: 1 });
      const username = (JSON.parse(apply.stdout).pupils as { upn: string; action: string }[]).find((p) => p.action === 'create')!.upn;
      const reset = await run(['reset-password', username, '--slips', join(dir, 'reset.html'), '--json'], env);
      expect(reset.code).toBe(0);
      const refused = await run(['apply', '--csv', csv, '--academic-year', '2026', '--slips', join(dir, 'refused.html'), '--json'], { ...env, GRAPH_ACCESS_TOKEN: STALE_GRAPH_TOKEN });
      expect(refused.code).toBe(2);
      const offline = await run(['reset-password', username, '--slips', join(dir, 'offline.html'), '--json'], { ...env, TABLES_CONNECTION_STRING: await unreachableTables() });
      expect(offline.code).toBe(2);

      expect(fake.authorizations).toContain(`Bearer ${GRAPH_TOKEN}`);
      expect(fake.authorizations).toContain(`Bearer ${STALE_GRAPH_TOKEN}`);
      const runs = [apply, reset, refused, offline];
      const passwords = ['slips.html', 'reset.html'].map((file) => /<dd>([A-Z][a-z]+\d+)<\/dd>/.exec(readFileSync(join(dir, file), 'utf8'))![1]!);
      const planted = [...NAMES_AND_CONTENT, ...passwords, GRAPH_TOKEN, STALE_GRAPH_TOKEN];
      const logLines = runs.flatMap((r) => r.logLines);
      expect(parseLogLines(logLines).map((e) => e.event)).toEqual(expect.arrayContaining(['provisioning.started', 'provisioning.pupil-failed', 'password-reset.done', 'provisioning.blocked', 'provision-cli.failed']));
      expect(leaks(logLines, [...planted, ...UNIQUE_PUPIL_NUMBERS, username.split('@')[0]!])).toEqual([]);
      // The sentences for the admin name the account they typed, by design; never a pupil's name, a password or a token.
      const prose = runs.flatMap((r) => r.prose).join('\n').toLowerCase().split(username.toLowerCase()).join('<username>');
      expect(forbiddenIn(planted).filter((value) => prose.includes(value))).toEqual([]);

      // The failure the admin is told about can be found in the logs by its correlation id.
      const failed = parseLogLines(offline.logLines).find((e) => e.event === 'provision-cli.failed')!;
      expect(failed).toMatchObject({ error: 'StorageUnavailableError', correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(offline.prose.join('\n')).toContain(`correlation id ${String(failed.correlationId)}`);
    });
  });
});
