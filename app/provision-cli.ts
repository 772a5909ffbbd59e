import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultAzureCredential } from '@azure/identity';
import type { AuthenticationProvider } from '@microsoft/microsoft-graph-client';
import { Presets, SingleBar } from 'cli-progress';
import { ConfigurationError, pupilProvisioningSettingsOf, type AppConfig } from './config';
import { createCliLogger, loadCliConfig, takeSchoolOption } from './cli-support';
import type { Logger } from '../infra/logger';
import { createGraphCredential, type GraphCredentialOptions } from '../graph/graph-credentials';
import { GraphCredentialError, GraphServiceError, LicenceNotFoundError } from '../graph/graph-errors';
import { createGraphGateway, type GraphGateway } from '../graph/graph-gateway';
import { AuditStore } from '../records/audit-store';
import { ProvisioningRunStore } from '../records/provisioning-run-store';
import { PupilRegisterStore } from '../records/pupil-register-store';
import { StorageUnavailableError, Tables } from '../records/tables';
import { readRollCsv, readSdsRoll, RollFormatError, type RollReadResult } from '../school/pupil-roll';
import { academicYearStarting } from '../school/pupil-usernames';
import { renderCredentialSlips, type CredentialSlip } from '../usecases/credential-slips';
import { manageLeavers, readLeaversCsv, type LeaverListEntry, type LeaversResult } from '../usecases/manage-leavers';
import {
  applyProvisioning,
  planProvisioning,
  ProvisioningModeError,
  type ProvisioningDependencies,
  type ProvisioningPhase,
  type ProvisioningPlan,
  type ProvisioningProgress,
  type ProvisioningResult,
} from '../usecases/provision-pupils';
import { resetPupilPassword } from '../usecases/reset-pupil-password';
import { withProvisioningLease } from '../usecases/provisioning-lease';

const USAGE = `Provision pupil accounts from the MIS roll.

  npm run provision -- plan  --csv FILE [--academic-year YYYY] [--json]
  npm run provision -- apply --csv FILE [--academic-year YYYY] --slips OUT.html [--take-over RUN_ID] [--json]
  npm run provision -- leavers --csv FILE [--leavers FILE] [--apply] [--allow-many-leavers] [--json]
  npm run provision -- reset-password USERNAME --slips OUT.html [--json]

  Instead of --csv, an SDS v2.1 export: --sds-users users.csv --sds-roles roles.csv
  With SCHOOLS_FILE (a trust), say which school: --school ID

  plan     lists every row as create / update / unchanged / reject, changing nothing
  apply    does the work and writes the credential slips (new passwords) to OUT.html;
           --take-over RUN_ID takes the school's lease from that run at once (audited) instead of
           waiting up to LEASE_SECONDS for a crashed run's lease to expire
  leavers  disables pupils no longer on the roll (dry run unless --apply); deletes them after LEAVER_GRACE_DAYS
  reset-password  gives a pupil a new password and a slip

Exit code: 0 when every row went through, 1 when a row failed or was rejected, 2 when nothing could be done.`;

/** Exit codes. */
const OK = 0;
const ROWS_FAILED = 1;
const NOT_RUN = 2;

/** Where the command writes, and what it may use instead of the real environment (tests). */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Settings to read instead of process.env. */
  env?: Record<string, string | undefined>;
  clock?: () => Date;
  signal?: AbortSignal;
}

/** A mistake in how the command was called; the message says what to type. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Command = 'plan' | 'apply' | 'leavers' | 'reset-password';

interface CliArgs {
  command: Command;
  target?: string;
  csv?: string;
  sdsUsers?: string;
  sdsRoles?: string;
  academicYear?: number;
  slips?: string;
  leavers?: string;
  apply: boolean;
  allowManyLeavers: boolean;
  json: boolean;
  takeOver?: string;
}

/** Runs one provisioning command and returns its exit code. */
export async function runProvisionCli(argv: readonly string[], io: CliIo): Promise<number> {
  const say = (text: string): void => void io.stderr.write(`${text}\n`);
  const { argv: rest, school } = takeSchoolOption(argv);
  let args: CliArgs;
  try {
    const parsed = parseCliArgs(rest);
    if (parsed === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return OK;
    }
    args = parsed;
  } catch (error) {
    say(`${(error as Error).message}\n\n${USAGE}`);
    return NOT_RUN;
  }

  const config = loadCliConfig(io, school);
  if (!config) return NOT_RUN;

  const correlationId = randomUUID();
  const logger = createCliLogger(config, io).child({ correlationId });
  try {
    return await runCommand(args, config, io, logger);
  } catch (error) {
    say(safeSentence(error, correlationId));
    logger.error('provision-cli.failed', { correlationId, command: args.command, error: error instanceof Error ? error.name : 'unknown', code: error instanceof GraphServiceError ? error.code : undefined });
    return NOT_RUN;
  }
}

