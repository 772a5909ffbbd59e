import type { Request } from 'restify';
import type { PupilRegisterStore } from '../../records/pupil-register-store';
import { hasAnyRole, type Principal } from '../../school/roles';
import {
  exportTransferPack,
  listTransferPacks,
  recordTransferReceipt,
  TRANSFER_PACK_ROLES,
  type TransferPackDependencies,
  type TransferPackOutcome,
} from '../../usecases/transfer-pack';

export interface TransferRouteDependencies {
  packs: TransferPackDependencies;
  register: Pick<PupilRegisterStore, 'listPupils'>;
}

type ApiResult = { status: number; body: unknown };
type JsonRoute = (method: 'get' | 'post', path: string, handler: (req: Request, principal: Principal) => Promise<ApiResult>) => void;

/**
 * The child-protection transfer pack (DSL and head): choose a pupil, export their pack as a printable
 * document, and record the receiving school's receipt. Every step is audited by `usecases/transfer-pack.ts`.
 */
export function registerTransferRoutes(api: JsonRoute, deps: TransferRouteDependencies): void {
  // Every pupil on the register, leavers included: a pack is usually sent when a pupil has left.
  api('get', '/api/transfer-packs/pupils', async (_req, principal) => {
    if (!hasAnyRole(principal, ...TRANSFER_PACK_ROLES)) return forbidden();
    const pupils = await deps.register.listPupils(deps.packs.schoolId);
    return {
      status: 200,
      body: {
        pupils: pupils
          .map((p) => ({ pupilId: p.externalId, label: `${p.surname}, ${p.forename}${p.registrationGroup ? ` (${p.registrationGroup})` : ''}`, status: p.status }))
          .sort((a, b) => a.label.localeCompare(b.label)),
      },
    };
  });
  api('get', '/api/transfer-packs', async (req, principal) => {
    const pupilId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('pupilId') ?? '';
    return respond(await listTransferPacks(deps.packs, principal, pupilId), (packs) => ({ packs }));
  });
  api('post', '/api/transfer-packs', async (req, principal) => respond(await exportTransferPack(deps.packs, principal, body(req)), (pack) => pack));
  api('post', '/api/transfer-packs/:packId/receipt', async (req, principal) =>
    respond(await recordTransferReceipt(deps.packs, principal, { ...body(req), packId: String(req.params.packId ?? '') }), (record) => record),
  );
}

function respond<T>(outcome: TransferPackOutcome<T>, shape: (value: T) => unknown): ApiResult {
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, body: shape(outcome.value) };
    case 'forbidden':
      return forbidden();
    case 'not-found':
      return { status: 404, body: { error: 'There is no such pupil or pack in this school\'s records.' } };
    case 'invalid':
      return { status: 400, body: { error: 'Some fields need attention.', problems: outcome.problems } };
  }
}

function forbidden(): ApiResult {
  return { status: 403, body: { error: 'Only the DSL and the headteacher may export or receipt child-protection transfer packs.' } };
}

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
