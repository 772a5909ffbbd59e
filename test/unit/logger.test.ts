import { createLogger, createMemoryLogger, type LogLevel } from '../../infra/logger';

function entries(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createLogger redaction', () => {
  const redacted = [
    'name',
    'displayName',
    'givenName',
    'surname',
    'forename',
    'fullName',
    'description',
    'password',
    'passwordProfile',
    'token',
    'accessToken',
    'authorization',
    'Authorization',
    'secret',
    'text',
    'message',
    'email',
    'mail',
    'upn',
    'UPN',
    'userPrincipalName',
    'involved',
  ];
  it.each(redacted)('when a field is called "%s", logs [redacted] instead of its value', (key) => {
    const logger = createMemoryLogger();
    logger.info('test.event', { [key]: 'Planted-secret-value', reference: 'ES-2026-0042' });
    const [entry] = entries(logger.lines);
    expect(entry![key]).toBe('[redacted]');
    expect(entry!.reference).toBe('ES-2026-0042');
    expect(logger.lines[0]).not.toContain('Planted-secret-value');
  });

  const kept = ['reference', 'actorId', 'recipientId', 'type', 'role', 'count', 'errorName', 'correlationId', 'nameCount', 'tokenExpiresIn'];
  it.each(kept)('when a field is called "%s" (an id, a category or a count), logs its value', (key) => {
    const logger = createMemoryLogger();
    logger.info('test.event', { [key]: 'kept-value' });
    expect(entries(logger.lines)[0]![key]).toBe('kept-value');
  });

  it('when a field is redacted, a falsy or missing value is redacted the same way', () => {
    const logger = createMemoryLogger();
    logger.info('test.event', { password: '', token: undefined, name: null });
    const [entry] = entries(logger.lines);
    expect(entry).toMatchObject({ password: '[redacted]', token: '[redacted]', name: '[redacted]' });
  });
});

describe('createLogger levels', () => {
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const cases: Array<[LogLevel, LogLevel[]]> = [
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ];
  it.each(cases)('when the level is %s, writes only %j', (level, written) => {
    const lines: string[] = [];
    const logger = createLogger({ level, write: (line) => lines.push(line) });
    for (const each of levels) logger[each](`event.${each}`);
    expect(entries(lines).map((e) => e.level)).toEqual(written);
    expect(entries(lines).map((e) => e.event)).toEqual(written.map((l) => `event.${l}`));
  });

  it('when a line is written, it is one JSON object with the time, level and event', () => {
    const lines: string[] = [];
    createLogger({ level: 'info', write: (line) => lines.push(line) }).info('incident.reported', { reference: 'ES-2026-0042' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toEqual({ time: expect.any(String), level: 'info', event: 'incident.reported', reference: 'ES-2026-0042' });
    expect(Number.isNaN(Date.parse(String(entry.time)))).toBe(false);
  });
});

describe('child loggers', () => {
  it('when a child logger writes, every line carries the parent and child fields', () => {
    const lines: string[] = [];
    const parent = createLogger({ level: 'debug', write: (line) => lines.push(line), fields: { service: 'esafety' } });
    const child = parent.child({ correlationId: 'corr-1' });
    const grandchild = child.child({ reference: 'ES-2026-0042' });
    child.info('first');
    grandchild.warn('second', { count: 2 });
    expect(entries(lines)).toEqual([
      expect.objectContaining({ event: 'first', service: 'esafety', correlationId: 'corr-1' }),
      expect.objectContaining({ event: 'second', service: 'esafety', correlationId: 'corr-1', reference: 'ES-2026-0042', count: 2 }),
    ]);
  });

  it('when a child logger writes, the parent does not pick up its fields', () => {
    const lines: string[] = [];
    const parent = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    parent.child({ correlationId: 'corr-1' }).info('child');
    parent.info('parent');
    expect(entries(lines)[1]).not.toHaveProperty('correlationId');
  });

  it('when a call passes a field the child already has, the call wins', () => {
    const logger = createMemoryLogger();
    logger.child({ reference: 'ES-2026-0001' }).info('event', { reference: 'ES-2026-0002' });
    expect(entries(logger.lines)[0]!.reference).toBe('ES-2026-0002');
  });

  it('when a child logger is made, it keeps the parent level', () => {
    const lines: string[] = [];
    createLogger({ level: 'warn', write: (line) => lines.push(line) }).child({ a: 1 }).info('dropped');
    expect(lines).toEqual([]);
  });

  it('when a child logger carries a redacted field, redacts it on every line', () => {
    const lines: string[] = [];
    const child = createLogger({ level: 'debug', write: (line) => lines.push(line) }).child({ upn: 'head@school.example.org', schoolId: 'school-1' });
    child.info('one');
    child.error('two');
    expect(lines.join('\n')).not.toContain('head@school.example.org');
    expect(entries(lines).map((e) => [e.upn, e.schoolId])).toEqual([
      ['[redacted]', 'school-1'],
      ['[redacted]', 'school-1'],
    ]);
  });
});
