import type { PupilRegisterStore } from '../../records/pupil-register-store';
import { hasAnyRole } from '../../school/roles';
import {
  exportTransferPack,
  listTransferPacks,
  recordTransferReceipt,
  TRANSFER_PACK_ROLES,
  type TransferPackDependencies,
} from '../../usecases/transfer-pack';
import { bodyOf, forbidden, outcomeResponse, type JsonRoute } from './api-responses';

export interface TransferRouteDependencies {
  packs: TransferPackDependencies;
  register: Pick<PupilRegisterStore, 'listPupils'>;
}

const WORDING = { forbidden: 'Only the DSL and the headteacher may export or receipt child-protection transfer packs.', notFound: 'There is no such pupil or pack in this school\'s records.' };

/**
 * The child-protection transfer pack (DSL and head): choose a pupil, export their pack as a printable
 * document, and record the receiving school's receipt. Every step is audited by `usecases/transfer-pack.ts`.
 */
export function registerTransferRoutes(api: JsonRoute, deps: TransferRouteDependencies): void {
  // Every pupil on the register, leavers included: a pack is usually sent when a pupil has left.
  api('get', '/api/transfer-packs/pupils', async (_req, principal) => {
    if (!hasAnyRole(principal, ...TRANSFER_PACK_ROLES)) return forbidden(WORDING.forbidden);
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
  // The pupil goes in the body, never the URL: a pupil's id is usually their unique pupil number, and URLs end up
  // in access logs and request telemetry.
  api('post', '/api/transfer-packs/list', async (req, principal) => {
    const pupilId = bodyOf(req).pupilId;
    return outcomeResponse(await listTransferPacks(deps.packs, principal, typeof pupilId === 'string' ? pupilId : ''), (packs) => ({ packs }), WORDING);
  });
  api('post', '/api/transfer-packs', async (req, principal) => outcomeResponse(await exportTransferPack(deps.packs, principal, bodyOf(req)), undefined, WORDING));
  api('post', '/api/transfer-packs/:packId/receipt', async (req, principal) =>
    outcomeResponse(await recordTransferReceipt(deps.packs, principal, { ...bodyOf(req), packId: String(req.params.packId ?? '') }), undefined, WORDING),
  );
}
