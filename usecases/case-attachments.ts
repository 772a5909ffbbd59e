import { ATTACHMENT_LIMITS, type AttachmentStore, type StoredAttachment } from '../records/attachment-store';
import { detectEvidenceType, EVIDENCE_TYPES, safeFileName } from '../school/evidence-files';
import { GRAVEST_CASE_GUIDANCE, GRAVEST_TYPES } from '../school/response-matrix';
import type { Principal } from '../school/roles';
import { audit, auditExtras, loadForTriage, text, updateIncident, type IncidentDetail, type SavedNotice, type TriageDependencies, type TriageOutcome } from './triage-incidents';

export interface AttachmentDependencies extends TriageDependencies {
  attachmentStore: Pick<AttachmentStore, 'stageBlock' | 'stagedBlocks' | 'commit' | 'head' | 'download' | 'deleteAttachment'>;
}

/** Refused for the gravest types: the material may be illegal to hold or copy. */
export const GRAVEST_ATTACHMENT_REFUSAL = ['Evidence cannot be attached to this kind of incident: the material may be illegal to copy or hold.', ...GRAVEST_CASE_GUIDANCE];

const UPLOAD_ID = /^[a-z0-9]{16,32}$/;

async function loadForUpload(deps: AttachmentDependencies, principal: Principal, reference: string, action: string): Promise<TriageOutcome<true>> {
  const loaded = await loadForTriage(deps, principal, reference, action);
  if (loaded.kind !== 'ok') return loaded;
  if (GRAVEST_TYPES.has(loaded.value.type)) {
    await audit(deps, principal, action, reference, 'denied', { reason: 'gravest-type' });
    return { kind: 'invalid', problems: GRAVEST_ATTACHMENT_REFUSAL };
  }
  if (loaded.value.status === 'closed') return { kind: 'conflict', message: 'This incident is closed; nothing more can be attached.', etag: loaded.value.etag };
  return { kind: 'ok', value: true };
}

/**
 * Stages one block of an upload (base64 in `data`, at most ATTACHMENT_LIMITS.blockBytes). The first block must
 * already show an accepted type (image or PDF), so a wrong file is refused before the rest is sent.
 */
export async function stageAttachmentBlock(deps: AttachmentDependencies, principal: Principal, reference: string, uploadId: string, index: number, input: { data?: unknown }): Promise<TriageOutcome<{ staged: number; bytes: number }>> {
  const allowed = await loadForUpload(deps, principal, reference, 'incident.attachment.upload');
  if (allowed.kind !== 'ok') return allowed;
  const raw = text(input.data);
  const data = Buffer.from(raw, 'base64');
  const problems = [
    ...(UPLOAD_ID.test(uploadId) ? [] : ['The upload id must be 16 to 32 lower-case letters and digits.']),
    ...(Number.isInteger(index) && index >= 0 && index < ATTACHMENT_LIMITS.maxBlocks ? [] : [`A file is sent in at most ${ATTACHMENT_LIMITS.maxBlocks} parts.`]),
    ...(data.length > 0 && /^[A-Za-z0-9+/]+=*$/.test(raw) ? [] : ['Send the part as base64 (data).']),
    ...(data.length > ATTACHMENT_LIMITS.blockBytes ? [`Each part is at most ${ATTACHMENT_LIMITS.blockBytes / 1024} KB.`] : []),
    ...(index === 0 && data.length > 0 && !detectEvidenceType(data) ? ['Only images (PNG, JPEG, GIF, WebP) and PDF files can be attached.'] : []),
  ];
  if (problems.length) return { kind: 'invalid', problems };
  const staged = await deps.attachmentStore.stagedBlocks(deps.schoolId, reference, uploadId);
  if (staged.bytes + data.length > ATTACHMENT_LIMITS.maxBytes) return { kind: 'invalid', problems: ['An attachment can be at most 10 MB.'] };
  await deps.attachmentStore.stageBlock(deps.schoolId, reference, uploadId, index, data);
  return { kind: 'ok', value: { staged: staged.indexes.length + 1, bytes: staged.bytes + data.length } };
}

