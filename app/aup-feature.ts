import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigurationError } from './config';
import type { AppFeature, FeatureContext, FeatureFactory } from './feature';
import type { JsonRoute } from '../tab/server/api-responses';
import { registerAupRoutes } from '../tab/server/aup-routes';
import { AdapterAupCardSender, createAupBotFeature } from '../bot/aup-handlers';
import type { GraphGateway } from '../graph/graph-gateway';
import { GraphPeopleNames, RoleTitleNames } from '../identity/people-names';
import { AupStore } from '../records/aup-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { AupDocumentError, checkAupLibrary, parseAupDocument, type AupDocument } from '../school/aup-documents';
import type { Principal } from '../school/roles';
import { recordPaperAcknowledgements, type AupDocumentSource } from '../usecases/acknowledge-aup';
import { accessGateListener, getAupGateStatus, holdPupilsWithoutAup, retryAupReleases, type AupAccessGateDependencies } from '../usecases/aup-access-gate';
import { sendAupReminders, startAnnualRenewals, startAupCampaign, type AupAppInstaller, type AupCampaignDependencies } from '../usecases/aup-campaigns';
import { getAupCoverage, getAupCoverageSummary, listPupilsWithoutAup } from '../usecases/aup-coverage';

/**
 * The school's AUP documents: every `*.md` file in the folder, read again on each use so that an edited
 * file (a new version) counts at once, without a restart.
 */
export class AupDocumentFolder implements AupDocumentSource {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async listAupDocuments(): Promise<AupDocument[]> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.md')).sort();
    const documents = await Promise.all(files.map(async (f) => parseAupDocument(await readFile(join(this.dir, f), 'utf8'), f)));
    return documents;
  }

  /** Reads every file once at start-up and lists every problem, so a broken document stops the app starting. */
  checkAtStartup(): void {
    const problems: string[] = [];
    const documents: AupDocument[] = [];
    let files: string[] = [];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.md'));
    } catch {
      throw new ConfigurationError([`AUP_DOCUMENTS_DIR: the folder ${this.dir} cannot be read.`]);
    }
    for (const file of files) {
      try {
        documents.push(parseAupDocument(readFileSync(join(this.dir, file), 'utf8'), file));
      } catch (error) {
        if (!(error instanceof AupDocumentError)) throw error;
        problems.push(`AUP_DOCUMENTS_DIR: ${error.message}`);
      }
    }
    problems.push(...checkAupLibrary(documents).map((p) => `AUP_DOCUMENTS_DIR: ${p}.`));
    if (problems.length > 0) throw new ConfigurationError(problems);
  }
}

/** Installs the app through Graph for people the bot cannot reach yet. */
export class GraphAupAppInstaller implements AupAppInstaller {
  constructor(
    private readonly graph: Pick<GraphGateway, 'installAppForUsers'>,
    private readonly teamsAppCatalogId: string,
  ) {}

  async installForUsers(userIds: readonly string[]): Promise<{ userId: string; ok: boolean }[]> {
    const results = await this.graph.installAppForUsers(userIds.map((userId) => ({ userId, teamsAppId: this.teamsAppCatalogId })));
    return userIds.map((userId, i) => ({ userId, ok: results[i]?.ok === true }));
  }
}

/** What the tab calls; each function checks the caller's roles on the server where it matters. */
export interface AupUseCases {
  getAupCoverageSummary(schoolId: string): ReturnType<typeof getAupCoverageSummary>;
  getAupCoverage(principal: Principal): ReturnType<typeof getAupCoverage>;
  recordPaperAcknowledgements(principal: Principal, csv: string): ReturnType<typeof recordPaperAcknowledgements>;
  startAupCampaign(principal: Principal, documentId: string, audience: string): ReturnType<typeof startAupCampaign>;
  listPupilsWithoutAup(): ReturnType<typeof listPupilsWithoutAup>;
  /** The access gate's counts (admin only). */
  getAupGateStatus(principal: Principal): ReturnType<typeof getAupGateStatus>;
  /** Keeps pupils without a current pupil AUP disabled (admin only; AUP_ACCESS_GATE on and Graph live). */
  holdPupilsWithoutAup(principal: Principal): ReturnType<typeof holdPupilsWithoutAup>;
  sendAupReminders(): ReturnType<typeof sendAupReminders>;
  /** Enables held pupils whose AUP is on record but whose release failed; the hourly job runs it too. */
  retryAupReleases(): ReturnType<typeof retryAupReleases>;
}

export interface AupFeature extends AppFeature {
  aup: AupUseCases;
}

export interface AupFeatureOptions {
  /**
   * The app's id in the tenant's Teams app catalog. With it (and Graph live), a campaign installs the app
   * for people the bot cannot reach yet; without it they stay pending and are reported.
   */
  teamsAppCatalogId?: string;
  /** How often the reminder job runs. Default hourly. */
  reminderJobEveryMs?: number;
}

