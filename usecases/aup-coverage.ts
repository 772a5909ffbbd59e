import { summariseAupCoverage, type AupCoverageRow } from '../school/aup-coverage';
import { fitsYearGroup, renewalYear, type AupDocument } from '../school/aup-documents';
import { isRole, type Principal, type Role } from '../school/roles';
import { canManageAups, pupilYearGroupLookup, type AupDependencies } from './acknowledge-aup';

/** A coverage row for the coordinator, with the names of those who acknowledged. */
export interface AupCoverageDetailRow extends AupCoverageRow {
  acknowledgedPeople: { personId: string; name: string; acknowledgedAt: string; channel: string }[];
}

/** A paper-only document (EYFS, visitors): how many forms are recorded for its current version. */
export interface AupPaperCount {
  documentId: string;
  title: string;
  version: number;
  recorded: number;
}

export type AupCoverageOutcome = { kind: 'forbidden' } | { kind: 'coverage'; rows: AupCoverageDetailRow[]; paper: AupPaperCount[] };

/** The governors' view: percentages per document and group, never names or ids. */
export interface AupCoverageSummary {
  generatedAt: string;
  documents: {
    documentId: string;
    title: string;
    version: number;
    /** Percentage of everyone in the document's groups, whole numbers. */
    percent: number;
    /** Everyone in the document's groups (once each), and how many of them acknowledged; the summary hides small numbers. */
    members: number;
    acknowledged: number;
    groups: { group: Role; percent: number; members: number; acknowledged: number }[];
  }[];
}

async function computeCoverage(deps: AupDependencies, schoolId: string): Promise<{ documents: AupDocument[]; rows: AupCoverageRow[]; paper: AupPaperCount[]; acknowledgedBy: Map<string, Map<string, { name: string; acknowledgedAt: string; channel: string }>> }> {
  const documents = await deps.documents.listAupDocuments();
  const roles = [...new Set(documents.flatMap((d) => d.audience.filter(isRole)))];
  const membersByRole = new Map<Role, string[]>();
  for (const role of roles) membersByRole.set(role, await deps.roles.listRoleMembers(role));
  const acknowledgedBy = new Map<string, Map<string, { name: string; acknowledgedAt: string; channel: string }>>();
  for (const document of documents) {
    const acks = await deps.store.listAcknowledgements(schoolId, document.id, document.version, renewalYear(document, deps.clock()));
    acknowledgedBy.set(document.id, new Map(acks.map((a) => [a.personId, { name: a.name, acknowledgedAt: a.acknowledgedAt, channel: a.channel }])));
  }
  const yearGroupOf = documents.some((d) => d.yearGroups) ? await pupilYearGroupLookup(deps) : () => undefined;
  const rows = summariseAupCoverage(
    documents,
    membersByRole,
    new Map([...acknowledgedBy].map(([id, people]) => [id, new Set(people.keys())])),
    // A pupil is counted against the pupil document for their year group (KS1 or KS2), not both.
    (document, group, personId) => group !== 'pupil' || fitsYearGroup(document, yearGroupOf(personId)),
  );
  const paper = documents
    .filter((d) => !d.audience.some(isRole))
    .map((d) => ({ documentId: d.id, title: d.title, version: d.version, recorded: acknowledgedBy.get(d.id)?.size ?? 0 }));
  return { documents, rows, paper, acknowledgedBy };
}

/** Counts and lists per document and group, for the coordinator, the DSL and the head (`/aup coverage`). */
export async function getAupCoverage(deps: AupDependencies, principal: Principal, correlationId = 'aup-coverage'): Promise<AupCoverageOutcome> {
  const allowed = canManageAups(principal);
  await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'aup.coverage.read', target: 'aup', outcome: allowed ? 'succeeded' : 'denied', correlationId });
  if (!allowed) return { kind: 'forbidden' };
  const { rows, paper, acknowledgedBy } = await computeCoverage(deps, deps.schoolId);
  return {
    kind: 'coverage',
    paper,
    rows: rows.map((row) => ({
      ...row,
      acknowledgedPeople: row.acknowledgedIds.map((personId) => ({ personId, ...acknowledgedBy.get(row.documentId)!.get(personId)! })),
    })),
  };
}

/**
 * AUP coverage for the governors' tab: for each document's current version, the percentage of each group
 * that has acknowledged it, and of all its groups together. Aggregates only; no names or ids.
 */
export async function getAupCoverageSummary(deps: AupDependencies, schoolId: string = deps.schoolId): Promise<AupCoverageSummary> {
  const { documents, rows } = await computeCoverage(deps, schoolId);
  return {
    generatedAt: deps.clock().toISOString(),
    documents: documents
      .filter((d) => d.audience.some(isRole))
      .map((d) => {
        const mine = rows.filter((r) => r.documentId === d.id);
        // Someone in two of the document's groups (a coordinator who is also staff) counts once.
        const everyone = new Set(mine.flatMap((r) => [...r.acknowledgedIds, ...r.outstandingIds]));
        const acknowledged = new Set(mine.flatMap((r) => r.acknowledgedIds));
        return {
          documentId: d.id,
          title: d.title,
          version: d.version,
          percent: everyone.size === 0 ? 0 : Math.floor((acknowledged.size / everyone.size) * 100),
          members: everyone.size,
          acknowledged: acknowledged.size,
          groups: mine.map((r) => ({ group: r.group, percent: r.percent, members: r.members, acknowledged: r.acknowledged })),
        };
      }),
  };
}

/**
 * The optional access gate: pupils with no acknowledgement of the current pupil AUP. The list is given
 * whether or not AUP_ACCESS_GATE is on; `gateEnabled` says whether the school wants it enforced.
 * Holding and releasing those accounts through Graph is usecases/aup-access-gate.ts.
 */
export async function listPupilsWithoutAup(deps: AupDependencies & { accessGate: boolean }): Promise<{ gateEnabled: boolean; documentIds: string[]; pupilIds: string[] }> {
  const documents = (await deps.documents.listAupDocuments()).filter((d) => d.audience.includes('pupil'));
  const pupils = [...new Set(await deps.roles.listRoleMembers('pupil'))].sort();
  const covered = new Set<string>();
  const yearGroupOf = await pupilYearGroupLookup(deps);
  for (const document of documents) {
    for (const ack of await deps.store.listAcknowledgements(deps.schoolId, document.id, document.version, renewalYear(document, deps.clock()))) {
      if (fitsYearGroup(document, yearGroupOf(ack.personId))) covered.add(ack.personId);
    }
  }
  return { gateEnabled: deps.accessGate, documentIds: documents.map((d) => d.id), pupilIds: pupils.filter((id) => !covered.has(id)) };
}
