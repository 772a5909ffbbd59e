/**
 * Pupil provisioning, split along its stages: `provisioning-plan` (what would change), `provisioning-apply`
 * (the Graph steps), `provisioning-resume` (a run from start to finish, finishing an earlier interrupted one)
 * and `provisioning-slips` (handing out new passwords). This module is the public API.
 */
export { planProvisioning, missingPolicyMessage } from './provisioning-plan';
export { applyProvisioning } from './provisioning-resume';
export { describeGraphError } from './provisioning-rows';
export {
  ProvisioningModeError,
  type ApplyProvisioningRequest,
  type ProvisioningAction,
  type ProvisioningDependencies,
  type ProvisioningGateway,
  type ProvisioningPhase,
  type ProvisioningPlan,
  type ProvisioningProgress,
  type ProvisioningRequest,
  type ProvisioningResult,
  type ProvisioningRow,
  type ProvisioningSummary,
  type PupilProvisioningSettings,
  type PupilRegister,
} from './provisioning-types';
