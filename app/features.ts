import type { FeatureFactory } from './feature';

/**
 * Every feature beyond incident reporting, in the order their commands appear in /help.
 * Add a feature by appending its factory here; the bot core, the server and the composition root stay untouched.
 */
export const FEATURES: readonly FeatureFactory[] = [];
