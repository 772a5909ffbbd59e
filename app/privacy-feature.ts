import type { FeatureContext, FeatureFactory } from './feature';
import type { AppConfig } from './config';
import { createTabTokenValidator } from './tab-feature';
import { consentRecordSource } from './consent-feature';
import { trainingRecordSource } from './subject-access-sources';
import { AupStore } from '../records/aup-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import type { PrivacyNoticeFacts, PrivacySettings } from '../school/privacy-notice';
import { registerPublicPages } from '../tab/server/public-pages';
import { registerSubjectAccessRoutes, signedInApi } from '../tab/server/subject-access-routes';
import type { SubjectAccessDependencies } from '../usecases/subject-access';

/** Used only when a config was built without `dataProtection` (tests that assemble one by hand). */
const NO_PRIVACY_SETTINGS: PrivacySettings = { controllerName: undefined, address: undefined, contactEmail: undefined, icoRegistrationNumber: undefined, dpo: undefined, localAuthority: undefined };

/** What the privacy notice is generated from, for one school (a trust's notice lists its schools). */
export function privacyNoticeFacts(config: AppConfig): Omit<PrivacyNoticeFacts, 'today'> {
  return {
    schoolName: config.school.name,
    trustSchools: config.trust?.schools.map((s) => s.name) ?? [],
    settings: config.dataProtection ?? NO_PRIVACY_SETTINGS,
    retention: config.retention,
    leaverGraceDays: config.pupils.leaverGraceDays,
  };
}

/**
 * What a subject access pack is built from, for one school, training and consent registers included.
 */
export function subjectAccessDependencies(context: FeatureContext): SubjectAccessDependencies {
  return {
    schoolId: context.config.school.id,
    schoolName: context.config.school.name,
    incidents: context.incidents,
    pupils: new PupilRegisterStore(context.tables),
    aup: new AupStore(context.tables),
    audit: context.audit,
    roles: context.roles,
    conversations: context.conversations,
    consent: consentRecordSource(context),
    training: trainingRecordSource(context),
    clock: context.clock,
  };
}

/**
 * Data protection: the public privacy notice and terms of use that the Teams manifest links to, and the
 * DSL's or head's subject access export behind the tab's sign-in.
 */
export const privacyFeature: FeatureFactory = (context) => {
  const logger = context.logger.child({ feature: 'privacy' });
  const facts = privacyNoticeFacts(context.config);
  const sar = subjectAccessDependencies(context);
  return {
    name: 'privacy',
    routes: (server) => {
      registerPublicPages(server, { facts, logger, clock: context.clock });
      registerSubjectAccessRoutes(signedInApi(server, { validator: createTabTokenValidator(context.config), roles: context.roles, logger }), sar);
    },
    async startup() {
      if (!facts.settings.dpo) logger.warn('privacy.dpo-contact-missing', { setting: 'DPO_EMAIL' });
    },
  };
};
