/** Structured JSON logs. Callers pass ids and categories only: never names, free text or tokens. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogFields = Record<string, string | number | boolean | undefined | null>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Field names whose values are dropped whatever the caller passes, as a second line of defence
 * behind "log ids, not content".
 */
const redactedKeys =
  /^(name|displayname|givenname|surname|forename|fullname|description|password|passwordprofile|token|accesstoken|authorization|secret|text|message|email|mail|upn|userprincipalname|involved)$/i;

export function createLogger(options: { level: LogLevel; write?: (line: string) => void; fields?: LogFields }): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = options.fields ?? {};
  const log = (level: LogLevel, event: string, fields: LogFields = {}): void => {
    if (order[level] < order[options.level]) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, event };
    for (const [key, value] of Object.entries({ ...base, ...fields })) {
      entry[key] = redactedKeys.test(key) ? '[redacted]' : value;
    }
    write(JSON.stringify(entry));
  };
  return {
    debug: (event, fields) => log('debug', event, fields),
    info: (event, fields) => log('info', event, fields),
    warn: (event, fields) => log('warn', event, fields),
    error: (event, fields) => log('error', event, fields),
    child: (fields) => createLogger({ ...options, write, fields: { ...base, ...fields } }),
  };
}

/** A logger that keeps lines in memory, for tests that assert what was (not) logged. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level, write: (line) => lines.push(line) }), { lines });
}
