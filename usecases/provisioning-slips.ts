import { checkpoint, saveDirty, touch, type RunContext } from './provisioning-apply';

/** Hands the new passwords to `deliverSlips`, then records that they were issued. */
export async function issueSlips(ctx: RunContext): Promise<void> {
  const withPassword = ctx.prepared.works.filter((w) => w.password !== undefined);
  await checkpoint(ctx, 'slips', 'Preparing credential slips', withPassword.length, false);
  if (withPassword.length === 0) return;
  await ctx.request.deliverSlips(
    withPassword.map((w) => ({
      forename: w.pupil.forename,
      surname: w.pupil.surname,
      userPrincipalName: w.record.userPrincipalName,
      password: w.password as string,
      ...(w.pupil.registrationGroup ? { registrationGroup: w.pupil.registrationGroup } : {}),
      ...(w.pupil.yearGroup ? { yearGroup: w.pupil.yearGroup } : {}),
    })),
  );
  const issuedAt = ctx.deps.clock().toISOString();
  for (const work of withPassword) {
    work.record.credentialsIssuedAt = issuedAt;
    delete work.password;
    touch(ctx, work);
  }
  ctx.slipsIssued += withPassword.length;
  saveDirty(ctx, withPassword);
  await ctx.writer.flush();
}
