import { GraphFake } from '../support/graph-fake';
import { verifyGraphContractAfterAll } from '../support/graph-contract';
import { startTestApp, type TestApp } from '../support/test-app';
import { cardActionInvoke, installActivity, messageActivity, newUser } from '../support/teams-activities';

verifyGraphContractAfterAll();

const teacher = newUser('Graph Teacher');
const coordinator = newUser('Graph Coordinator');
const outsider = newUser('Not In Any Group');

describe('roles from Entra security groups (ROLES_SOURCE=graph)', () => {
  let app: TestApp;
  const fake = new GraphFake({ expectedAccessToken: 'test-graph-token' });
  for (const user of [teacher, coordinator, outsider]) fake.addUser({ id: user.aadObjectId, userPrincipalName: `${user.aadObjectId.slice(0, 8)}@school.test`, displayName: user.name });
  fake.addGroup({ displayName: 'All Staff', members: [teacher.aadObjectId, coordinator.aadObjectId] });
  fake.addGroup({ displayName: 'E-Safety Coordinators', members: [coordinator.aadObjectId] });
  fake.addGroup({ displayName: 'Safeguarding Leads', members: [] });
  fake.addGroup({ displayName: 'Head', members: [] });

  beforeEach(() => {
    fake.intercept('https://graph.microsoft.com');
  });

  beforeAll(async () => {
    fake.intercept('https://graph.microsoft.com');
    app = await startTestApp({
      roles: {},
      env: {
        ROLES_SOURCE: 'graph',
        GRAPH_MODE: 'live',
        GRAPH_AUTH: 'token',
        GRAPH_ACCESS_TOKEN: 'test-graph-token',
        SCHOOL_DOMAIN: 'school.test',
        ROLE_GROUP_STAFF: 'All Staff',
        ROLE_GROUP_COORDINATOR: 'E-Safety Coordinators',
        ROLE_GROUP_DSL: 'Safeguarding Leads',
        ROLE_GROUP_HEADTEACHER: 'Head',
      },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('when a member of the staff group reports, the coordinator group is alerted, and Graph is asked once per role', async () => {
    expect((await app.post(installActivity(coordinator, app.connector.serviceUrl))).status).toBe(200);
    const response = await app.post(
      cardActionInvoke(
        teacher,
        'submitIncident',
        {
          submissionId: '0f6b2d4e-1111-4a2b-9c3d-000000000001',
          occurredOn: '2026-11-20',
          involved: 'unknown',
          incidentType: 'filtering-breach',
          description: 'A gaming site loaded on the library laptops.',
          childProtection: 'false',
        },
        app.connector.serviceUrl,
      ),
    );
    const reference = /ES-\d{4}-\d{4,}/.exec(JSON.stringify(response.body))?.[0];
    expect(reference).toBeDefined();
    await app.connector.waitFor((s) => s.conversationId === `a:personal-${coordinator.aadObjectId}` && String(s.activity.text).includes(reference!));

    const groupLookups = fake.innerRequests().filter((r) => r.method === 'GET' && r.url.startsWith('/groups?'));
    const before = groupLookups.length;
    // A second report within the cache period reads the roles from Azure Tables, not Graph.
    await app.post(messageActivity(teacher, '/myreports', app.connector.serviceUrl));
    expect(fake.innerRequests().filter((r) => r.method === 'GET' && r.url.startsWith('/groups?')).length).toBe(before);
  });

  it('when someone is in no role group, refuses their report on the server', async () => {
    const response = await app.post(
      cardActionInvoke(outsider, 'submitIncident', { submissionId: '0f6b2d4e-1111-4a2b-9c3d-000000000002', occurredOn: '2026-11-20' }, app.connector.serviceUrl),
    );
    expect(JSON.stringify(response.body)).toContain('Only members of staff');
  });
});
