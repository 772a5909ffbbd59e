import type { AuditStore } from '../records/audit-store';
import type { IncidentAggregateStore } from '../records/incident-aggregate-store';
import type { SchoolAuditStore } from '../records/school-audit-store';
import type { AupDocument } from '../school/aup-documents';
import { renderAnnualAuditPack, type AuditEvidence } from '../school/annual-audit-pack';
import { academicYearLabel } from '../school/incident-summary';
import { hasAnyRole, type Principal } from '../school/roles';
import { currentAcademicYear } from '../school/school-audit';
import type { AupCoverageSummary } from './aup-coverage';
import { londonToday } from './aup-paper-forms';
import { SUMMARY_ROLES, type FilteringFigures, type TrainingFigures } from './summarise-incidents';

/** Where the pack's evidence comes from; each source is optional, and a missing one leaves its questions to the coordinator. */
export interface AnnualAuditPackDependencies {
  schoolId: string;
  schoolName: string;
  schoolAudits: Pick<SchoolAuditStore, 'getYear'>;
  aggregates: Pick<IncidentAggregateStore, 'listMonths'>;
  audit: Pick<AuditStore, 'appendAudit'>;
  clock: () => Date;
  training?: (schoolId: string) => Promise<TrainingFigures & { courses: { course: string; provider: string; completedOn: string; people: number }[] }>;
  aupCoverage?: (schoolId: string) => Promise<AupCoverageSummary>;
  aupDocuments?: () => Promise<AupDocument[]>;
  paperForms?: (schoolId: string, documentId: string, version: number) => Promise<number>;
  filtering?: (schoolId: string) => Promise<FilteringFigures>;
}

async function settle<T>(source: (() => Promise<T>) | undefined): Promise<T | null> {
  if (!source) return null;
  try {
    return await source();
  } catch {
    return null;
  }
}

/**
 * The annual e-safety audit (seed 000 Appendix 5) as a printable evidence pack for governors and inspection:
 * every question, prefilled from the records where they can answer it. Governors and the school's leads may
 * export it; each export is audited.
 */
export async function exportAnnualAuditPack(deps: AnnualAuditPackDependencies, principal: Principal): Promise<{ kind: 'forbidden' } | { kind: 'ok'; value: { html: string; fileName: string } }> {
  const academicYear = currentAcademicYear(deps.clock());
  if (!hasAnyRole(principal, ...SUMMARY_ROLES)) {
    await deps.audit.appendAudit(deps.schoolId, { actorId: principal.aadObjectId, action: 'school-audit.export', target: `year|${academicYear}`, outcome: 'denied' });
    return { kind: 'forbidden' };
  }
  const { schoolId } = deps;
  const [year, months, training, coverage, documents, filtering] = await Promise.all([
    deps.schoolAudits.getYear(schoolId, academicYear),
    deps.aggregates.listMonths(schoolId, `${academicYear}-09`, `${academicYear + 1}-08`),
    settle(deps.training && (() => deps.training!(schoolId))),
    settle(deps.aupCoverage && (() => deps.aupCoverage!(schoolId))),
    settle(deps.aupDocuments),
    settle(deps.filtering && (() => deps.filtering!(schoolId))),
  ]);
  let aup: AuditEvidence['aup'] = null;
  if (coverage && documents) {
    aup = await Promise.all(
      documents.map(async (d) => ({
        title: d.title,
        version: d.version,
        audience: d.audience,
        percent: coverage.documents.find((c) => c.documentId === d.id)?.percent ?? 0,
        paperForms: deps.paperForms ? await deps.paperForms(schoolId, d.id, d.version) : 0,
      })),
    );
  }
  const evidence: AuditEvidence = {
    schoolName: deps.schoolName,
    academicYear,
    year: year ?? null,
    training,
    aup,
    incidents: { thisYear: months.reduce((s, m) => s + m.total, 0), closed: months.reduce((s, m) => s + m.closed, 0) },
    filtering: filtering ? { requests: filtering.approved + filtering.refused + filtering.waiting, decided: filtering.approved + filtering.refused, dueForReversal: filtering.dueForReversal } : null,
  };
  const today = londonToday(deps.clock());
  await deps.audit.appendAudit(schoolId, { actorId: principal.aadObjectId, action: 'school-audit.export', target: `year|${academicYear}`, outcome: 'succeeded' });
  return { kind: 'ok', value: { html: renderAnnualAuditPack(evidence, today), fileName: `e-safety-audit-${academicYearLabel(academicYear).replace('/', '-')}.html` } };
}