/**
 * Commits an upload as an attachment of the incident (etag-guarded; a chronology line and an audit entry). The
 * file's type is checked again on the committed content; anything else is deleted and refused.
 */
export async function commitAttachment(deps: AttachmentDependencies, principal: Principal, reference: string, uploadId: string, input: { etag?: string; fileName?: unknown; contentType?: unknown; parts?: unknown }): Promise<TriageOutcome<IncidentDetail | SavedNotice>> {
  const allowed = await loadForUpload(deps, principal, reference, 'incident.attachment');
  if (allowed.kind !== 'ok') return allowed;
  const parts = typeof input.parts === 'number' ? input.parts : Number.NaN;
  const problems = [
    ...(UPLOAD_ID.test(uploadId) ? [] : ['The upload id must be 16 to 32 lower-case letters and digits.']),
    ...(Number.isInteger(parts) && parts >= 1 && parts <= ATTACHMENT_LIMITS.maxBlocks ? [] : ['Say how many parts were sent (parts).']),
    ...(text(input.fileName) ? [] : ['Give the file’s name (fileName).']),
    ...(EVIDENCE_TYPES.some((t) => t.contentType === text(input.contentType)) ? [] : ['Give the file’s type (contentType): an image (PNG, JPEG, GIF, WebP) or a PDF.']),
  ];
  return updateIncident(deps, principal, reference, 'incident.attachment', input.etag, problems, async (incident) => {
    const staged = await deps.attachmentStore.stagedBlocks(deps.schoolId, reference, uploadId);
    const missing = Array.from({ length: parts }, (_, i) => i).filter((i) => !staged.indexes.includes(i));
    if (missing.length) return { invalid: [`Part ${missing[0]! + 1} of the file has not arrived; send it again.`] };
    if (staged.bytes > ATTACHMENT_LIMITS.maxBytes) return { invalid: ['An attachment can be at most 10 MB.'] };
    const uploadedAt = deps.clock().toISOString();
    const claimed = EVIDENCE_TYPES.find((t) => t.contentType === text(input.contentType));
    if (!claimed) return { invalid: ['Only images (PNG, JPEG, GIF, WebP) and PDF files can be attached.'] };
    const fileName = safeFileName(text(input.fileName), claimed);
    await deps.attachmentStore.commit(deps.schoolId, reference, uploadId, parts, { fileName, contentType: claimed.contentType, uploadedAt, uploadedById: principal.aadObjectId });
    // Checked again on what was stored: the type is the content's, never the name's or the browser's.
    const detected = detectEvidenceType(await deps.attachmentStore.head(deps.schoolId, reference, uploadId, 16));
    if (!detected || detected.contentType !== claimed.contentType) {
      await deps.attachmentStore.deleteAttachment(deps.schoolId, reference, uploadId);
      return { invalid: ['Only images (PNG, JPEG, GIF, WebP) and PDF files can be attached, and the file must be what it says it is.'] };
    }
    const updated = await deps.incidents.appendEvent(
      incident,
      { at: uploadedAt, actorId: principal.aadObjectId, kind: 'attachment', what: `Evidence attached: ${fileName} (${Math.ceil(staged.bytes / 1024)} KB)`, why: '' },
      {},
      auditExtras(deps, principal, 'incident.attachment', reference, { attachmentId: uploadId, bytes: staged.bytes }),
    );
    return { updated };
  });
}

/** An attachment as a download, for people who may see the incident; every read is audited. */
export async function downloadAttachment(deps: AttachmentDependencies, principal: Principal, reference: string, id: string): Promise<TriageOutcome<{ data: Buffer; attachment: StoredAttachment }>> {
  const loaded = await loadForTriage(deps, principal, reference, 'incident.attachment.read');
  if (loaded.kind !== 'ok') return loaded;
  const found = UPLOAD_ID.test(id) ? await deps.attachmentStore.download(deps.schoolId, reference, id) : undefined;
  if (!found) {
    await audit(deps, principal, 'incident.attachment.read', reference, 'denied', { reason: 'not-found' });
    return { kind: 'not-found' };
  }
  await audit(deps, principal, 'incident.attachment.read', reference, 'succeeded', { attachmentId: id });
  return { kind: 'ok', value: found };
}
