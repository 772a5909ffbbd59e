import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkGraphPermissions,
  DOCUMENTED_PERMISSIONS,
  GRANTED_PERMISSIONS_FILE,
  GraphPermissionMap,
  readGrantedPermissions,
  type GraphSignIn,
} from '../../contract/graph-permission-check';
import { graphPermissionsTable, PERMISSION_PURPOSES } from '../../contract/graph-permissions-table';
import { REPO_ROOT, signInOf } from '../../support/graph-contract';
import { createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

const map = GraphPermissionMap.fromFile();
const granted = readGrantedPermissions();
const ID = '87d349ed-44d7-43e1-9a83-5f2406dee5bd';
const GRAPH = 'https://graph.microsoft.com/v1.0';

/** A request URL for an operation written in the map's form (`/users/{id}`). */
function sampleUrl(operation: string): { method: string; url: string } {
  const [method, path] = operation.split(' ') as [string, string];
  return { method, url: GRAPH + path.replace(/\{[^}]*\}/g, (p) => (p === '{id}' ? ID : 'x')) };
}

/** A token shaped like the one each sign-in gets: delegated tokens carry `scp`, application tokens `roles`. */
function tokenFor(signIn: GraphSignIn): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = signIn === 'delegated' ? { scp: 'User.ReadWrite.All Group.ReadWrite.All', oid: ID } : { roles: ['User.ReadWrite.All'], oid: ID };
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.sig`;
}

useOfflineNetwork();

describe('infra/graph-permissions.json', () => {
  it('has exactly the shape the Bicep app registration reads: application and delegated lists of names, and the operations each serves', () => {
    const raw = JSON.parse(readFileSync(GRANTED_PERMISSIONS_FILE, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(raw)).toEqual(['application', 'delegated', 'operations']);
    for (const list of [granted.application, granted.delegated]) {
      expect(list.length).toBeGreaterThan(0);
      expect(new Set(list).size).toBe(list.length);
    }
  });

  it.each(['application', 'delegated'] as const)('every %s permission serves an operation for which Microsoft lists it (nothing granted for nothing)', (signIn) => {
    const unlisted: string[] = [];
    for (const name of granted[signIn]) {
      const operations = granted.operations?.[name] ?? [];
      if (operations.length === 0) unlisted.push(`${name}: no operation in "operations"`);
      for (const operation of operations) {
        const { method, url } = sampleUrl(operation);
        const listed = map.lookup(method, url, signIn).permissions.map((p) => p.name);
        if (!listed.includes(name)) unlisted.push(`${name} is not listed for ${operation} (${signIn}); Microsoft lists ${listed.join(', ') || 'nothing'}`);
      }
    }
    expect(unlisted).toEqual([]);
  });

  it("closes every gap of issue 11's table with a permission Microsoft lists for the operation", () => {
    const gaps = [
      'GET /admin/teams/userConfigurations/{id}',
      'GET /subscribedSkus',
      'GET /users/{id}/memberOf',
      'GET /groups',
      'POST /users/{id}/teamwork/installedApps',
      'PATCH /teams/{id}',
      'POST /users/{id}/revokeSignInSessions',
      'PATCH /users/{id}',
    ];
    const problems = checkGraphPermissions(gaps.map((op) => ({ ...sampleUrl(op), signIn: 'application' as const })), granted, map);
    expect(problems.map((p) => p.message)).toEqual([]);
    // The least-privileged ones, not merely ones that work.
    expect(granted.application).toEqual(
      expect.arrayContaining(['TeamsUserConfiguration.Read.All', 'LicenseAssignment.Read.All', 'Group.ReadBasic.All', 'TeamsAppInstallation.ReadWriteSelfForUser.All', 'User.RevokeSessions.All']),
    );
    expect(granted.application).not.toEqual(expect.arrayContaining(['Directory.Read.All']));
    expect(granted.application).not.toEqual(expect.arrayContaining(['Directory.ReadWrite.All']));
  });

  it('covers, signed in as an admin (device code), every operation the provisioning and enforcement commands send', () => {
    // Meetings and app installation run only in the server, which signs in with client credentials.
    const serverOnly = new Set(['POST /users/{id}/onlineMeetings', 'POST /users/{id}/teamwork/installedApps']);
    const operations = [...new Set(Object.values(granted.operations ?? {}).flat())].filter((op) => !serverOnly.has(op));
    const problems = checkGraphPermissions(operations.map((op) => ({ ...sampleUrl(op), signIn: 'delegated' as const })), granted, map);
    expect(problems.map((p) => p.message)).toEqual([]);
  });

  it('the README table is the one made from the file', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(graphPermissionsTable(granted));
    expect(Object.keys(PERMISSION_PURPOSES).sort()).toEqual([...new Set([...granted.application, ...granted.delegated])].sort());
  });
});

describe('the permission check', () => {
  it('says exactly which permission to add, and to which list, when an operation has none', () => {
    const without = { ...granted, application: granted.application.filter((p) => p !== 'User.RevokeSessions.All' && p !== 'User.ReadWrite.All') };
    const [problem, ...rest] = checkGraphPermissions([{ method: 'POST', url: `${GRAPH}/users/${ID}/revokeSignInSessions`, signIn: 'application' }], without, map);

    expect(rest).toEqual([]);
    expect(problem?.message).toMatch(/^POST \/users\/\{id\}\/revokeSignInSessions \(application\) runs without a permission Microsoft lists for it: add "User\.RevokeSessions\.All" to "application" in infra\/graph-permissions\.json/i);
  });

  it('does not count a permission the map does not list for the operation (LicenseAssignment.ReadWrite.All for /subscribedSkus)', () => {
    const onlyReadWrite = { application: ['LicenseAssignment.ReadWrite.All'], delegated: [] };
    const problems = checkGraphPermissions([{ method: 'GET', url: `${GRAPH}/subscribedSkus?$select=skuId`, signIn: 'application' }], onlyReadWrite, map);

    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('add "LicenseAssignment.Read.All" to "application"')]);
  });

  it('unpacks batches, reads functions, keys and $ref the way the map files them, and checks the right sign-in mode', () => {
    const batch = {
      method: 'POST',
      url: `${GRAPH}/$batch`,
      body: {
        requests: [
          { id: '1', method: 'GET', url: "/admin/teams/policy/getPolicyId(type='TeamsMessagingPolicy',name='EduStudent-ChatOff')" },
          { id: '2', method: 'DELETE', url: `/groups/${ID}/members/${ID}/$ref` },
          { id: '3', method: 'POST', url: `/users/${ID}/onlineMeetings`, body: {} },
        ],
      },
    };
    expect(map.lookup('GET', "/admin/teams/policy/microsoft.graph.teamsAdministration.getPolicyId(type='a',name='b')", 'application').operation.path).toBe('/admin/teams/policy/getPolicyId');
    expect(map.lookup('DELETE', `/groups/${ID}/members/${ID}/$ref`, 'application').permissions.map((p) => p.name)).toContain('GroupMember.ReadWrite.All');

    expect(checkGraphPermissions([{ ...batch, signIn: 'application' }], granted, map)).toEqual([]);
    // Delegated, the meeting needs OnlineMeetings.ReadWrite, which the admin's sign-in does not hold: the server never does this delegated.
    expect(checkGraphPermissions([{ ...batch, signIn: 'delegated' }], granted, map).map((p) => p.message)).toEqual([expect.stringContaining('add "OnlineMeetings.ReadWrite" to "delegated"')]);
  });

  it("uses the docs page's permission where Microsoft's map lacks the operation, and otherwise says to find one", () => {
    const addMember = map.lookup('POST', `${GRAPH}/groups/${ID}/members/$ref`, 'application');
    expect(addMember.docs).toBe(DOCUMENTED_PERMISSIONS['POST /groups/{id}/members/$ref']?.docs);
    expect(addMember.permissions).toEqual([{ name: 'GroupMember.ReadWrite.All', leastPrivileged: true }]);

    const [unknown] = checkGraphPermissions([{ method: 'POST', url: `${GRAPH}/users/${ID}/madeUpAction`, signIn: 'application' }], granted, map);
    expect(unknown?.message).toMatch(/lists no application permission for it\. Find the least-privileged permission on the operation's Microsoft Learn page/);
  });

  it('tells a delegated token from an application one by its claims', () => {
    expect(signInOf(`Bearer ${tokenFor('delegated')}`)).toBe('delegated');
    expect(signInOf(`Bearer ${tokenFor('application')}`)).toBe('application');
    expect(signInOf('Bearer test-token')).toBe('application');
    expect(signInOf(undefined, 'delegated')).toBe('delegated');
  });

  it('an admin signed in with device code can run the audit and leaver calls (checked after this file as delegated requests)', async () => {
    const fake = new GraphFake();
    fake.intercept();
    fake.seedSchool();
    const user = fake.addUser({ userPrincipalName: '21samp@school.example' });
    const { gateway } = createGatewayForFake({ accessToken: tokenFor('delegated') });

    await gateway.listSubscribedSkus();
    await gateway.getUserStates([user.id]);
    await gateway.findSecurityGroups(['Pupils']);
    await gateway.getTeamsUserConfigurations([user.id]);
    await gateway.setAccountEnabled([{ userId: user.id, accountEnabled: false }]);
    await gateway.revokeSignInSessions([user.id]);

    expect(fake.authorizations.every((a) => signInOf(a) === 'delegated')).toBe(true);
    expect(fake.users.get(user.id)?.accountEnabled).toBe(false);
  });
});