async function runCommand(args: CliArgs, config: AppConfig, io: CliIo, logger: Logger): Promise<number> {
  const say = (text: string): void => void io.stderr.write(`${text}\n`);
  const clock = io.clock ?? (() => new Date());
  const live = config.graph.mode === 'live';
  const changes = args.command === 'apply' || args.command === 'reset-password' || (args.command === 'leavers' && args.apply);
  if (changes && !live) {
    say(`GRAPH_MODE=plan changes nothing, so "${args.command}${args.apply ? ' --apply' : ''}" cannot run. Set GRAPH_MODE=live and the Graph sign-in settings (see "Provisioning pupils" in the README), or use "plan" to see what would happen.`);
    return NOT_RUN;
  }
  if (args.slips) checkSlipsPath(args.slips);
  const roll = args.command === 'reset-password' ? undefined : readRoll(args);
  // Pupils still provisioned, whose date of birth was left out: the school corrects it in the MIS.
  for (const flagged of roll?.flagged ?? []) io.stderr.write(`Date of birth not used: ${flagged.reason}\n`);
  const leavers = args.leavers ? readLeaversFile(args.leavers) : undefined;

  // As in app/compose.ts: without a connection string, storage is reached with the managed identity.
  const tables = new Tables(
    config.tables.connectionString ? { connectionString: config.tables.connectionString } : { endpoint: config.tables.endpoint, credential: new DefaultAzureCredential() },
  );
  const audit = new AuditStore(tables, clock);
  const register = new PupilRegisterStore(tables);
  const runs = new ProvisioningRunStore(tables);
  const authProvider = live ? createGraphCredential(credentialOptions(config, say)) : undefined;
  const gateway = authProvider ? createGraphGateway({ authProvider, baseUrl: config.graph.baseUrl, concurrency: config.graph.concurrency, logger }) : undefined;
  const actorId = authProvider ? await actorIdOf(authProvider, config) : 'cli:plan';
  const schoolId = config.school.id;
  const slipWriter = (path: string) => async (slips: CredentialSlip[]): Promise<void> => {
    // 'wx': never overwrite a file that may hold passwords not yet printed.
    writeFileSync(path, renderCredentialSlips(slips, { schoolName: config.school.name }), { flag: 'wx', mode: 0o600 });
  };

  if (args.command === 'reset-password') {
    const outcome = await resetPupilPassword(
      { schoolId, register, audit, gateway: gateway as GraphGateway, forcePasswordChange: config.pupils.forcePasswordChange, actorId, clock, logger },
      { userPrincipalName: args.target as string, deliverSlips: slipWriter(args.slips as string) },
    );
    if (args.json) io.stdout.write(`${JSON.stringify(outcome)}\n`);
    if (outcome.kind === 'reset') {
      say(`New password set for ${outcome.userPrincipalName}. The slip is in ${args.slips}: print it, give it to the pupil, then delete the file.`);
      return OK;
    }
    say(outcome.reason);
    return outcome.kind === 'refused' ? NOT_RUN : ROWS_FAILED;
  }

  if (args.command === 'leavers') {
    const result = await manageLeavers(
      { schoolId, register, audit, runs, ...(gateway ? { gateway } : {}), graceDays: config.pupils.leaverGraceDays, actorId, clock, logger },
      { roll: roll as RollReadResult, ...(leavers ? { leavers } : {}), apply: args.apply, allowManyLeavers: args.allowManyLeavers },
    );
    printLeavers(result, args, io);
    if (result.refused) return NOT_RUN;
    return result.summary.failed + result.summary.reject > 0 ? ROWS_FAILED : OK;
  }

  const deps: ProvisioningDependencies = {
    schoolId,
    register,
    audit,
    runs,
    ...(gateway ? { gateway } : {}),
    settings: pupilProvisioningSettingsOf(config),
    actorId,
    clock,
    logger,
  };
  const academicYearStart = args.academicYear ?? academicYearStarting(clock());
  const progress = createProgressBar(io, !args.json, args.command);
  try {
    if (args.command === 'plan') {
      const plan = await planProvisioning(deps, { roll: roll as RollReadResult, academicYearStart, onProgress: progress.update });
      progress.stop();
      printPlan(plan, args, io, live);
      if (plan.blockers.length > 0) return NOT_RUN;
      return plan.summary.failed + plan.summary.reject > 0 ? ROWS_FAILED : OK;
    }
    // The same lease as the Admin tab's, so the CLI and the tab never provision the school at once.
    const runId = randomUUID();
    const leased = await withProvisioningLease(
      { schoolId, runs, audit, leaseMs: config.leaseMs, clock },
      { runId, actorId, ...(args.takeOver ? { takeOverRunId: args.takeOver } : {}) },
      (signal) =>
        applyProvisioning(
          { ...deps, newRunId: () => runId },
          { roll: roll as RollReadResult, academicYearStart, onProgress: progress.update, deliverSlips: slipWriter(args.slips as string), signal },
        ),
      io.signal,
    );
    progress.stop();
    if (leased.kind === 'busy') {
      say(leased.message);
      return NOT_RUN;
    }
    const result: ProvisioningResult = leased.value;
    printPlan(result, args, io, live);
    if (result.blocked) return NOT_RUN;
    if (result.resumedRunId) say(`This run finished the work of an earlier run (${result.resumedRunId}) that did not complete.`);
    if (result.interrupted) say(`The run stopped part-way: ${result.interrupted}. Each pupil's progress is saved; run apply again to finish.`);
    say(
      result.slipsIssued > 0
        ? `${result.slipsIssued} credential ${result.slipsIssued === 1 ? 'slip was' : 'slips were'} written to ${args.slips}. Print them, hand them out, then delete the file: the passwords are stored nowhere else.`
        : 'No account has a new password, so no slips were written.',
    );
    return result.summary.failed + result.summary.reject > 0 || result.interrupted ? ROWS_FAILED : OK;
  } finally {
    progress.stop();
  }
}

