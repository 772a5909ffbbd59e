import { AuditStore } from '../../../records/audit-store';
import { ProvisioningRunStore } from '../../../records/provisioning-run-store';
import { Tables } from '../../../records/tables';
import { withProvisioningLease } from '../../../usecases/provisioning-lease';
import { testTablesConnectionString, uniqueSchoolId } from '../../support/tables';

const LEASE_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the provisioning lease and its heartbeat', () => {
  const tables = new Tables({ connectionString: testTablesConnectionString() });
  const runs = new ProvisioningRunStore(tables);
  const deps = (schoolId: string) => ({ schoolId, runs, audit: new AuditStore(tables), leaseMs: LEASE_MS, clock: () => new Date() });

  it('a live run keeps its lease for longer than the lease lasts, and gives it back at the end', async () => {
    const schoolId = uniqueSchoolId('lease');
    let refusedMidRun = false;
    const outcome = await withProvisioningLease(deps(schoolId), { runId: 'live-run', actorId: 'admin' }, async (signal) => {
      await sleep(LEASE_MS * 3);
      refusedMidRun = !(await runs.acquireLease(schoolId, { runId: 'second', actorId: 'other' }, new Date(), LEASE_MS)).acquired;
      return signal.aborted;
    });
    expect(outcome).toEqual({ kind: 'done', value: false });
    expect(refusedMidRun).toBe(true);
    expect((await runs.acquireLease(schoolId, { runId: 'after', actorId: 'other' }, new Date(), LEASE_MS)).acquired).toBe(true);
  });

  it('when an admin takes the lease over, the old run is told to stop at its next step', async () => {
    const schoolId = uniqueSchoolId('lease');
    const outcome = await withProvisioningLease(deps(schoolId), { runId: 'old-run', actorId: 'admin' }, async (signal) => {
      await runs.takeOverLease(schoolId, 'old-run', { runId: 'new-run', actorId: 'head' }, new Date(), 60_000);
      for (let i = 0; i < 40 && !signal.aborted; i++) await sleep(LEASE_MS / 4);
      return signal.aborted;
    });
    expect(outcome).toEqual({ kind: 'done', value: true });
    // The old run did not release the new holder's lease on its way out.
    expect((await runs.acquireLease(schoolId, { runId: 'third', actorId: 'x' }, new Date(), LEASE_MS)).acquired).toBe(false);
  });
});
