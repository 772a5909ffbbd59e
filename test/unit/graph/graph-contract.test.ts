import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGraphContract, EXTENDED_SPEC, REPO_ROOT, SHARED_CONTRACT_DIR } from '../../support/graph-contract';

type Spec = { paths: Record<string, Record<string, unknown>> };

describe('Graph contract check', () => {
  it('reports the inner request Graph would refuse, not just the batch around it', async () => {
    const check = await checkGraphContract([
      {
        method: 'POST',
        url: 'https://graph.microsoft.com/v1.0/$batch',
        body: {
          requests: [
            { id: '1', method: 'POST', url: '/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/assignLicense', headers: { 'Content-Type': 'application/json' }, body: { addLicenses: [] } },
            { id: '2', method: 'POST', url: '/groups/b320ee12-b1cd-4cca-b648-a437be61c5cd/members/$ref', body: { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/87d349ed-44d7-43e1-9a83-5f2406dee5bd' } },
          ],
        },
      },
    ]);

    expect(check.errors).toEqual([
      "[id=1] ERROR POST /users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/assignLicense [/users/{user-id}/assignLicense] — missing required '/removeLicenses'",
      '[id=2] ERROR POST /groups/b320ee12-b1cd-4cca-b648-a437be61c5cd/members/$ref [/groups/{group-id}/members/$ref] — inner request has a body but no Content-Type header (required by JSON batching)',
    ]);
  });

  it('checks the operations the shared subset lacks against the extended spec', async () => {
    const records = [
      { method: 'POST', url: 'https://graph.microsoft.com/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/revokeSignInSessions' },
      { method: 'GET', url: 'https://graph.microsoft.com/v1.0/groups/b320ee12-b1cd-4cca-b648-a437be61c5cd/members?$select=id' },
      { method: 'GET', url: 'https://graph.microsoft.com/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/memberOf?$select=id' },
    ];

    expect((await checkGraphContract(records)).errors).toEqual([]);
    expect((await checkGraphContract(records, { spec: join(SHARED_CONTRACT_DIR, 'graph-subset.json') })).errors).toHaveLength(3);
  });

  it("the extended spec is exactly what gen-subset.mjs makes of Microsoft's metadata, and keeps every shared path", () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-subset-'));
    try {
      const out = join(dir, 'extended.json');
      const run = spawnSync(process.execPath, [join(REPO_ROOT, 'test', 'contract', 'generate-graph-subset.mjs'), '--out', out], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(run.stderr).toMatch(/3 operations added/);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(EXTENDED_SPEC, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const shared = JSON.parse(readFileSync(join(SHARED_CONTRACT_DIR, 'graph-subset.json'), 'utf8')) as Spec;
    const extended = JSON.parse(readFileSync(EXTENDED_SPEC, 'utf8')) as Spec;
    for (const [path, item] of Object.entries(shared.paths)) expect(extended.paths[path]).toEqual(item);
    expect(Object.keys(extended.paths).filter((p) => !(p in shared.paths)).sort()).toEqual([
      '/groups/{group-id}/members',
      '/users/{user-id}/memberOf',
      '/users/{user-id}/revokeSignInSessions',
    ]);
  });
});