function parseCliArgs(argv: readonly string[]): CliArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        csv: { type: 'string' },
        'sds-users': { type: 'string' },
        'sds-roles': { type: 'string' },
        'academic-year': { type: 'string' },
        slips: { type: 'string' },
        leavers: { type: 'string' },
        apply: { type: 'boolean', default: false },
        'allow-many-leavers': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'take-over': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return 'help';
  const [command, target, ...extra] = positionals;
  if (!['plan', 'apply', 'leavers', 'reset-password'].includes(command as string)) throw new UsageError(`Unknown command "${command}"; use plan, apply, leavers or reset-password.`);
  const args: CliArgs = {
    command: command as Command,
    apply: values.apply === true,
    allowManyLeavers: values['allow-many-leavers'] === true,
    json: values.json === true,
    ...(values.csv ? { csv: values.csv } : {}),
    ...(values['sds-users'] ? { sdsUsers: values['sds-users'] } : {}),
    ...(values['sds-roles'] ? { sdsRoles: values['sds-roles'] } : {}),
    ...(values.slips ? { slips: values.slips } : {}),
    ...(values.leavers ? { leavers: values.leavers } : {}),
    ...(values['take-over'] ? { takeOver: values['take-over'] } : {}),
  };
  if (args.takeOver !== undefined && (args.command !== 'apply' || !/^[A-Za-z0-9-]{1,64}$/.test(args.takeOver))) {
    throw new UsageError('--take-over belongs to apply and takes the run id the busy message names.');
  }
  if (args.command === 'reset-password') {
    if (!target || extra.length > 0) throw new UsageError('reset-password takes one username, such as: reset-password 21zoen@school.example --slips slip.html');
    if (!args.slips) throw new UsageError('reset-password needs --slips OUT.html for the new password.');
    return { ...args, target };
  }
  if (target !== undefined) throw new UsageError(`Unexpected argument "${target}".`);
  if (args.csv && (args.sdsUsers || args.sdsRoles)) throw new UsageError('Give either --csv or --sds-users with --sds-roles, not both.');
  if (!args.csv && !(args.sdsUsers && args.sdsRoles)) throw new UsageError(`${args.command} needs the roll: --csv FILE, or --sds-users FILE --sds-roles FILE.`);
  if (args.command === 'apply' && !args.slips) throw new UsageError('apply needs --slips OUT.html, where the new passwords are written for printing.');
  if (args.command !== 'leavers' && (args.leavers || args.apply)) throw new UsageError('--leavers and --apply belong to the leavers command.');
  const year = values['academic-year'];
  if (year !== undefined) {
    if (!/^\d{4}$/.test(year) || Number(year) < 2000 || Number(year) > 2100) throw new UsageError(`--academic-year takes the year the academic year starts, such as 2026 for 2026/27 (got "${year}").`);
    args.academicYear = Number(year);
  }
  return args;
}

