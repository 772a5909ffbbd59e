import { pupilProvisioningSettings } from '../../support/school-settings';
import { createMemoryLogger } from '../../../infra/logger';
import type { PupilRecord } from '../../../records/pupil-register-store';
import { readRollCsv } from '../../../school/pupil-roll';
import { applyProvisioning, planProvisioning, type ProvisioningDependencies } from '../../../usecases/provision-pupils';
import { createGatewayForFake, GraphFake, useOfflineNetwork } from '../../support/graph-fake';

useOfflineNetwork();

/** The register, in memory. */
class MemoryRegister {
  readonly rows = new Map<string, PupilRecord>();
  async listPupils(): Promise<PupilRecord[]> {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  async savePupils(_schoolId: string, records: readonly PupilRecord[]): Promise<void> {
    for (const r of records) this.rows.set(r.externalId, structuredClone(r));
  }
}

function setup(): { deps: ProvisioningDependencies; register: MemoryRegister } {
  const fake = new GraphFake({ seed: 11 });
  fake.seedSchool();
  fake.intercept();
  const register = new MemoryRegister();
  const deps: ProvisioningDependencies = {
    schoolId: 'oakfield',
    register,
    audit: { appendAudit: async () => undefined, appendAudits: async () => undefined },
    gateway: createGatewayForFake().gateway,
    settings: pupilProvisioningSettings('oakfield.example'),
    actorId: 'admin-1',
    clock: () => new Date('2026-09-07T09:00:00Z'),
    logger: createMemoryLogger(),
  };
  return { deps, register };
}

const apply = (deps: ProvisioningDependencies, csv: string) =>
  applyProvisioning(deps, { roll: readRollCsv(csv), academicYearStart: 2026, deliverSlips: async () => undefined });

const birthDates = (register: MemoryRegister) => Object.fromEntries([...register.rows.values()].map((r) => [r.externalId, r.dateOfBirth]));

describe('provisioning with a date of birth column', () => {
  it('writes each pupil’s date of birth to the register, and leaves it unset where the roll has none', async () => {
    const { deps, register } = setup();
    await apply(deps, ['Adno,Forename,Surname,Year,DOB', 'A1,Ada,Testpupil,3,14/03/2017', 'A2,Bea,Testpupil,4,'].join('\n'));
    expect(birthDates(register)).toEqual({ A1: '2017-03-14', A2: undefined });
  });

  it('when a later roll adds or corrects a date of birth, plans a register update and saves it', async () => {
    const { deps, register } = setup();
    await apply(deps, 'Adno,Forename,Surname,Year\nA1,Ada,Testpupil,3\nA2,Bea,Testpupil,4\n');
    const later = ['Adno,Forename,Surname,Year,Date of Birth', 'A1,Ada,Testpupil,3,2017-03-14', 'A2,Bea,Testpupil,4,'].join('\n');

    const plan = await planProvisioning(deps, { roll: readRollCsv(later), academicYearStart: 2026 });
    expect(plan.rows.map((r) => [r.externalId, r.action])).toEqual([
      ['A1', 'update'],
      ['A2', 'unchanged'],
    ]);
    await apply(deps, later);
    expect(birthDates(register)).toEqual({ A1: '2017-03-14', A2: undefined });

    await apply(deps, ['Adno,Forename,Surname,Year,Date of Birth', 'A1,Ada,Testpupil,3,15/03/2017', 'A2,Bea,Testpupil,4,'].join('\n'));
    expect(birthDates(register)).toEqual({ A1: '2017-03-15', A2: undefined });
  });

  it('when a later roll has no date of birth column, keeps the date an earlier roll gave', async () => {
    const { deps, register } = setup();
    await apply(deps, 'Adno,Forename,Surname,Year,DOB\nA1,Ada,Testpupil,3,14/03/2017\n');
    const plan = await planProvisioning(deps, { roll: readRollCsv('Adno,Forename,Surname,Year\nA1,Ada,Testpupil,3\n'), academicYearStart: 2026 });
    expect(plan.rows.map((r) => [r.externalId, r.action])).toEqual([['A1', 'unchanged']]);
    await apply(deps, 'Adno,Forename,Surname,Year\nA1,Ada,Testpupil,3\n');
    expect(birthDates(register)).toEqual({ A1: '2017-03-14' });
  });
});
