import type { FeatureContext } from './feature';
import { AupDocumentFolder, aupDependencies } from './aup-feature';
import { filteringSummaryProvider } from './filtering-feature';
import { trainingAuditEvidence } from './training-feature';
import { AupStore } from '../records/aup-store';
import { IncidentAggregateStore } from '../records/incident-aggregate-store';
import { SchoolAuditStore } from '../records/school-audit-store';
import { renewalYear } from '../school/aup-documents';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerSchoolAuditPackRoutes } from '../tab/server/school-audit-pack-routes';
import { getAupCoverageSummary } from '../usecases/aup-coverage';

/** The tab's annual-audit evidence pack route, with every record the pack draws on. */
export function schoolAuditPackRoutes(context: FeatureContext): (api: JsonRoute) => void {
  const { deps: aup } = aupDependencies(context);
  const documents = new AupDocumentFolder(context.config.aup.documentsDir);
  const store = new AupStore(context.tables);
  return (api) =>
    registerSchoolAuditPackRoutes(api, {
      schoolId: context.config.school.id,
      schoolName: context.config.school.name,
      schoolAudits: new SchoolAuditStore(context.tables),
      aggregates: new IncidentAggregateStore(context.tables),
      audit: context.audit,
      clock: context.clock,
      training: trainingAuditEvidence(context),
      aupCoverage: (schoolId) => getAupCoverageSummary(aup, schoolId),
      aupDocuments: () => documents.listAupDocuments(),
      paperForms: async (schoolId, documentId, version) => {
        const document = (await documents.listAupDocuments()).find((d) => d.id === documentId);
        const academicYear = document ? renewalYear(document, context.clock()) : undefined;
        return (await store.listAcknowledgements(schoolId, documentId, version, academicYear)).filter((a) => a.channel === 'paper').length;
      },
      filtering: filteringSummaryProvider(context),
    });
}
