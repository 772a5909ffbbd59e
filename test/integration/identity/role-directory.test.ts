import { FileRoleDirectory, GraphRoleDirectory, parseRolesFile, type GroupMembersReader } from '../../../identity/role-directory';
import { RoleCacheStore } from '../../../records/role-cache-store';
import { Tables } from '../../../records/tables';
import type { Role } from '../../../school/roles';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

/** Group members by display name; counts every call, as Graph would be called. */
class FakeGroupMembersReader implements GroupMembersReader {
  readonly calls: string[] = [];
  constructor(public members: Record<string, string[]>) {}

  async listGroupMemberIdsByName(displayName: string): Promise<string[]> {
    this.calls.push(displayName);
    return [...(this.members[displayName] ?? [])];
  }
}

const groups: Partial<Record<Role, string>> = {
  staff: 'SG-Staff',
  coordinator: 'SG-ESafety-Coordinator',
  dsl: 'SG-DSL',
  headteacher: 'SG-Head',
};

function newCache(): RoleCacheStore {
  return new RoleCacheStore(new Tables({ connectionString: testTablesConnectionString() }));
}

function roleNames(principal: { roles: ReadonlySet<Role> }): Role[] {
  return [...principal.roles].sort();
}

describe('parseRolesFile', () => {
  it('when the file is good, lower-cases every id', () => {
    expect(parseRolesFile({ staff: ['AAAA-1', 'bbbb-2'], dsl: ['BBBB-2'] }, 'roles.json')).toEqual({ staff: ['aaaa-1', 'bbbb-2'], dsl: ['bbbb-2'] });
  });

  it.each([null, [], 'staff', 7])('when the file is not an object (%p), says what shape it must be', (input) => {
    expect(() => parseRolesFile(input, 'roles.json')).toThrow('roles.json must be a JSON object of role -> list of Entra object ids.');
  });

  it('when the file has several problems, names every one of them in one error', () => {
    let message = '';
    try {
      parseRolesFile({ teacher: ['a'], dsl: 'b', staff: ['ok', ''], chair: [3], coordinator: ['c'] }, 'roles.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('roles.json has problems');
    expect(message).toContain('"teacher" is not a role');
    expect(message).toContain('"dsl" must be a list of object ids');
    expect(message).toContain('"staff" must be a list of object ids');
    expect(message).toContain('"chair" must be a list of object ids');
    expect(message).not.toContain('coordinator"');
  });
});

describe('FileRoleDirectory', () => {
  const directory = new FileRoleDirectory(parseRolesFile({ staff: ['AAAA-1', 'bbbb-2'], dsl: ['bbbb-2'], governor: ['cccc-3'] }, 'roles.json'));

  it.each(['bbbb-2', 'BBBB-2', 'BbBb-2'])('when asked about "%s", matches the id whatever its case', async (id) => {
    const principal = await directory.getPrincipal(id);
    expect(principal.aadObjectId).toBe('bbbb-2');
    expect(roleNames(principal)).toEqual(['dsl', 'staff']);
  });

  it('when someone is in no role, returns them with no roles', async () => {
    expect(roleNames(await directory.getPrincipal('dddd-4'))).toEqual([]);
  });

  it('when asked for a role’s members, lists them; a role nobody holds is empty', async () => {
    expect(await directory.listRoleMembers('staff')).toEqual(['aaaa-1', 'bbbb-2']);
    expect(await directory.listRoleMembers('chair')).toEqual([]);
  });

  it('when a caller changes the list it was given, the directory is not changed', async () => {
    (await directory.listRoleMembers('staff')).push('intruder');
    expect(await directory.listRoleMembers('staff')).toEqual(['aaaa-1', 'bbbb-2']);
  });
});

describe('GraphRoleDirectory with the role cache on Azurite', () => {
  const cacheMinutes = 10;

  function setup(start = new Date('2026-03-02T09:00:00Z')) {
    const clock = { now: start };
    const reader = new FakeGroupMembersReader({
      'SG-Staff': ['AAAA-1', 'bbbb-2', 'cccc-3'],
      'SG-ESafety-Coordinator': ['aaaa-1'],
      'SG-DSL': ['bbbb-2'],
      'SG-Head': ['cccc-3'],
    });
    const schoolId = uniqueSchoolId('roles');
    const directory = (cache = newCache(), from = reader) => new GraphRoleDirectory({ schoolId, groups, reader: from, cache, cacheMinutes, clock: () => clock.now });
    return { clock, reader, schoolId, directory };
  }

  it('when a role’s members are read, asks Graph for the group by its configured name and lower-cases the ids', async () => {
    const { reader, directory } = setup();
    expect(await directory().listRoleMembers('staff')).toEqual(['aaaa-1', 'bbbb-2', 'cccc-3']);
    expect(reader.calls).toEqual(['SG-Staff']);
  });

  it('when a role has no group configured, returns nobody and never asks Graph', async () => {
    const { reader, directory } = setup();
    expect(await directory().listRoleMembers('chair')).toEqual([]);
    expect(reader.calls).toEqual([]);
  });

  it('when asked again within the cache period, answers from the cache without calling Graph', async () => {
    const { clock, reader, directory } = setup();
    const roles = directory();
    await roles.listRoleMembers('dsl');
    clock.now = new Date(clock.now.getTime() + cacheMinutes * 60_000 - 1000);
    reader.members['SG-DSL'] = ['new-dsl'];
    expect(await roles.listRoleMembers('dsl')).toEqual(['bbbb-2']);
    expect(reader.calls).toEqual(['SG-DSL']);
  });

  it('when the cache period has passed, calls Graph again and caches the new members', async () => {
    const { clock, reader, directory } = setup();
    const roles = directory();
    await roles.listRoleMembers('dsl');
    reader.members['SG-DSL'] = ['NEW-DSL'];
    clock.now = new Date(clock.now.getTime() + cacheMinutes * 60_000);
    expect(await roles.listRoleMembers('dsl')).toEqual(['new-dsl']);
    clock.now = new Date(clock.now.getTime() + 60_000);
    expect(await roles.listRoleMembers('dsl')).toEqual(['new-dsl']);
    expect(reader.calls).toEqual(['SG-DSL', 'SG-DSL']);
  });

  it('when two server instances share the cache, the second does not call Graph for what the first fetched', async () => {
    const { reader, directory } = setup();
    const otherReader = new FakeGroupMembersReader({});
    await directory(newCache(), reader).listRoleMembers('headteacher');
    expect(await directory(newCache(), otherReader).listRoleMembers('headteacher')).toEqual(['cccc-3']);
    expect(reader.calls).toEqual(['SG-Head']);
    expect(otherReader.calls).toEqual([]);
  });

  it('when two schools share the cache table, neither sees the other’s members', async () => {
    const first = setup();
    const second = setup();
    second.reader.members['SG-DSL'] = ['other-school-dsl'];
    await first.directory().listRoleMembers('dsl');
    expect(await second.directory().listRoleMembers('dsl')).toEqual(['other-school-dsl']);
  });

  it('when a principal is looked up, holds every role whose group lists them, whatever the case of the id', async () => {
    const { reader, directory } = setup();
    const roles = directory();
    expect(roleNames(await roles.getPrincipal('AAAA-1'))).toEqual(['coordinator', 'staff']);
    expect(roleNames(await roles.getPrincipal('cccc-3'))).toEqual(['headteacher', 'staff']);
    expect(roleNames(await roles.getPrincipal('stranger'))).toEqual([]);
    // Four configured groups, each fetched once across the three lookups.
    expect([...reader.calls].sort()).toEqual(['SG-DSL', 'SG-ESafety-Coordinator', 'SG-Head', 'SG-Staff']);
  });
});
