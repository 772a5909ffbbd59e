import { loadConfig, pupilProvisioningSettingsOf, type AppConfig } from '../../app/config';
import type { PupilProvisioningSettings } from '../../usecases/provision-pupils';

/** The pupil rules a school gets with no overrides: the defaults in app/config.ts, not a second copy. */
export function defaultPupilConfig(): AppConfig['pupils'] {
  return loadConfig({}).pupils;
}

/** Provisioning settings for a test school on `domain`, from the configuration defaults. */
export function pupilProvisioningSettings(domain: string): PupilProvisioningSettings {
  return pupilProvisioningSettingsOf({ school: { ...loadConfig({}).school, domain }, pupils: defaultPupilConfig() });
}
