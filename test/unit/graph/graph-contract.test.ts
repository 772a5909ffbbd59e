import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkGraphContract, EXTENDED_SPEC, REPO_ROOT } from '../../support/graph-contract';

const USER = '87d349ed-44d7-43e1-9a83-5f2406dee5bd';
const GROUP = 'b320ee12-b1cd-4cca-b648-a437be61c5cd';
const schemaOnly = { permissions: false } as const;

describe('Graph contract check (schema)', () => {
  it('reports the inner request Graph would refuse, not just the batch around it', async () => {
    const check = await checkGraphContract(
      [
        {
          method: 'POST',
          url: 'https://graph.microsoft.com/v1.0/$batch',
          body: {
            requests: [
              { id: '1', method: 'POST', url: `/users/${USER}/assignLicense`, headers: { 'Content-Type': 'application/json' }, body: { addLicenses: [] } },
              { id: '2', method: 'POST', url: `/groups/${GROUP}/members/$ref`, body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${USER}` } },
            ],
          },
        },
      ],
      schemaOnly,
    );

    expect(check.errors).toEqual([
      `POST /users/${USER}/assignLicense (request 1 of a $batch): missing required '/removeLicenses'`,
      `POST /groups/${GROUP}/members/$ref (request 2 of a $batch): an inner request with a body needs a Content-Type header (JSON batching)`,
    ]);
  });

  it('accepts the requests the gateway sends, in both the qualified and the short form Graph accepts', async () => {
    const check = await checkGraphContract(
      [
        { method: 'POST', url: `https://graph.microsoft.com/v1.0/users/${USER}/revokeSignInSessions` },
        { method: 'GET', url: `https://graph.microsoft.com/v1.0/groups/${GROUP}/members?$select=id&$top=999` },
        { method: 'GET', url: `https://graph.microsoft.com/v1.0/users/${USER}/memberOf?$select=id` },
        { method: 'GET', url: "https://graph.microsoft.com/v1.0/admin/teams/policy/getPolicyId(type=%27TeamsMessagingPolicy%27,name=%27EduStudent-ChatOff%27)" },
        { method: 'POST', url: 'https://graph.microsoft.com/v1.0/admin/teams/policy/userAssignments/assign', body: { value: [{ userId: USER, policyType: 'TeamsMessagingPolicy', policyId: GROUP }] } },
        { method: 'PATCH', url: `https://graph.microsoft.com/v1.0/users/${USER}`, body: { accountEnabled: false } },
      ],
      schemaOnly,
    );

    expect(check.errors).toEqual([]);
  });

  it('refuses unknown paths and methods, wrong types, a foreign @odata.type, versions inside a batch and oversized batches', async () => {
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: `/users/${USER}` }));
    const check = await checkGraphContract(
      [
        { method: 'GET', url: `https://graph.microsoft.com/v1.0/users/${USER}/madeUpThing` },
        { method: 'PUT', url: `https://graph.microsoft.com/v1.0/users/${USER}` },
        { method: 'PATCH', url: `https://graph.microsoft.com/v1.0/users/${USER}`, body: { accountEnabled: 'no' } },
        { method: 'POST', url: 'https://graph.microsoft.com/v1.0/groups', body: { '@odata.type': '#microsoft.graph.user', displayName: 'x', mailEnabled: false, mailNickname: 'x', securityEnabled: true } },
        { method: 'GET', url: '/users' },
        { method: 'POST', url: 'https://graph.microsoft.com/v1.0/$batch', body: { requests: [{ id: '1', method: 'GET', url: `/v1.0/users/${USER}` }] } },
        { method: 'POST', url: 'https://graph.microsoft.com/v1.0/$batch', body: { requests } },
      ],
      schemaOnly,
    );

    expect(check.errors).toEqual([
      `GET https://graph.microsoft.com/v1.0/users/${USER}/madeUpThing: no operation in Microsoft's description of Graph v1.0 has the path '/users/${USER}/madeUpThing'`,
      `PUT https://graph.microsoft.com/v1.0/users/${USER}: PUT is not an operation of /users/{user-id} (it has GET, PATCH, DELETE)`,
      `PATCH https://graph.microsoft.com/v1.0/users/${USER}: /accountEnabled: expected boolean or null, got string`,
      "POST https://graph.microsoft.com/v1.0/groups: (body): @odata.type '#microsoft.graph.user' is not microsoft.graph.group or one of its subtypes",
      "GET /users: '/users' has no /v1.0 or /beta version",
      `GET /v1.0/users/${USER} (request 1 of a $batch): a batch's inner URL must not repeat the version (/v1.0): '/v1.0/users/${USER}'`,
      'POST https://graph.microsoft.com/v1.0/$batch: batch envelope /requests: must NOT have more than 20 items',
    ]);
  });

  it('the extended spec carries its provenance and the three operations added to the shared subset', () => {
    const spec = JSON.parse(readFileSync(EXTENDED_SPEC, 'utf8')) as { info: Record<string, unknown>; paths: Record<string, unknown> };
    expect(spec.info['x-source']).toMatchObject({ repository: 'github.com/microsoftgraph/msgraph-metadata', commit: 'f54f11b60956ea7b185ca0447b2b80805836ec7b' });
    expect(spec.info['x-extra-operations']).toEqual(['POST /users/{user-id}/revokeSignInSessions', 'GET /users/{user-id}/memberOf', 'GET /groups/{group-id}/members']);
    for (const path of ['/users/{user-id}/revokeSignInSessions', '/users/{user-id}/memberOf', '/groups/{group-id}/members']) expect(spec.paths).toHaveProperty([path]);
  });

  it('nothing the tests need lives outside the repository', () => {
    const files = ['jest.config.js', 'package.json', 'test/support/graph-contract.ts', 'test/contract/graph-openapi-check.ts', 'test/contract/graph-permission-check.ts'];
    const outside = new RegExp(`\\.\\./${'shar'}ed|'\\.\\.', '${'shar'}ed'`);
    for (const file of files) expect(readFileSync(join(REPO_ROOT, file), 'utf8')).not.toMatch(outside);
  });
});
