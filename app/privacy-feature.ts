import type { FeatureFactory } from './feature';
import type { AppConfig } from './config';
import type { PrivacyNoticeFacts, PrivacySettings } from '../school/privacy-notice';
import { registerPublicPages } from '../tab/server/public-pages';

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

/** Data protection: the public privacy notice and terms of use that the Teams manifest links to. */
export const privacyFeature: FeatureFactory = (context) => {
  const logger = context.logger.child({ feature: 'privacy' });
  const facts = privacyNoticeFacts(context.config);
  return {
    name: 'privacy',
    routes: (server) => registerPublicPages(server, { facts, logger, clock: context.clock }),
    async startup() {
      if (!facts.settings.dpo) logger.warn('privacy.dpo-contact-missing', { setting: 'DPO_EMAIL' });
    },
  };
};
