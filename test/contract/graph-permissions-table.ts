import { readGrantedPermissions, type GrantedGraphPermissions } from './graph-permission-check';

/** Why the app holds each permission, for the README. Keyed by permission; every granted one needs a line. */
export const PERMISSION_PURPOSES: Record<string, string> = {
  'User.ReadWrite.All': 'Find pupils by `employeeId`, create and update their accounts, disable and delete leavers',
  'User.RevokeSessions.All': 'Sign a leaver or a suspended pupil out everywhere',
  'LicenseAssignment.Read.All': "Read the tenant's SKUs and their plans",
  'LicenseAssignment.ReadWrite.All': 'Assign the pupil licence with email turned off',
  'Group.ReadBasic.All': "Find the pupil groups and the `ROLE_GROUP_*` groups by name, and read a pupil's direct groups in the audit",
  'Group.Create': 'Create the all-pupils and cohort groups when they do not exist yet (application only)',
  'Group.ReadWrite.All': 'Create the pupil groups when an admin signs in (delegated has no `Group.Create`)',
  'GroupMember.ReadWrite.All': 'Add pupils to and remove them from their groups, and read the role groups\' members',
  'TeamsPolicyUserAssign.ReadWrite.All': "Look up the pupil policies' ids and assign them to pupils",
  'TeamsUserConfiguration.Read.All': "Read each pupil's effective Teams policies in the daily audit",
  'TeamSettings.ReadWrite.All': "Read and correct class teams' settings in the daily audit",
  'OnlineMeetings.ReadWrite.All': 'Create class meetings with the teacher as organiser (`/meeting`)',
  'TeamsAppInstallation.ReadWriteSelfForUser.All': 'Install this app, and only this app, for staff the bot cannot reach yet',
};

/** The README's Graph permissions table, made from infra/graph-permissions.json. */
export function graphPermissionsTable(granted: GrantedGraphPermissions = readGrantedPermissions()): string {
  const names = [...new Set([...granted.application, ...granted.delegated])];
  const rows = names.map((name) => {
    const operations = (granted.operations?.[name] ?? []).map((op) => `\`${op}\``).join('<br>');
    const mark = (list: string[]) => (list.includes(name) ? 'yes' : '');
    return `| \`${name}\` | ${mark(granted.application)} | ${mark(granted.delegated)} | ${PERMISSION_PURPOSES[name] ?? ''} | ${operations} |`;
  });
  return ['| Permission | Application | Delegated | What the app does with it | Operations |', '|---|---|---|---|---|', ...rows].join('\n');
}
