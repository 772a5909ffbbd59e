import type { FeatureFactory } from './feature';
import { createAupFeature } from './aup-feature';
import { createTabFeature } from './tab-feature';
import { enforcementFeature } from './enforcement-feature';
import { retentionFeature } from './retention-feature';
import { caseFeature } from './case-feature';
import { privacyFeature } from './privacy-feature';
import { filteringFeature } from './filtering-feature';
import { consentFeature } from './consent-feature';

/**
 * Every feature beyond incident reporting, in the order their commands appear in /help.
 * Add a feature by appending its factory here; the bot core, the server and the composition root stay untouched.
 */
export const FEATURES: readonly FeatureFactory[] = [createAupFeature(), enforcementFeature, retentionFeature, caseFeature, createTabFeature(), privacyFeature, filteringFeature, consentFeature];
