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

/**
 * Values that identify a person wherever they appear, under any key: a user principal name or email address, and
 * a DfE unique pupil number (a check letter, 11 digits and a digit or letter; the register's externalId for most
 * pupils, which the DfE treats as confidential). They are replaced inside any string, so an error text or a URL
 * that carries one cannot leak it. Logs correlate by row, object id or correlation id instead.
 */
const PERSONAL_VALUES = [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g, /\b[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]\b/g];

function withoutPersonalValues<T>(value: T): T | string {
  if (typeof value !== 'string') return value;
  return PERSONAL_VALUES.reduce((text, pattern) => text.replace(pattern, '[redacted]'), value as string);
}

export function createLogger(options: { level: LogLevel; write?: (line: string) => void; fields?: LogFields }): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = options.fields ?? {};
  const log = (level: LogLevel, event: string, fields: LogFields = {}): void => {
    if (order[level] < order[options.level]) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, event };
    for (const [key, value] of Object.entries({ ...base, ...fields })) {
      entry[key] = redactedKeys.test(key) ? '[redacted]' : withoutPersonalValues(value);
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
