import type { Request } from 'restify';
import { confirmClose, closeIncident, TRIAGE_ROLES } from '../../usecases/triage-incidents';
import { INCIDENT_TYPES } from '../../school/incident-types';
import { hasAnyRole } from '../../school/roles';
import { reclassifyIncident, recordCpomsReference, recordReferral, recordReferralOutcome, suspendPupilAccess, type CaseActionDependencies } from '../../usecases/case-actions';
import { getPupilHistory } from '../../usecases/pupil-history';
import { commitAttachment, downloadAttachment, stageAttachmentBlock, type AttachmentDependencies } from '../../usecases/case-attachments';
import { bodyOf, etagOf, forbidden, outcomeResponse, referenceOf, type ApiResult, type JsonRoute, type UseCaseOutcome } from './api-responses';

export type CaseRouteDependencies = CaseActionDependencies & { attachmentStore?: AttachmentDependencies['attachmentStore'] };

const withEtag = (req: Request) => ({ ...bodyOf(req), etag: etagOf(req) });

/** A close waiting for its second sign-off is accepted, not done: 202 with `{"status": "awaiting-second-signoff"}`. */
function closeResponse(outcome: UseCaseOutcome<{ closeStatus: string; etag: string }>): ApiResult {
  const result = outcomeResponse(outcome, (value) => ({ ...value, status: value.closeStatus }));
  if (outcome.kind === 'ok' && outcome.value.closeStatus === 'awaiting-second-signoff') return { ...result, status: 202 };
  return result;
}

/**
 * The DSL's case actions behind the tab's sign-in: close with second sign-off, referrals and their outcomes,
 * reclassification, the CPOMS reference, sanctions, and a pupil's history. Each change needs the etag read
 * (If-Match) and writes a chronology line and an audit entry.
 */
export function registerCaseRoutes(api: JsonRoute, deps: CaseRouteDependencies): void {
  // The proforma's types, for reclassifying: public knowledge, but only for people who triage.
  api('get', '/api/incident-types', async (_req, principal) =>
    hasAnyRole(principal, ...TRIAGE_ROLES) ? { status: 200, body: { types: INCIDENT_TYPES.map((t) => ({ id: t.id, label: t.label, fourC: t.fourC })) } } : forbidden(),
  );
  api('post', '/api/incidents/:reference/close', async (req, principal) => closeResponse(await closeIncident(deps, principal, referenceOf(req), withEtag(req))));
  api('post', '/api/incidents/:reference/close/confirm', async (req, principal) =>
    closeResponse(await confirmClose(deps, principal, referenceOf(req), withEtag(req))),
  );
  api('post', '/api/incidents/:reference/referrals', async (req, principal) => outcomeResponse(await recordReferral(deps, principal, referenceOf(req), withEtag(req))));
  api('post', '/api/incidents/:reference/referrals/:id/outcome', async (req, principal) =>
    outcomeResponse(await recordReferralOutcome(deps, principal, referenceOf(req), String(req.params.id ?? ''), withEtag(req))),
  );
  api('post', '/api/incidents/:reference/classification', async (req, principal) => outcomeResponse(await reclassifyIncident(deps, principal, referenceOf(req), withEtag(req))));
  api('post', '/api/incidents/:reference/cpoms', async (req, principal) => outcomeResponse(await recordCpomsReference(deps, principal, referenceOf(req), withEtag(req))));
  api('post', '/api/incidents/:reference/sanctions', async (req, principal) => outcomeResponse(await suspendPupilAccess(deps, principal, referenceOf(req), withEtag(req))));
  if (deps.attachmentStore) {
    const attachments: AttachmentDependencies = { ...deps, attachmentStore: deps.attachmentStore };
    api('put', '/api/incidents/:reference/attachments/:upload/parts/:index', async (req, principal) =>
      outcomeResponse(await stageAttachmentBlock(attachments, principal, referenceOf(req), String(req.params.upload ?? ''), Number(req.params.index), bodyOf(req))),
    );
    api('post', '/api/incidents/:reference/attachments/:upload', async (req, principal) =>
      outcomeResponse(await commitAttachment(attachments, principal, referenceOf(req), String(req.params.upload ?? ''), withEtag(req))),
    );
    api('get', '/api/incidents/:reference/attachments/:id', async (req, principal) => {
      const outcome = await downloadAttachment(attachments, principal, referenceOf(req), String(req.params.id ?? ''));
      if (outcome.kind !== 'ok') return outcomeResponse(outcome, (v) => v, { notFound: 'There is no such attachment on this incident.' });
      const { data, attachment } = outcome.value;
      return { status: 200, body: undefined, file: { data, contentType: attachment.contentType, fileName: attachment.fileName } };
    });
  }
  api('get', '/api/pupils/:upn/incidents', async (req, principal) =>
    outcomeResponse(await getPupilHistory(deps, principal, String(req.params.upn ?? '')), (value) => value, { notFound: 'There is no pupil with that username on the register.' }),
  );
}
