import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, loadConfig, schoolConfigs } from '../../app/config';
import { loadCliConfig, takeSchoolOption } from '../../app/cli-support';

function schoolsFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'schools-')), 'schools.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigurationError).problems;
  }
}

const twoSchools = {
  schools: [
    { id: 'oakridge', name: 'Oakridge Primary', domain: 'Oakridge.example', rolesFile: 'config/oak.json', aupDocumentsDir: 'aup/oak' },
    { id: 'larchmoor', name: 'Larchmoor Primary', domain: 'larchmoor.example', rolesFile: 'config/larch.json' },
  ],
};

describe('SCHOOLS_FILE: one deployment for the schools of a trust', () => {
  it('gives each school its own id, name, domain, roles and AUP folder, sharing everything else', () => {
    const config = loadConfig({ SCHOOLS_FILE: schoolsFile(twoSchools), PUPIL_SKU: 'M365EDU_A3_STUDENT' });
    const [oak, larch] = schoolConfigs(config);
    expect(oak!.school).toEqual({ id: 'oakridge', name: 'Oakridge Primary', domain: 'oakridge.example', responseMatrixFile: undefined, repeatIncidentThreshold: 3 });
    expect(oak!.roles.file).toBe('config/oak.json');
    expect(oak!.aup.documentsDir).toBe('aup/oak');
    expect(larch!.school.id).toBe('larchmoor');
    expect(larch!.roles.file).toBe('config/larch.json');
    expect(larch!.aup.documentsDir).toBe('aup');
    expect(larch!.pupils.skuPartNumber).toBe('M365EDU_A3_STUDENT');
    expect(larch!.tables).toBe(oak!.tables);
  });

  it('without it, there is exactly one school, from the SCHOOL_* settings', () => {
    const configs = schoolConfigs(loadConfig({ SCHOOL_ID: 'solo' }));
    expect(configs.map((c) => c.school.id)).toEqual(['solo']);
  });

  it('lists every problem in the file, naming the school', () => {
    const problems = problemsOf({
      SCHOOLS_FILE: schoolsFile({ schools: [{ id: 'Bad Id', name: 'X', domain: 'x.example', rolesFile: 'r.json' }, { id: 'dup', domain: 'd.example', rolesFile: 'r.json' }, { id: 'dup', name: 'D', domain: 'd.example' }] }),
    });
    expect(problems).toEqual([
      'SCHOOLS_FILE school 1 ("Bad Id"): "id" must be lower-case letters, digits and hyphens.',
      'SCHOOLS_FILE school 2 ("dup"): "name" is required (it is shown on cards and slips).',
      'SCHOOLS_FILE school 3 ("dup"): the id "dup" is used twice; each school\'s records are kept under its own id.',
      'SCHOOLS_FILE school 3 ("dup"): "rolesFile" is required with ROLES_SOURCE=file, so that each school has its own people.',
    ]);
    expect(problemsOf({ SCHOOLS_FILE: schoolsFile('{ not json') })[0]).toMatch(/could not be read as JSON/);
    expect(problemsOf({ SCHOOLS_FILE: schoolsFile({ schools: [] }) })).toEqual(['SCHOOLS_FILE must be a JSON object with a non-empty "schools" list.']);
  });

  it('with roles from Entra groups, needs each school\'s own groups', () => {
    const problems = problemsOf({
      SCHOOLS_FILE: schoolsFile({ schools: [{ id: 'oak', name: 'Oak', domain: 'oak.example', roleGroups: { staff: 'Oak Staff', coordinator: 'Oak Coord', dsl: 'Oak DSL', wizard: 'x' } }] }),
      ROLES_SOURCE: 'graph',
      GRAPH_MODE: 'live',
      GRAPH_TENANT_ID: 't',
      GRAPH_CLIENT_ID: 'c',
      SECRET_GRAPH_CLIENT_SECRET: 's',
    });
    expect(problems).toEqual(['SCHOOLS_FILE school 1 ("oak"): "roleGroups" has an unknown role "wizard".', 'SCHOOLS_FILE school 1 ("oak"): "roleGroups.headteacher" is required with ROLES_SOURCE=graph.']);
  });

  it('a command-line tool must be told which school with --school', () => {
    const env = { SCHOOLS_FILE: schoolsFile(twoSchools) };
    const errors: string[] = [];
    const io = { env, stderr: { write: (text: string) => errors.push(text) } };
    expect(loadCliConfig(io)).toBeUndefined();
    expect(errors.pop()).toMatch(/lists 2 schools: say which one with --school ID \(oakridge, larchmoor\)/);
    expect(loadCliConfig(io, 'elmfield')).toBeUndefined();
    expect(errors.pop()).toMatch(/"elmfield" is not a school this deployment serves/);
    expect(loadCliConfig(io, 'larchmoor')?.school.domain).toBe('larchmoor.example');
    expect(takeSchoolOption(['plan', '--school', 'oak', '--csv', 'x.csv'])).toEqual({ argv: ['plan', '--csv', 'x.csv'], school: 'oak' });
    expect(takeSchoolOption(['audit', '--school=larch'])).toEqual({ argv: ['audit'], school: 'larch' });
  });
});
