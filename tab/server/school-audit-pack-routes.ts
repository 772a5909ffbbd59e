import { exportAnnualAuditPack, type AnnualAuditPackDependencies } from '../../usecases/annual-audit-pack';
import { forbidden, type JsonRoute } from './api-responses';

/** The annual e-safety audit as a printable HTML evidence pack (a download; print it or save it as PDF). */
export function registerSchoolAuditPackRoutes(api: JsonRoute, deps: AnnualAuditPackDependencies): void {
  api('get', '/api/school-audit/pack', async (_req, principal) => {
    const outcome = await exportAnnualAuditPack(deps, principal);
    if (outcome.kind === 'forbidden') return forbidden('The audit pack is for governors and the school\'s safeguarding leads.');
    return { status: 200, body: null, file: { data: Buffer.from(outcome.value.html, 'utf8'), contentType: 'text/html; charset=utf-8', fileName: outcome.value.fileName } };
  });
}
