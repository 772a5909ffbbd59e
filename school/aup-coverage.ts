import { isRole, type Role } from './roles';
import type { AupDocument } from './aup-documents';

/** Coverage of one document's current version in one group (a role in its audience). */
export interface AupCoverageRow {
  documentId: string;
  title: string;
  version: number;
  group: Role;
  members: number;
  acknowledged: number;
  /** Whole-number percentage; 0 when the group is empty. */
  percent: number;
  /** Object ids of members who have acknowledged the current version. */
  acknowledgedIds: string[];
  /** Object ids of members who still owe it. */
  outstandingIds: string[];
}

/**
 * Works out coverage per document and group. `membersByRole` lists each role's members; `acknowledgedBy`
 * gives, per document id, the people who acknowledged its current version (in Teams or on paper).
 * Paper-only audiences (eyfs, visitor) have no member list, so they appear only in `paperCounts`.
 */
export function summariseAupCoverage(
  documents: readonly AupDocument[],
  membersByRole: ReadonlyMap<Role, readonly string[]>,
  acknowledgedBy: ReadonlyMap<string, ReadonlySet<string>>,
  /** Whether a member of a group is asked for a document (pupil documents by year group); default everyone. */
  isFor: (document: AupDocument, group: Role, personId: string) => boolean = () => true,
): AupCoverageRow[] {
  const rows: AupCoverageRow[] = [];
  for (const document of documents) {
    const done = acknowledgedBy.get(document.id) ?? new Set<string>();
    for (const group of document.audience.filter(isRole)) {
      const members = [...new Set(membersByRole.get(group) ?? [])].filter((id) => isFor(document, group, id)).sort();
      const acknowledgedIds = members.filter((id) => done.has(id));
      const outstandingIds = members.filter((id) => !done.has(id));
      rows.push({
        documentId: document.id,
        title: document.title,
        version: document.version,
        group,
        members: members.length,
        acknowledged: acknowledgedIds.length,
        percent: members.length === 0 ? 0 : Math.floor((acknowledgedIds.length / members.length) * 100),
        acknowledgedIds,
        outstandingIds,
      });
    }
  }
  return rows;
}
