import type { AssignedLicence, EffectiveTeamsPolicy, GraphGroup, GraphTeam, GraphUser, NewUser, OnlineMeeting, TeamSettings, TeamsUserConfiguration } from './graph-types';

/**
 * How the gateway writes Graph request bodies and reads Graph's answers: pure functions, kept apart from the
 * gateway so that it reads as the list of operations the product performs.
 */

/** Letters NFKD does not split into a base letter and a mark. */
const UNDECOMPOSED: Record<string, string> = { ł: 'l', ø: 'o', đ: 'd', ß: 'ss', æ: 'ae', œ: 'oe', þ: 'th', ı: 'i' };

/** A mailNickname Graph accepts, derived from a group's display name. */
export function toMailNickname(displayName: string): string {
  const slug = displayName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[łøđßæœþı]/g, (c) => UNDECOMPOSED[c] ?? '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug || 'group';
}

/** An OData string literal: quoted, with single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Percent-encodes a path segment, keeping `@` so userPrincipalNames stay readable. */
export function segment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@');
}

export function newUserBody(user: NewUser): Record<string, unknown> {
  return {
    accountEnabled: user.accountEnabled ?? true,
    displayName: user.displayName,
    givenName: user.givenName,
    surname: user.surname,
    mailNickname: user.mailNickname ?? (user.userPrincipalName.split('@')[0] as string),
    userPrincipalName: user.userPrincipalName,
    passwordProfile: { password: user.password, forceChangePasswordNextSignIn: user.forceChangePasswordNextSignIn ?? false },
    usageLocation: user.usageLocation ?? 'GB',
    employeeId: user.employeeId,
    ...(user.department ? { department: user.department } : {}),
    ...(user.jobTitle ? { jobTitle: user.jobTitle } : {}),
  };
}

export function userFromInput(user: NewUser): GraphUser {
  return {
    id: '',
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    givenName: user.givenName,
    surname: user.surname,
    mailNickname: user.mailNickname ?? (user.userPrincipalName.split('@')[0] as string),
    employeeId: user.employeeId,
    accountEnabled: user.accountEnabled ?? true,
    usageLocation: user.usageLocation ?? 'GB',
    department: user.department ?? null,
    jobTitle: user.jobTitle ?? null,
  };
}

export function toGraphUser(body: unknown): GraphUser {
  const raw = isRecord(body) ? body : {};
  const text = (key: string): string | null => (typeof raw[key] === 'string' ? (raw[key] as string) : null);
  return {
    id: String(raw.id ?? ''),
    userPrincipalName: text('userPrincipalName') ?? '',
    displayName: text('displayName') ?? '',
    givenName: text('givenName'),
    surname: text('surname'),
    mailNickname: text('mailNickname'),
    employeeId: text('employeeId'),
    accountEnabled: typeof raw.accountEnabled === 'boolean' ? raw.accountEnabled : null,
    usageLocation: text('usageLocation'),
    department: text('department'),
    jobTitle: text('jobTitle'),
  };
}

/** Keeps the fields Graph actually returned, so they override what we sent. */
export function definedOnly(user: GraphUser): Partial<GraphUser> {
  return Object.fromEntries(Object.entries(user).filter(([, v]) => v !== null && v !== '')) as Partial<GraphUser>;
}

export function toGraphGroup(body: unknown): GraphGroup {
  const raw = isRecord(body) ? body : {};
  return {
    id: String(raw.id ?? ''),
    displayName: typeof raw.displayName === 'string' ? raw.displayName : '',
    mailNickname: typeof raw.mailNickname === 'string' ? raw.mailNickname : null,
    mailEnabled: typeof raw.mailEnabled === 'boolean' ? raw.mailEnabled : null,
    securityEnabled: typeof raw.securityEnabled === 'boolean' ? raw.securityEnabled : null,
    groupTypes: Array.isArray(raw.groupTypes) ? raw.groupTypes.map(String) : [],
  };
}

export function toAssignedLicences(value: unknown): AssignedLicence[] {
  return (Array.isArray(value) ? value : []).filter(isRecord).map((l) => ({
    skuId: String(l.skuId),
    disabledPlans: Array.isArray(l.disabledPlans) ? l.disabledPlans.map(String) : [],
  }));
}

/** getPolicyId answers a collection; its names may carry a "Tag:" prefix, as in Microsoft's example. */
export function pickPolicyId(body: unknown, name: string): string | undefined {
  const entries = (isRecord(body) && Array.isArray(body.value) ? body.value : []).filter(isRecord);
  const named = entries.find((e) => typeof e.name === 'string' && (sameText(e.name, name) || sameText(e.name, `Tag:${name}`)));
  const entry = named ?? (entries.length === 1 ? entries[0] : undefined);
  return typeof entry?.policyId === 'string' && entry.policyId ? entry.policyId : undefined;
}

/**
 * Microsoft's example answers this GET with the entity wrapped in `value`; accept both shapes:
 * https://learn.microsoft.com/graph/api/teamsadministration-teamsuserconfiguration-get
 */
export function toTeamsUserConfiguration(body: unknown, userId: string): TeamsUserConfiguration {
  const outer = isRecord(body) ? body : {};
  const raw = isRecord(outer.value) ? outer.value : outer;
  const effective: EffectiveTeamsPolicy[] = (Array.isArray(raw.effectivePolicyAssignments) ? raw.effectivePolicyAssignments : []).filter(isRecord).map((e) => {
    const assignment = isRecord(e.policyAssignment) ? e.policyAssignment : {};
    return {
      policyType: String(e.policyType ?? ''),
      policyId: String(assignment.policyId ?? ''),
      displayName: String(assignment.displayName ?? ''),
      assignmentType: String(assignment.assignmentType ?? ''),
      groupId: typeof assignment.groupId === 'string' ? assignment.groupId : null,
    };
  });
  return {
    userId: typeof raw.id === 'string' ? raw.id : userId,
    userPrincipalName: typeof raw.userPrincipalName === 'string' ? raw.userPrincipalName : null,
    effectivePolicies: effective,
  };
}

export function toGraphTeam(body: unknown): GraphTeam {
  const raw = isRecord(body) ? body : {};
  return {
    id: String(raw.id ?? ''),
    displayName: typeof raw.displayName === 'string' ? raw.displayName : null,
    ...(isRecord(raw.memberSettings) ? { memberSettings: raw.memberSettings } : {}),
    ...(isRecord(raw.messagingSettings) ? { messagingSettings: raw.messagingSettings } : {}),
    ...(isRecord(raw.funSettings) ? { funSettings: raw.funSettings as TeamSettings['funSettings'] } : {}),
  };
}

export function toOnlineMeeting(body: unknown): OnlineMeeting {
  const raw = isRecord(body) ? body : {};
  const text = (key: string): string | null => (typeof raw[key] === 'string' ? (raw[key] as string) : null);
  return { id: String(raw.id ?? ''), joinWebUrl: text('joinWebUrl') ?? '', subject: text('subject'), startDateTime: text('startDateTime'), endDateTime: text('endDateTime') };
}

export function sameText(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
