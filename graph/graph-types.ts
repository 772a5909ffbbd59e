import type { GraphServiceError } from './graph-errors';

/** The outcome of one item of a batched operation; results come back in the order of the inputs. */
export type GraphResult<T> = { ok: true; value: T } | { ok: false; error: GraphServiceError };

/** A user as the gateway reads it (the properties it `$select`s). */
export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  mailNickname: string | null;
  employeeId: string | null;
  accountEnabled: boolean | null;
  usageLocation: string | null;
  department: string | null;
  jobTitle: string | null;
}

/** A pupil account to create; `usageLocation` defaults to GB, `accountEnabled` to true. */
export interface NewUser {
  userPrincipalName: string;
  displayName: string;
  givenName: string;
  surname: string;
  /** The key a re-import matches on: the UPN or the MIS id. At most 16 characters. */
  employeeId: string;
  password: string;
  forceChangePasswordNextSignIn?: boolean;
  /** Defaults to the local part of the userPrincipalName. */
  mailNickname?: string;
  usageLocation?: string;
  accountEnabled?: boolean;
  department?: string;
  jobTitle?: string;
}

/** A created user; `alreadyExisted` is true when a user with the same UPN and employeeId was found instead. */
export interface CreatedUser {
  user: GraphUser;
  alreadyExisted: boolean;
}

/** Properties the gateway may change on an existing user. */
export interface UserChanges {
  displayName?: string;
  givenName?: string;
  surname?: string;
  employeeId?: string;
  department?: string | null;
  jobTitle?: string | null;
  usageLocation?: string;
  accountEnabled?: boolean;
}

/** A licence as assigned to a user. */
export interface AssignedLicence {
  skuId: string;
  disabledPlans: string[];
}

/** What the enforcement audit needs to know about one user. */
export interface UserState {
  id: string;
  userPrincipalName: string;
  accountEnabled: boolean | null;
  usageLocation: string | null;
  assignedLicences: AssignedLicence[];
  /** Groups the user is a direct member of. */
  groupIds: string[];
}

/** One service plan of a subscribed SKU. */
export interface ServicePlan {
  servicePlanId: string;
  servicePlanName: string;
}

/** A SKU the tenant subscribes to, with its seats. */
export interface SubscribedSku {
  skuId: string;
  skuPartNumber: string;
  servicePlans: ServicePlan[];
  enabledUnits: number;
  consumedUnits: number;
}

/** A SKU resolved from its part number, with the ids of the plans to keep disabled. */
export interface LicenceSku extends SubscribedSku {
  disabledPlanIds: string[];
}

/** One licence change for one user. */
export interface LicenceAssignment {
  userId: string;
  skuId: string;
  disabledPlanIds?: string[];
  /** SKUs to remove in the same call. */
  removeSkuIds?: string[];
}

/** A group as the gateway reads it. */
export interface GraphGroup {
  id: string;
  displayName: string;
  mailNickname: string | null;
  mailEnabled: boolean | null;
  securityEnabled: boolean | null;
  groupTypes: string[];
}

/** A security group to create; `mailNickname` is derived from the name when omitted. */
export interface NewSecurityGroup {
  displayName: string;
  description?: string;
  mailNickname?: string;
}

/** A direct membership of a user (or any directory object) in a group. */
export interface GroupMembership {
  groupId: string;
  memberId: string;
}

/** Whether the member was added now or was already there. */
export type MembershipOutcome = 'added' | 'alreadyMember';

/** The Teams policy types this product assigns and audits. */
export type TeamsPolicyType = 'TeamsMessagingPolicy' | 'TeamsMeetingPolicy';

/** A Teams policy named in the school's configuration. */
export interface TeamsPolicyRef {
  type: TeamsPolicyType;
  name: string;
}

/** One direct Teams policy assignment. */
export interface TeamsPolicyAssignment {
  userId: string;
  policyType: TeamsPolicyType;
  policyId: string;
}

/** A policy in force for a user and where it comes from. */
export interface EffectiveTeamsPolicy {
  policyType: string;
  policyId: string;
  displayName: string;
  assignmentType: 'direct' | 'group' | string;
  groupId: string | null;
}

/** A user's effective Teams policies. */
export interface TeamsUserConfiguration {
  userId: string;
  userPrincipalName: string | null;
  effectivePolicies: EffectiveTeamsPolicy[];
}

/** The class-team settings the enforcement keeps in line. */
export interface TeamSettings {
  memberSettings?: {
    allowCreateUpdateChannels?: boolean;
    allowCreatePrivateChannels?: boolean;
    allowDeleteChannels?: boolean;
    allowAddRemoveApps?: boolean;
    allowCreateUpdateRemoveTabs?: boolean;
    allowCreateUpdateRemoveConnectors?: boolean;
  };
  messagingSettings?: {
    allowUserEditMessages?: boolean;
    allowUserDeleteMessages?: boolean;
    allowOwnerDeleteMessages?: boolean;
    allowTeamMentions?: boolean;
    allowChannelMentions?: boolean;
  };
  funSettings?: {
    allowGiphy?: boolean;
    giphyContentRating?: 'strict' | 'moderate';
    allowStickersAndMemes?: boolean;
    allowCustomMemes?: boolean;
  };
}

/** A team and its settings. */
export interface GraphTeam extends TeamSettings {
  id: string;
  displayName: string | null;
}

/** The settings a class meeting is created with. */
export interface OnlineMeetingOptions {
  subject: string;
  startDateTime: string;
  endDateTime: string;
  allowedPresenters?: 'everyone' | 'organization' | 'roleIsPresenter' | 'organizer';
  lobbyBypassSettings?: { scope: 'organizer' | 'organization' | 'organizationAndFederated' | 'everyone' | 'invited' | 'organizationExcludingGuests'; isDialInBypassEnabled?: boolean };
  allowMeetingChat?: 'enabled' | 'disabled' | 'limited';
  allowAttendeeToEnableCamera?: boolean;
  allowAttendeeToEnableMic?: boolean;
  allowRecording?: boolean;
  allowTranscription?: boolean;
  allowParticipantsToChangeName?: boolean;
  recordAutomatically?: boolean;
}

/** A meeting to create on an organiser's behalf. */
export interface NewOnlineMeeting {
  organizerId: string;
  meeting: OnlineMeetingOptions;
}

/** A created meeting. */
export interface OnlineMeeting {
  id: string;
  joinWebUrl: string;
  subject: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
}
