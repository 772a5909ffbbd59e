import type { AppServices } from '../../../app/compose';
import type { AppFeature } from '../../../app/feature';
import { SchoolRouter } from '../../../app/school-router';
import { startServer } from '../../../app/server';
import { newUser } from '../../support/teams-activities';
import { startTestApp } from '../../support/test-app';

describe('start-up checks in a trust', () => {
  it('a check keyed to the tenant runs once for 50 schools, and an unkeyed one once per school', async () => {
    const app = await startTestApp({ roles: { staff: [newUser('Teacher')] }, overrides: { features: [] } });
    let tenantChecks = 0;
    let schoolChecks = 0;
    const features = (): AppFeature[] => [
      { name: 'teams-policies', startupKey: 'teams-policies|tenant-1|ChatOff|NoMeetings', startup: async () => void tenantChecks++ },
      { name: 'per-school', startup: async () => void schoolChecks++ },
    ];
    const schools: AppServices[] = Array.from({ length: 50 }, (_, i) => ({ ...app.services, config: { ...app.services.config, school: { ...app.services.config.school, id: `school-${i}` } }, features: features() }));
    const running = await startServer({ schools, router: new SchoolRouter(schools, { validate: async () => ({ ok: false, reason: 'none' }) }) }, { port: 0, host: '127.0.0.1', alertSweepMs: 3_600_000 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(tenantChecks).toBe(1);
      expect(schoolChecks).toBe(50);
    } finally {
      await running.close();
      await app.close();
    }
  });
});
