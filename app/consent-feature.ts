import type { FeatureContext, FeatureFactory } from './feature';
import { createTabTokenValidator } from './tab-feature';
import { createConsentBotFeature } from '../bot/consent-handlers';
import { ConsentStore } from '../records/consent-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { registerConsentRoutes } from '../tab/server/consent-routes';
import { signedInApi } from '../tab/server/subject-access-routes';
import type { ConsentDependencies } from '../usecases/consent-register';
import { consentRowsForPupil } from '../usecases/consent-register';
import { deleteLeaversConsent } from '../usecases/consent-retention';
import type { PersonRecordSource } from '../usecases/subject-access';
import type { PupilPickerDependencies } from '../usecases/pupil-picker';

/** The consent register's dependencies for one school. */
export function consentDependencies(context: Pick<FeatureContext, 'config' | 'tables' | 'audit' | 'clock'>): ConsentDependencies {
  return { schoolId: context.config.school.id, store: new ConsentStore(context.tables), pupils: new PupilRegisterStore(context.tables), audit: context.audit, clock: context.clock };
}

/** A pupil's consent chronology for the subject access pack (staff have none: the pack says so). */
export function consentRecordSource(context: Pick<FeatureContext, 'tables'>): PersonRecordSource {
  const store = new ConsentStore(context.tables);
  return async (schoolId, person) => (person.kind === 'pupil' ? consentRowsForPupil({ store }, schoolId, person.pupilId) : []);
}

/**
 * Photo and video consent: `/consent` in the bot for staff, and the register in the tab for the coordinator,
 * DSL, head and IT admin (forms, withdrawals, history, coverage). A job deletes a leaver's consent once the leavers
 * run has deleted their account, as the privacy notice says; every instance runs it, and a second deletion finds nothing.
 */
export const consentFeature: FeatureFactory = (context) => {
  const consent = consentDependencies(context);
  const picker: PupilPickerDependencies = { schoolId: consent.schoolId, pupils: new PupilRegisterStore(context.tables), audit: context.audit };
  const logger = context.logger.child({ feature: 'consent' });
  return {
    name: 'consent',
    bot: createConsentBotFeature({ consent, picker }),
    jobs: [
      {
        name: 'consent.delete-leavers',
        everyMs: 6 * 60 * 60_000,
        run: async () => {
          const deps = { schoolId: consent.schoolId, store: new ConsentStore(context.tables), pupils: new PupilRegisterStore(context.tables), audit: context.audit, clock: context.clock };
          const { pupils, rows } = await deleteLeaversConsent(deps);
          if (pupils > 0) logger.info('consent.leavers-deleted', { pupils, rows });
        },
      },
    ],
    routes: (server) => registerConsentRoutes(signedInApi(server, { validator: createTabTokenValidator(context.config), roles: context.roles, logger }), { ...consent, picker }),
  };
};