/** The AUP use cases' dependencies and the access gate's, for one school. */
export function aupDependencies(context: FeatureContext, options: AupFeatureOptions = {}): { deps: AupCampaignDependencies; gate: AupAccessGateDependencies } {
  const folder = new AupDocumentFolder(context.config.aup.documentsDir);
  const deps: AupCampaignDependencies = {
    schoolId: context.config.school.id,
    documents: folder,
    store: new AupStore(context.tables),
    audit: context.audit,
    roles: context.roles,
    clock: context.clock,
    logger: context.logger,
    conversations: context.conversations,
    sender: new AdapterAupCardSender(context.adapter, context.config.bot.appId),
    installer: (() => {
      const catalogId = options.teamsAppCatalogId ?? context.config.aup.teamsAppCatalogId;
      return context.graph && catalogId ? new GraphAupAppInstaller(context.graph, catalogId) : undefined;
    })(),
    reminderDays: context.config.aup.reminderDays,
    gateListener: accessGateListener(() => gate),
    pupilYearGroups: () => pupilYearGroups(new PupilRegisterStore(context.tables), context.config.school.id),
  };
  const gate: AupAccessGateDependencies = {
    ...deps,
    accessGateOn: context.config.aup.accessGate,
    register: new PupilRegisterStore(context.tables),
    ...(context.graph ? { graph: context.graph } : {}),
  };
  return { deps, gate };
}

/**
 * Pupils' year groups from the register (one query), keyed by lower-case object id and by `pupil-<register key>`
 * for a pupil without an account yet, as paper forms name them (usecases/aup-paper-forms.ts).
 */
export async function pupilYearGroups(register: Pick<PupilRegisterStore, 'listPupils'>, schoolId: string): Promise<ReadonlyMap<string, string>> {
  const years = new Map<string, string>();
  for (const pupil of await register.listPupils(schoolId)) {
    if (!pupil.yearGroup) continue;
    years.set(`pupil-${pupil.externalId}`.toLowerCase(), pupil.yearGroup);
    if (pupil.userId) years.set(pupil.userId.toLowerCase(), pupil.yearGroup);
  }
  return years;
}

/** The tab's paper-form routes (tab/server/aup-routes.ts), with the access gate so a recorded pupil form releases the pupil. */
export function aupTabRoutes(context: FeatureContext): (api: JsonRoute) => void {
  const { deps } = aupDependencies(context);
  return (api) => registerAupRoutes(api, { ...deps, register: new PupilRegisterStore(context.tables) });
}

/** AUP acknowledgements: `/aup`, the card verbs, campaigns with reminders, coverage and paper forms. */
export function createAupFeature(options: AupFeatureOptions = {}): FeatureFactory {
  return (context): AupFeature => {
    new AupDocumentFolder(context.config.aup.documentsDir).checkAtStartup();
    const { deps, gate } = aupDependencies(context, options);
    const aup: AupUseCases = {
      getAupCoverageSummary: (schoolId) => getAupCoverageSummary(deps, schoolId),
      getAupCoverage: (principal) => getAupCoverage(deps, principal),
      recordPaperAcknowledgements: (principal, csv) => recordPaperAcknowledgements(deps, principal, csv),
      startAupCampaign: (principal, documentId, audience) => startAupCampaign(deps, { principal, documentId, audience, correlationId: `tab-${Date.now()}` }),
      listPupilsWithoutAup: () => listPupilsWithoutAup({ ...deps, accessGate: context.config.aup.accessGate }),
      getAupGateStatus: (principal) => getAupGateStatus(gate, principal),
      holdPupilsWithoutAup: (principal) => holdPupilsWithoutAup(gate, principal, `tab-${Date.now()}`),
      sendAupReminders: () => sendAupReminders(deps),
      retryAupReleases: () => retryAupReleases(gate),
    };
    return {
      name: 'aup',
      // Campaign and coverage replies name people (Graph display names with a tenant, role titles without one).
      bot: createAupBotFeature({ ...deps, people: context.graph ? new GraphPeopleNames(context.graph, new RoleTitleNames(context.roles), { clock: context.clock }) : new RoleTitleNames(context.roles) }, gate),
      jobs: [
        {
          name: 'aup-reminders',
          everyMs: options.reminderJobEveryMs ?? 60 * 60_000,
          run: async () => {
            // The September renewal starts this academic year's campaigns for annual documents first (once
            // across instances: the campaign row is inserted once), so the reminder run sends them.
            const renewals = await startAnnualRenewals(deps).then(() => undefined, (error: unknown) => error);
            // The access gate's release retry runs even when reminders fail, and the other way round.
            const [reminders, releases] = await Promise.allSettled([sendAupReminders(deps), retryAupReleases(gate)]);
            if (renewals !== undefined) throw renewals;
            if (reminders.status === 'rejected') throw reminders.reason;
            if (releases.status === 'rejected') throw releases.reason;
          },
        },
      ],
      aup,
    };
  };
}