function readRoll(args: CliArgs): RollReadResult {
  // With --academic-year, a date of birth implausible for the pupil's year group is flagged and not used.
  const options = args.academicYear !== undefined ? { academicYearStart: args.academicYear } : {};
  if (args.csv) return readRollCsv(readInput(args.csv, '--csv'), options);
  return readSdsRoll(readInput(args.sdsUsers as string, '--sds-users'), readInput(args.sdsRoles as string, '--sds-roles'), options);
}

function readLeaversFile(path: string): LeaverListEntry[] {
  return readLeaversCsv(readInput(path, '--leavers')).leavers;
}

function readInput(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`Cannot read ${path} (${option}): ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}.`);
  }
}

/** Checked before any work, so a run never ends unable to write its passwords. */
function checkSlipsPath(path: string): void {
  const full = resolve(path);
  if (existsSync(full)) throw new UsageError(`${path} already exists and may hold passwords not yet printed. Print and delete it, or give another file name.`);
  const dir = dirname(full);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`The folder for ${path} does not exist.`);
}

function credentialOptions(config: AppConfig, say: (text: string) => void): GraphCredentialOptions {
  const authority = { tenantId: config.graph.tenantId, clientId: config.graph.clientId, authorityHost: config.graph.authorityHost, graphBaseUrl: config.graph.baseUrl };
  switch (config.graph.auth) {
    case 'client-credentials':
      return {
        kind: 'client-credentials',
        ...authority,
        ...(config.graph.clientSecret ? { clientSecret: config.graph.clientSecret } : {}),
        ...(config.graph.certificatePath ? { certificatePath: config.graph.certificatePath } : {}),
      };
    case 'device-code':
      return { kind: 'device-code', ...authority, onDeviceCodeMessage: say };
    case 'token':
      return { kind: 'token', accessToken: config.graph.accessToken ?? '' };
  }
}

/**
 * Who the audit log names: the object id in the Graph token (the admin with device-code, the app's service
 * principal with client credentials). Signing in here also means a device-code prompt comes before any work.
 */
async function actorIdOf(authProvider: AuthenticationProvider, config: AppConfig): Promise<string> {
  const token = await authProvider.getAccessToken();
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { oid?: unknown };
    if (typeof payload.oid === 'string' && payload.oid) return payload.oid;
  } catch {
    // An opaque token: fall back to naming the sign-in method.
  }
  return `cli:${config.graph.auth}:${config.graph.clientId || 'token'}`;
}

const PLAN_PHASES: ProvisioningPhase[] = ['register', 'lookup', 'usernames', 'preflight'];
const APPLY_PHASES: ProvisioningPhase[] = [...PLAN_PHASES, 'groups', 'write-ahead', 'accounts', 'passwords', 'details', 'licences', 'memberships', 'policies', 'finish', 'slips'];

