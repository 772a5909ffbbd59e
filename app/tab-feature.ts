import type { FeatureFactory } from './feature';
import { IncidentAggregateStore } from '../records/incident-aggregate-store';
import { ComplianceStore } from '../records/compliance-store';
import { SchoolAuditStore } from '../records/school-audit-store';
import { registerTabRoutes } from '../tab/server/tab-routes';
import { TabTokenValidator } from '../tab/server/tab-tokens';
import { getLatestComplianceSummary } from '../usecases/enforce-pupil-policies';
import { getGovernanceFigures } from '../usecases/school-audit';
import { getAupCoverageSummary } from '../usecases/aup-coverage';
import { AupStore } from '../records/aup-store';
import { AupDocumentFolder } from './aup-feature';
import { consentFigures, type SummaryProviders } from '../usecases/summarise-incidents';
import { countConsentCoverage } from '../usecases/consent-register';
import { ConsentStore } from '../records/consent-store';
import { consentAreaLabel, type ConsentArea } from '../school/consent';
import { pupilProvisioningSettingsOf, type AppConfig } from './config';
import { ProvisioningRunStore } from '../records/provisioning-run-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { retentionDependencies } from './retention-feature';
import { caseDependencies, caseTabRoutes } from './case-wiring';
import { aupTabRoutes, pupilYearGroups } from './aup-feature';
import { filteringSummaryProvider, filteringTabRoutes } from './filtering-feature';
import { trainingSummaryProvider, trainingTabRoutes } from './training-feature';
import { schoolAuditPackRoutes } from './school-audit-pack';
import type { JsonRoute } from '../tab/server/api-responses';

/** Adds the school-records routes (paper AUP forms, …) to the case view's extra routes. */
function withRecordRoutes<T extends { extraRoutes: ((api: JsonRoute) => void)[] }>(routes: T, more: ((api: JsonRoute) => void)[]): T {
  return { ...routes, extraRoutes: [...routes.extraRoutes, ...more] };
}

/** The local stand-in identity's key: never when deployed (config refuses it too; this is the second lock). */
function localIdentitySecretOf(config: AppConfig): string | undefined {
  return config.deployed ? undefined : config.tab.localIdentitySecret;
}

/** Checks the tab's sign-in tokens (Entra's, or the local stand-in identity in development). */
export function createTabTokenValidator(config: AppConfig): TabTokenValidator {
  return new TabTokenValidator({
    issuer: config.tab.authIssuer,
    jwksUri: config.tab.authJwksUri,
    audience: config.tab.authAudience,
    tenantIds: config.tab.tenantIds,
    localIdentitySecret: localIdentitySecretOf(config),
  });
}

/**
 * The Teams tab: the governors' summary, the triage view and their JSON API, behind Teams SSO.
 * Other features' figures (AUP coverage, pupil-policy compliance, the annual audit) plug in as optional
 * providers; the summary says "not available yet" for any that is missing.
 */
export function createTabFeature(providers: SummaryProviders = {}): FeatureFactory {
  return (context) => {
    const schoolId = context.config.school.id;
    const aggregates = new IncidentAggregateStore(context.tables);
    const schoolAudit = { schoolId, store: new SchoolAuditStore(context.tables), audit: context.audit, clock: context.clock };
    const compliance = new ComplianceStore(context.tables, context.clock);
    const allProviders: SummaryProviders = {
      governance: () => getGovernanceFigures(schoolAudit),
      compliance: (id) => getLatestComplianceSummary(id, { compliance }),
      aupCoverage: (id) =>
        getAupCoverageSummary(
          {
            schoolId,
            documents: new AupDocumentFolder(context.config.aup.documentsDir),
            store: new AupStore(context.tables),
            audit: context.audit,
            roles: context.roles,
            clock: context.clock,
            logger: context.logger,
            pupilYearGroups: () => pupilYearGroups(new PupilRegisterStore(context.tables), id),
          },
          id,
        ),
      training: trainingSummaryProvider(context),
      filtering: filteringSummaryProvider(context),
      consent: async (id) => consentFigures(await countConsentCoverage({ schoolId: id, store: new ConsentStore(context.tables), pupils: new PupilRegisterStore(context.tables) }), (area) => consentAreaLabel(area as ConsentArea)),
      ...providers,
    };
    const validator = createTabTokenValidator(context.config);
    const register = new PupilRegisterStore(context.tables);
    const admin = {
      schoolName: context.config.school.name,
      graphLive: context.graph !== undefined,
      logger: context.logger.child({ feature: 'admin' }),
      console: {
        schoolId,
        provisioning: {
          schoolId,
          register,
          audit: context.audit,
          ...(context.graph ? { gateway: context.graph } : {}),
          settings: pupilProvisioningSettingsOf(context.config),
          clock: context.clock,
          logger: context.logger.child({ feature: 'provisioning' }),
        },
        runs: new ProvisioningRunStore(context.tables),
        compliance,
        register,
        leaseMs: context.config.leaseMs,
        clock: context.clock,
      },
    };
    return {
      name: 'tab',
      routes: (server) =>
        registerTabRoutes(server, {
          schoolId,
          validator,
          roles: context.roles,
          audit: context.audit,
          logger: context.logger,
          clock: context.clock,
          localIdentitySecret: localIdentitySecretOf(context.config),
          summary: { schoolId, aggregates, audit: context.audit, clock: context.clock, providers: allProviders },
          schoolAudit,
          admin,
          retention: retentionDependencies(context),
          transfer: {
            register,
            packs: { schoolId, schoolName: context.config.school.name, incidents: context.incidents, pupils: register, audit: context.audit, roles: context.roles, clock: context.clock },
          },
          ...withRecordRoutes(caseTabRoutes(caseDependencies(context, aggregates, register)), [aupTabRoutes(context), filteringTabRoutes(context), trainingTabRoutes(context), schoolAuditPackRoutes(context)]),
        }),
    };
  };
}
