import { ConfigurationError, loadConfig, type AppConfig } from './config';
import { createLogger, type Logger } from './logger';

/** Where a command-line entry point writes; tests pass their own streams and environment. */
export interface CliStreams {
  stderr: { write(text: string): unknown };
  env?: Record<string, string | undefined>;
}

/** Loads configuration for a CLI; a bad setting is told to the admin (every problem at once) and gives undefined. */
export function loadCliConfig(io: CliStreams): AppConfig | undefined {
  try {
    return io.env ? loadConfig(io.env) : loadConfig();
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