/** A bar on stderr, only when stdout is a terminal and the output is not JSON. */
function createProgressBar(io: CliIo, wanted: boolean, command: Command): { update: (progress: ProvisioningProgress) => void; stop: () => void } {
  if (!wanted || !io.stdout.isTTY || !io.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const phases = command === 'plan' ? PLAN_PHASES : APPLY_PHASES;
  const bar = new SingleBar({ format: '{bar} {value}/{total} {label}', clearOnComplete: true, hideCursor: true }, Presets.shades_classic);
  let started = false;
  let stopped = false;
  return {
    update: (progress) => {
      if (stopped) return;
      const step = progress.phase === 'done' ? phases.length : Math.max(1, phases.indexOf(progress.phase) + 1);
      const label = progress.pupils > 0 && progress.phase !== 'done' ? `${progress.label} (${progress.pupils} pupils)` : progress.label;
      if (!started) {
        bar.start(phases.length, step, { label });
        started = true;
      } else bar.update(step, { label });
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

function printPlan(plan: ProvisioningPlan | ProvisioningResult, args: CliArgs, io: CliIo, live: boolean): void {
  const say = (text: string): void => void io.stderr.write(`${text}\n`);
  if (args.json) {
    const extra = 'runId' in plan ? { runId: plan.runId, blocked: plan.blocked, interrupted: plan.interrupted, resumedRunId: plan.resumedRunId, slipsIssued: plan.slipsIssued } : {};
    io.stdout.write(`${JSON.stringify({ pupils: plan.rows, summary: { ...plan.summary, ...extra }, blockers: plan.blockers })}\n`);
  } else {
    const { summary } = plan;
    io.stdout.write(`${args.command === 'plan' ? 'Plan' : 'Run'} for academic year ${summary.academicYearStart}/${String(summary.academicYearStart + 1).slice(2)}, ${summary.tenantChecked ? 'checked against the tenant' : 'from the register alone (GRAPH_MODE=plan: nothing was checked against the tenant)'}\n`);
    for (const row of plan.rows) {
      io.stdout.write(`row ${String(row.row).padEnd(5)} ${row.action.padEnd(9)} ${(row.upn || '-').padEnd(36)} ${(row.externalId || '-').padEnd(14)} ${row.reason}\n`);
    }
    io.stdout.write(
      `Summary: ${summary.create} to create, ${summary.update} to update, ${summary.unchanged} unchanged, ${summary.reject} rejected, ${summary.failed} failed` +
        `${summary.skipped ? `, ${summary.skipped} non-pupil rows skipped` : ''}.\n`,
    );
    if (summary.groupsToCreate.length > 0) io.stdout.write(`Security groups to create: ${summary.groupsToCreate.join(', ')}.\n`);
  }
  for (const blocker of plan.blockers) say(`Cannot apply: ${blocker}`);
  if (plan.summary.notOnRoll > 0) say(`${plan.summary.notOnRoll} pupils in the register are not on this roll; run "leavers" to review them.`);
  if (!live && args.command === 'plan') say('GRAPH_MODE=plan: worked out from the register alone; usernames and accounts were not checked against the tenant.');
}

function printLeavers(result: LeaversResult, args: CliArgs, io: CliIo): void {
  if (args.json) {
    io.stdout.write(`${JSON.stringify({ pupils: result.rows, summary: result.summary, applied: result.applied, ...(result.refused ? { refused: result.refused } : {}) })}\n`);
  } else {
    io.stdout.write(result.applied ? 'Leavers processed:\n' : 'Leavers (dry run: nothing has been changed; add --apply to do it):\n');
    for (const row of result.rows) {
      io.stdout.write(`row ${String(row.row ?? '-').padEnd(5)} ${row.action.padEnd(9)} ${(row.upn || '-').padEnd(36)} ${(row.externalId || '-').padEnd(14)} ${row.reason}\n`);
    }
    const s = result.summary;
    io.stdout.write(`Summary: ${s.disable} to disable, ${s.delete} to delete, ${s.unchanged} unchanged, ${s.reject} rejected, ${s.failed} failed (grace period ${s.graceDays} days).\n`);
  }
  if (result.refused) io.stderr.write(`${result.refused}\n`);
}

/** What the admin is told when the command stops: our own message for known errors, never a stack or a password. */
function safeSentence(error: unknown, correlationId: string): string {
  const known =
    error instanceof UsageError ||
    error instanceof RollFormatError ||
    error instanceof ConfigurationError ||
    error instanceof GraphCredentialError ||
    error instanceof LicenceNotFoundError ||
    error instanceof ProvisioningModeError;
  if (known) return (error as Error).message;
  if (error instanceof StorageUnavailableError) return `${error.message} Check that Azurite or the storage account is reachable (TABLES_CONNECTION_STRING). (correlation id ${correlationId})`;
  if (error instanceof GraphServiceError) return `Microsoft Graph refused a request: ${error.status} ${error.code}${error.requestId ? ` (request-id ${error.requestId})` : ''}. (correlation id ${correlationId})`;
  return `The command stopped because of an unexpected error (${error instanceof Error ? error.name : 'unknown'}). Nothing after that point was done; run it again, and report correlation id ${correlationId} if it recurs.`;
}

if (require.main === module) {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nStopping after the current step; progress is saved. Press Ctrl+C again to quit at once.\n');
    controller.abort();
  });
  runProvisionCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.name : 'Error'}: the command could not run.\n`);
      process.exitCode = NOT_RUN;
    },
  );
}
