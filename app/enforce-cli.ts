import { randomUUID } from 'node:crypto';
import { DefaultAzureCredential } from '@azure/identity';
import { connectGraph } from './graph-connection';
import { createCliLogger, loadCliConfig, takeSchoolOption } from './cli-support';
import { GraphCredentialError, GraphServiceError, LicenceNotFoundError } from '../graph/graph-errors';
import type { GraphGateway } from '../graph/graph-gateway';
import { AuditStore } from '../records/audit-store';
import { ComplianceStore } from '../records/compliance-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { StorageUnavailableError, Tables } from '../records/tables';
import {
  auditPupilPolicies,
  EnforcementModeError,
  fixPupilPolicies,
  MissingTeamsPolicyError,
  recordComplianceRun,
  type EnforcementDependencies,
  type EnforcementReport,
} from '../usecases/enforce-pupil-policies';

const USAGE = `Audit and repair the pupil safety settings in Microsoft 365.

  npm run enforce -- audit [--json]   reports each pupil's and class team's drift, changing nothing
  npm run enforce -- fix [--json]     repairs only what drifted, then audits again

  With SCHOOLS_FILE (a trust), say which school: --school ID

Exit code: 0 when everything complies (after fix: when nothing is left), 1 when drift remains, 2 when nothing could be done.`;

const OK = 0;
const DRIFT_REMAINS = 1;
const NOT_RUN = 2;

/** Where the command writes, and what it may use instead of the real environment (tests). */
export interface EnforceCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env?: Record<string, string | undefined>;
  clock?: () => Date;
  /** A gateway to use instead of connecting from configuration (tests). */
  graph?: GraphGateway;
}

/** Runs `enforce audit|fix [--json]` and returns the exit code. */
export async function runEnforceCli(argv: readonly string[], io: EnforceCliIo): Promise<number> {
  const say = (text: string): void => void io.stderr.write(`${text}\n`);
  const { argv: rest, school } = takeSchoolOption(argv);
  const args = rest.filter((a) => a !== '--');
  const json = args.includes('--json');
  const command = args.find((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${USAGE}\n`);
    return OK;
  }
  if ((command !== 'audit' && command !== 'fix') || unknown.length > 0) {
    say(`${command ? `Unknown command or option: ${[command, ...unknown].filter((a) => a !== 'audit' && a !== 'fix').join(' ') || command}` : 'Say audit or fix.'}\n\n${USAGE}`);
    return NOT_RUN;
  }
  const config = loadCliConfig(io, school);
  if (!config) return NOT_RUN;
  const correlationId = randomUUID();
  const logger = createCliLogger(config, io).child({ correlationId });
  const graph = io.graph ?? connectGraph(config, logger, { onDeviceCodeMessage: say });
  if (!graph) {
    say(`GRAPH_MODE=plan reads and changes nothing in Microsoft 365, so "enforce ${command}" cannot run. Set GRAPH_MODE=live and the Graph sign-in settings (see "Enforcing the pupil safety settings" in the README).`);
    return NOT_RUN;
  }
  const clock = io.clock ?? (() => new Date());
  const tables = new Tables(
    config.tables.connectionString ? { connectionString: config.tables.connectionString } : { endpoint: config.tables.endpoint, credential: new DefaultAzureCredential() },
  );
  const deps: EnforcementDependencies = {
    schoolId: config.school.id,
    config,
    graph,
    register: new PupilRegisterStore(tables),
    audit: new AuditStore(tables, clock),
    actorId: `cli:enforce:${config.graph.auth}`,
    clock,
    logger,
  };
  try {
    const startedAt = clock().toISOString();
    const runId = `${command}-${startedAt.replace(/[:.]/g, '')}-${correlationId.slice(0, 8)}`;
    let report: EnforcementReport;
    let changes = 0;
    if (command === 'audit') report = await auditPupilPolicies(deps);
    else {
      const result = await fixPupilPolicies(deps);
      report = result.after;
      changes = result.changes.length;
    }
    await recordComplianceRun(new ComplianceStore(tables, clock), config.school.id, report, { runId, kind: command, startedAt });
    if (json) io.stdout.write(`${JSON.stringify(toJson(report))}\n`);
    else printReport(report, io, command === 'fix' ? changes : undefined);
    return report.summary.total === report.summary.compliant && report.teams.every((t) => t.compliant) ? OK : DRIFT_REMAINS;
  } catch (error) {
    say(safeSentence(error, correlationId));
    logger.error('enforce-cli.failed', { correlationId, command, error: error instanceof Error ? error.name : 'unknown', code: error instanceof GraphServiceError ? error.code : undefined });
    return NOT_RUN;
  }
}

/** The `--json` shape: pupils by UPN with their drift, the class teams, and the summary. */
export function toJson(report: EnforcementReport): Record<string, unknown> {
  const drift = (d: { setting: string; expected: string; actual: string; reason: string; kind: string }) => ({ setting: d.setting, expected: d.expected, actual: d.actual, reason: d.reason, kind: d.kind });
  return {
    pupils: report.pupils.map((p) => ({ upn: p.userPrincipalName, userId: p.userId, compliant: p.compliant, drift: p.drift.map(drift) })),
    teams: report.teams.map((t) => ({ teamId: t.teamId, displayName: t.displayName, compliant: t.compliant, drift: t.drift.map(drift) })),
    summary: { total: report.summary.total, compliant: report.summary.compliant, driftByKind: report.summary.driftByKind, teams: report.summary.teams },
  };
}

function printReport(report: EnforcementReport, io: EnforceCliIo, changes: number | undefined): void {
  if (changes !== undefined) io.stdout.write(`Repairs made: ${changes}. Audit after the repair:\n`);
  for (const pupil of report.pupils.filter((p) => !p.compliant)) {
    io.stdout.write(`${pupil.userPrincipalName}\n`);
    for (const d of pupil.drift) io.stdout.write(`  ${d.setting}: expected ${d.expected}, actual ${d.actual} (${d.reason})${d.repairable ? '' : ' [needs an admin]'}\n`);
  }
  for (const team of report.teams.filter((t) => !t.compliant)) {
    io.stdout.write(`team ${team.displayName ?? ''} (${team.teamId})\n`);
    for (const d of team.drift) io.stdout.write(`  ${d.setting}: expected ${d.expected}, actual ${d.actual}\n`);
  }
  const s = report.summary;
  io.stdout.write(`Summary: ${s.compliant} of ${s.total} pupils compliant; ${s.teams.compliant} of ${s.teams.total} class teams compliant.\n`);
}

function safeSentence(error: unknown, correlationId: string): string {
  if (error instanceof MissingTeamsPolicyError || error instanceof EnforcementModeError || error instanceof LicenceNotFoundError || error instanceof GraphCredentialError) {
    return `${error.message}\nNothing has been changed.`;
  }
  if (error instanceof StorageUnavailableError) return `${error.message} Check that Azurite or the storage account is reachable (TABLES_CONNECTION_STRING). (correlation id ${correlationId})`;
  if (error instanceof GraphServiceError) return `Microsoft Graph refused a request: ${error.status} ${error.code}${error.requestId ? ` (request-id ${error.requestId})` : ''}. (correlation id ${correlationId})`;
  return `The command stopped because of an unexpected error (${error instanceof Error ? error.name : 'unknown'}); report correlation id ${correlationId} if it recurs.`;
}

if (require.main === module) {
  runEnforceCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.name : 'Error'}: the command could not run.\n`);
      process.exitCode = NOT_RUN;
    },
  );
}
