import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { IncidentStore } from '../../records/incident-store';
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/tab-auth';
import { cardActionInvoke, installActivity, messageActivity, newUser, type TeamsUser } from '../support/teams-activities';
import { startTestTrust, type TestTrust } from '../support/test-app';

// Two schools of one trust on one deployment and one storage account. Each has its own people; one DSL
// (a trust safeguarding lead) belongs to both.
const oak = { teacher: newUser('Oak Teacher'), dsl: newUser('Oak Dsl'), governor: newUser('Oak Governor') };
const larch = { teacher: newUser('Larch Teacher'), dsl: newUser('Larch Dsl'), governor: newUser('Larch Governor') };
const trustDsl = newUser('Trust Dsl');

const form = (incidentType: string, description: string) => ({
  occurredOn: '2026-11-20',
  occurredAt: '10:15',
  involved: 'pupil-unlisted',
  location: 'ICT suite',
  incidentType,
  description,
  actionTaken: 'Spoke to the pupil.',
  // Child protection, so each school's DSL is alerted at once.
  childProtection: 'true',
});
const OAK_DESCRIPTION = 'Oak: a pupil opened a violent video site.';
const LARCH_DESCRIPTION = 'Larch: unkind messages in a class chat.';

describe('one deployment serving two schools of a trust', () => {
  let idp: TestIdentityProvider;
  let trust: TestTrust;
  const refs: Record<'oak' | 'larch', string> = { oak: '', larch: '' };

  beforeAll(async () => {
    idp = await startTestIdentityProvider();
    trust = await startTestTrust({
      schools: [
        { name: 'Oakridge Primary', domain: 'oakridge.example', roles: { staff: [oak.teacher, oak.dsl, trustDsl], dsl: [oak.dsl, trustDsl], governor: [oak.governor] } },
        { name: 'Larchmoor Primary', domain: 'larchmoor.example', roles: { staff: [larch.teacher, larch.dsl, trustDsl], dsl: [larch.dsl, trustDsl], governor: [larch.governor] } },
      ],
      env: { ...idp.env, SECRET_LOCAL_IDENTITY_KEY: randomBytes(32).toString('hex') },
      overrides: { clock: () => new Date('2026-11-23T09:00:00Z') },
    });
    for (const user of [oak.dsl, larch.dsl, trustDsl]) expect((await trust.post(installActivity(user, trust.connector.serviceUrl))).status).toBe(200);
  });

  afterAll(async () => {
    await trust?.close();
    await idp?.close();
  });

  async function report(user: TeamsUser, values: Record<string, string>): Promise<string> {
    const before = trust.connector.sent.length;
    expect((await trust.post(messageActivity(user, '/report', trust.connector.serviceUrl))).status).toBe(200);
    const card = await trust.connector.waitFor((s) => trust.connector.sent.indexOf(s) >= before && s.activity.attachments !== undefined);
    const { submissionId } = ((card.activity.attachments![0]!.content as { actions: { data: { submissionId: string } }[] }).actions[0]!).data;
    const response = await trust.post(cardActionInvoke(user, 'submitIncident', { ...values, submissionId }, trust.connector.serviceUrl));
    const reference = /ES-2026-\d{4,}/.exec(JSON.stringify(response.body))?.[0];
    expect(reference).toBeDefined();
    return reference!;
  }

  async function api(user: TeamsUser, path: string, school?: string) {
    const response = await fetch(`${trust.url}${path}`, { headers: { authorization: `Bearer ${await idp.token(user.aadObjectId)}`, ...(school ? { 'x-school-id': school } : {}) } });
    return { status: response.status, school: response.headers.get('x-school-id'), body: (await response.json()) as Record<string, unknown> };
  }

  const [oakId, larchId] = [() => trust.schools[0]!.id, () => trust.schools[1]!.id];

  it('stores each staff member\'s report in their own school\'s partition, with the school\'s own reference numbers', async () => {
    refs.oak = await report(oak.teacher, form('inappropriate-website', OAK_DESCRIPTION));
    refs.larch = await report(larch.teacher, form('cyberbullying', LARCH_DESCRIPTION));
    // Each school numbers its own incidents, so both start at the same number: only the partition tells them apart.
    expect(refs.oak).toBe(refs.larch);

    const incidents = new IncidentStore(trust.schools[0]!.services.tables);
    expect((await incidents.listIncidents(oakId())).map((i) => [i.reference, i.description])).toEqual([[refs.oak, OAK_DESCRIPTION]]);
    expect((await incidents.listIncidents(larchId())).map((i) => [i.reference, i.description])).toEqual([[refs.larch, LARCH_DESCRIPTION]]);
  });

  it('alerts only the reporting school\'s DSL, and the trust DSL once for each school', async () => {
    const to = (user: TeamsUser) => trust.connector.sent.filter((s) => s.conversationId === `a:personal-${user.aadObjectId}` && String(s.activity.text ?? '').includes(refs.oak));
    await trust.connector.waitFor((s) => s.conversationId === `a:personal-${oak.dsl.aadObjectId}` && String(s.activity.text ?? '').includes(refs.oak));
    await trust.connector.waitFor((s) => s.conversationId === `a:personal-${larch.dsl.aadObjectId}` && String(s.activity.text ?? '').includes(refs.larch));
    await trust.connector.waitFor(() => to(trustDsl).length === 2).catch((e: Error) => {
      throw new Error(`${e.message} Sent: ${JSON.stringify(trust.connector.sent.map((s) => [s.conversationId, s.activity.text]))}`);
    });
    expect(to(oak.dsl)).toHaveLength(1);
    expect(to(larch.dsl)).toHaveLength(1);
    expect(String(to(oak.dsl)[0]!.activity.text)).toMatch(/website/i);
    expect(String(to(larch.dsl)[0]!.activity.text)).toMatch(/bullying/i);
  });

  it('a DSL reads only their own school\'s incidents, even when asking for the other school', async () => {
    const oakList = await api(oak.dsl, '/api/incidents');
    expect(oakList.school).toBe(oakId());
    expect((oakList.body.incidents as { reference: string; type: string }[]).map((i) => i.type)).toEqual(['inappropriate-website']);

    const larchList = await api(larch.dsl, '/api/incidents');
    expect((larchList.body.incidents as { type: string }[]).map((i) => i.type)).toEqual(['cyberbullying']);

    // Asking for the other school changes nothing: a person is only ever served by a school that lists them.
    const sneaky = await api(oak.dsl, `/api/incidents/${refs.larch}`, larchId());
    expect(sneaky.school).toBe(oakId());
    expect(JSON.stringify(sneaky.body)).not.toContain(LARCH_DESCRIPTION);
    expect(JSON.stringify(sneaky.body)).toContain(OAK_DESCRIPTION);

    // Someone in neither school gets nothing from either.
    const stranger = newUser('Stranger');
    expect((await api(stranger, '/api/incidents')).status).toBe(403);
    expect((await api(stranger, '/api/incidents', larchId())).status).toBe(403);
  });

  it('the trust DSL chooses the school, and each school shows only its own records', async () => {
    const schools = await api(trustDsl, '/api/schools');
    expect(schools.body).toEqual({ current: oakId(), schools: [{ id: oakId(), name: 'Oakridge Primary' }, { id: larchId(), name: 'Larchmoor Primary' }] });
    const asLarch = await api(trustDsl, `/api/incidents/${refs.larch}`, larchId());
    expect(asLarch.school).toBe(larchId());
    expect(JSON.stringify(asLarch.body)).toContain(LARCH_DESCRIPTION);
    const asOak = await api(trustDsl, `/api/incidents/${refs.oak}`);
    expect(JSON.stringify(asOak.body)).toContain(OAK_DESCRIPTION);
    expect((await api(oak.dsl, '/api/schools')).body).toEqual({ current: oakId(), schools: [{ id: oakId(), name: 'Oakridge Primary' }] });
  });

  it('each governing body\'s summary counts only its own school', async () => {
    const counts = async (governor: TeamsUser) => {
      const summary = (await api(governor, '/api/summary')).body as { byType: { key: string; count: number | string }[] };
      return Object.fromEntries(summary.byType.filter((t) => t.count !== 0).map((t) => [t.key, t.count]));
    };
    expect(await counts(oak.governor)).toEqual({ 'inappropriate-website': 'hidden' });
    expect(await counts(larch.governor)).toEqual({ cyberbullying: 'hidden' });
    // A governor of one school is not a governor of the other.
    expect((await api(oak.governor, '/api/summary', larchId())).school).toBe(oakId());
  });

  it('/myreports lists only the teacher\'s own school\'s reports', async () => {
    const before = trust.connector.sent.length;
    await trust.post(messageActivity(larch.teacher, '/myreports', trust.connector.serviceUrl));
    const reply = await trust.connector.waitFor((s) => trust.connector.sent.indexOf(s) >= before && s.conversationId === `a:personal-${larch.teacher.aadObjectId}`);
    const text = JSON.stringify(reply.activity);
    expect(text).toContain(refs.larch);
    expect(text).toMatch(/bullying/i);
    expect(text).not.toMatch(/website/i);
  });

  it('in the browser, the trust DSL switches school with the picker and sees that school\'s incidents', async () => {
    if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: install it with "sudo apt-get install chromium" to run the browser tests.');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${trust.url}/tab/incidents.html?as=${trustDsl.aadObjectId}`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 15_000 });
      await page.waitForSelector('#school-as', { timeout: 10_000 });
      expect(await page.locator('#list tbody').innerText()).toMatch(/website/i);
      await page.selectOption('#school-as', larchId());
      await page.waitForURL(/school=/);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 15_000 });
      expect(await page.locator('#list tbody').innerText()).toMatch(/bullying/i);
      expect(await page.locator('#list tbody').innerText()).not.toMatch(/website/i);
      expect(await page.locator('#school-as').inputValue()).toBe(larchId());
    } finally {
      await browser.close();
    }
  }, 40_000);
});
