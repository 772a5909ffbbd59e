import { messageActivity, newUser } from '../support/teams-activities';
import { startTestApp, type TestApp } from '../support/test-app';

const teacher = newUser('Teacher');

describe('free text sent to the bot', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ roles: { staff: [teacher] } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('says plainly that it was not recorded and how to report, with the help that follows', async () => {
    await app.post(messageActivity(teacher, 'I saw something worrying on a pupil’s screen', app.connector.serviceUrl));
    const sent = await app.connector.waitFor((s) => String(s.activity.text).includes('recorded'));
    expect(String(sent.activity.text)).toMatch(/^This was \*\*not\*\* recorded\. Type \/report to report a concern\./);
    expect(String(sent.activity.text)).toContain('You can send me:');
  });

  it('answers /help with the help alone', async () => {
    await app.post(messageActivity(teacher, '/help', app.connector.serviceUrl));
    const sent = await app.connector.waitFor((s) => String(s.activity.text).startsWith('I help the school'));
    expect(String(sent.activity.text)).not.toContain('not** recorded');
  });
});
