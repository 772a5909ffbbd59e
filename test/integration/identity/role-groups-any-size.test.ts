import { randomUUID } from 'node:crypto';
import { CachedMembershipIndex, GraphRoleDirectory, type GroupMembersReader } from '../../../identity/role-directory';
import { RoleCacheStore } from '../../../records/role-cache-store';
import { StorageRoundTripCounter } from '../../../records/storage-round-trips';
import { Tables } from '../../../records/tables';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

class CountingReader implements GroupMembersReader {
  calls = 0;
  constructor(private readonly groups: Record<string, string[]>) {}
  async listGroupMemberIdsByName(name: string): Promise<string[]> {
    this.calls++;
    return [...(this.groups[name] ?? [])];
  }
}

describe('role groups of any size, and the person → schools index', () => {
  const counter = new StorageRoundTripCounter();
  const tables = new Tables({ connectionString: testTablesConnectionString(), policies: [counter.policy] });
  const cache = new RoleCacheStore(tables);
  const now = new Date('2026-03-02T09:00:00Z');

  it('caches a 5,000-member staff group and answers for its last member, with a few storage reads per question', async () => {
    const staff = Array.from({ length: 5_000 }, () => randomUUID());
    const schoolId = uniqueSchoolId('bigroles');
    const reader = new CountingReader({ 'SG-Staff': staff, 'SG-DSL': [staff[4_999]!] });
    const directory = () => new GraphRoleDirectory({ schoolId, groups: { staff: 'SG-Staff', dsl: 'SG-DSL' }, reader, cache, cacheMinutes: 10, clock: () => now });

    expect(await directory().listRoleMembers('staff')).toHaveLength(5_000);
    const first = await directory().getPrincipal(staff[4_999]!.toUpperCase());
    expect([...first.roles].sort()).toEqual(['dsl', 'staff']);
    expect(reader.calls).toBe(2);

    // A second instance: everything from the cache, and each later question is one read of the index.
    const other = directory();
    await other.getPrincipal(staff[0]!);
    const before = counter.snapshot();
    const principal = await other.getPrincipal(staff[2_500]!);
    expect([...principal.roles]).toEqual(['staff']);
    expect(counter.since(before).total).toBe(1);
    expect(reader.calls).toBe(2);
    expect((await cache.getRoleMembers(schoolId, 'staff'))?.memberIds).toEqual(staff.map((id) => id.toLowerCase()));
    // 5,000 index rows, one partition each, so no batching: Azurite serialises them at ~2 ms apiece (about 11 s
    // alone), and on a loaded CI machine with other suites running that has passed 30 s.
  }, 180_000);

  it('when a group shrinks, the index forgets the people who left, and a refresh leaves no old rows behind', async () => {
    const schoolId = uniqueSchoolId('bigroles');
    const [stays, leaves] = [randomUUID(), randomUUID()];
    await cache.setRoleMembers(schoolId, 'staff', [stays, leaves], now);
    await cache.setRoleMembers(schoolId, 'staff', [stays], new Date(now.getTime() + 60_000));
    expect((await cache.getRoleMembers(schoolId, 'staff'))?.memberIds).toEqual([stays]);
    expect(await cache.getMemberships(leaves)).toEqual([]);
    expect(await cache.getMemberships(stays)).toEqual([{ schoolId, role: 'staff' }]);
  });

  it('finds a person’s schools among 50 with one storage read', async () => {
    const person = randomUUID();
    const schools = Array.from({ length: 50 }, () => uniqueSchoolId('trust'));
    await Promise.all(schools.map((schoolId, i) => cache.setRoleMembers(schoolId, 'staff', i % 10 === 3 ? [person, randomUUID()] : [randomUUID()], now)));
    const index = new CachedMembershipIndex(cache);
    const before = counter.snapshot();
    const found = await index.schoolsOf(person);
    expect(counter.since(before).total).toBe(1);
    expect(found.sort()).toEqual(schools.filter((_, i) => i % 10 === 3).sort());
  });
});
