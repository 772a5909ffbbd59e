import { ConfigurationError, loadConfig, schoolConfigs, type AppConfig } from './config';
import { createLogger, type Logger } from '../infra/logger';

/** Where a command-line entry point writes; tests pass their own streams and environment. */
export interface CliStreams {
  stderr: { write(text: string): unknown };
  env?: Record<string, string | undefined>;
}

/** Takes `--school ID` (or `--school=ID`) out of the arguments: with SCHOOLS_FILE, it says which school a command is for. */
export function takeSchoolOption(argv: readonly string[]): { argv: string[]; school: string | undefined } {
  const rest: string[] = [];
  let school: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--school') school = argv[++i] ?? '';
    else if (arg.startsWith('--school=')) school = arg.slice('--school='.length);
    else rest.push(arg);
  }
  return { argv: rest, school };
}

/**
 * Loads configuration for a CLI, for one school: the only one, or the one `--school` names when SCHOOLS_FILE
 * lists several. A bad setting is told to the admin (every problem at once) and gives undefined.
 */
export function loadCliConfig(io: CliStreams, school?: string): AppConfig | undefined {
  try {
    const config = loadConfig(io.env, { purpose: 'tool' });
    const schools = schoolConfigs(config);
    const ids = schools.map((s) => s.school.id).join(', ');
    if (school === undefined) {
      if (schools.length === 1) return schools[0];
      io.stderr.write(`SCHOOLS_FILE lists ${schools.length} schools: say which one with --school ID (${ids}).\n`);
      return undefined;
    }
    const chosen = schools.find((s) => s.school.id === school);
    if (!chosen) io.stderr.write(`--school "${school}" is not a school this deployment serves (${ids}).\n`);
    return chosen;
  } catch (error) {
    if (error instanceof ConfigurationError) {
      io.stderr.write(`${error.message}\n`);
      return undefined;
    }
    throw error;
  }
}

/** CLI logs go to stderr, quiet unless LOG_LEVEL=debug, so stdout stays clean for --json. */
export function createCliLogger(config: AppConfig, io: CliStreams): Logger {
  return createLogger({ level: config.logLevel === 'debug' ? 'debug' : 'warn', write: (line) => void io.stderr.write(`${line}\n`) });
}
