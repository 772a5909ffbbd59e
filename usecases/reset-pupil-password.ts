import { randomUUID } from 'node:crypto';
import type { Logger } from '../infra/logger';
import type { GraphGateway } from '../graph/graph-gateway';
import type { AuditStore } from '../records/audit-store';
import type { PupilRecord, PupilRegisterStore } from '../records/pupil-register-store';
import { generatePupilPassword } from '../school/pupil-passwords';
import type { CredentialSlip } from './credential-slips';
import { describeGraphError } from './provision-pupils';

export interface ResetPasswordDependencies {
  schoolId: string;
  register: Pick<PupilRegisterStore, 'findPupilByUserPrincipalName' | 'savePupils'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  gateway: Pick<GraphGateway, 'resetPasswords'>;
  forcePasswordChange: boolean;
  actorId: string;
  clock: () => Date;
  logger: Logger;
  generatePassword?: () => string;
  newRunId?: () => string;
}

export interface ResetPasswordRequest {
  userPrincipalName: string;
  /** Prints or saves the slip; called once the new password is set. */
  deliverSlips: (slips: CredentialSlip[]) => Promise<void>;
}

export type ResetPasswordOutcome =
  | { kind: 'reset'; externalId: string; userPrincipalName: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'failed'; reason: string };

/**
 * Gives a pupil in the register a new Animal+number password and a slip. Only pupils this app provisioned
 * can be reset, so the tool can never be turned on a member of staff.
 */
export async function resetPupilPassword(deps: ResetPasswordDependencies, request: ResetPasswordRequest): Promise<ResetPasswordOutcome> {
  const correlationId = (deps.newRunId ?? randomUUID)();
  const pupil = await deps.register.findPupilByUserPrincipalName(deps.schoolId, request.userPrincipalName);
  if (!pupil) return { kind: 'refused', reason: `${request.userPrincipalName} is not in the pupil register. This command resets the passwords of pupils it provisioned, and no one else.` };
  if (!pupil.userId || (pupil.status !== 'active' && pupil.status !== 'pending')) {
    return { kind: 'refused', reason: describeUnusable(pupil) };
  }

  const password = (deps.generatePassword ?? (() => generatePupilPassword()))();
  const [result] = await deps.gateway.resetPasswords([{ userId: pupil.userId, password, forceChangePasswordNextSignIn: deps.forcePasswordChange }]);
  const target = `pupil:${pupil.externalId}`;
  if (!result?.ok) {
    const error = result && !result.ok ? result.error : undefined;
    await deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action: 'pupil.password-reset', target, outcome: 'failed', correlationId, details: { userId: pupil.userId, ...(error ? { status: error.status, code: error.code } : {}) } });
    deps.logger.warn('password-reset.failed', { externalId: pupil.externalId, status: error?.status, code: error?.code });
    return { kind: 'failed', reason: error ? `Microsoft Graph would not set the password: ${describeGraphError(error)}` : 'Microsoft Graph gave no answer.' };
  }
  await deps.audit.appendAudit(deps.schoolId, { actorId: deps.actorId, action: 'pupil.password-reset', target, outcome: 'succeeded', correlationId, details: { userId: pupil.userId, reason: 'requested' } });

  try {
    await request.deliverSlips([
      {
        forename: pupil.forename,
        surname: pupil.surname,
        userPrincipalName: pupil.userPrincipalName,
        password,
        ...(pupil.registrationGroup ? { registrationGroup: pupil.registrationGroup } : {}),
        ...(pupil.yearGroup ? { yearGroup: pupil.yearGroup } : {}),
      },
    ]);
  } catch {
    return { kind: 'failed', reason: 'The password was changed but the slip could not be written, so nobody knows the new password. Run reset-password again.' };
  }
  const now = deps.clock().toISOString();
  await deps.register.savePupils(deps.schoolId, [{ ...pupil, credentialsIssuedAt: now, updatedAt: now }]);
  deps.logger.info('password-reset.done', { externalId: pupil.externalId });
  return { kind: 'reset', externalId: pupil.externalId, userPrincipalName: pupil.userPrincipalName };
}

function describeUnusable(pupil: PupilRecord): string {
  if (pupil.status === 'leaver-disabled') return `${pupil.userPrincipalName} left the school: the account was disabled on ${(pupil.disabledAt ?? '').slice(0, 10)}. Put the pupil back on the roll and run apply to enable it.`;
  if (pupil.status === 'deleted') return `${pupil.userPrincipalName} was deleted on ${(pupil.deletedAt ?? '').slice(0, 10)}.`;
  return `${pupil.userPrincipalName} has no account yet: run apply to finish provisioning, which prints a slip.`;
}
