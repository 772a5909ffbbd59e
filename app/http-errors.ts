import type { Request, Response, Server } from 'restify';
import type { Logger } from '../infra/logger';

/**
 * The sentence a client gets for each status. Never an error's own message: that can hold a stack, a storage
 * error, a metadata URL or a file path. The correlation id beside it finds the details in the log.
 */
const SAFE_SENTENCES: Readonly<Record<number, string>> = {
  400: 'The request is not valid.',
  401: 'The request was not signed in.',
  403: 'The request is not allowed.',
  404: 'There is nothing at this address.',
  405: 'This address does not take that method.',
  406: 'This address cannot answer in the format asked for.',
  408: 'The request took too long to arrive; try again.',
  413: 'The request is larger than this address accepts.',
  415: 'This address does not take that kind of content.',
  503: 'The service is unavailable for a moment; try again shortly.',
};
const SAFE_SERVER_ERROR = 'Something went wrong on the server. If it keeps happening, give IT the correlation id.';

export function safeSentence(status: number): string {
  return SAFE_SENTENCES[status] ?? (status >= 500 ? SAFE_SERVER_ERROR : 'The request could not be handled.');
}

/** Writes a JSON error answer with the correlation id (body and `x-correlation-id`), unless one has begun. */
export function sendSafeError(req: Request, res: Response, status: number, message = safeSentence(status), headers: Record<string, string> = {}): void {
  const correlationId = req.id();
  if (res.headersSent) {
    // A streamed answer had begun: all that is left is to stop it, so the client sees it cut short.
    res.destroy();
    return;
  }
  res.header('x-correlation-id', correlationId);
  res.header('cache-control', 'no-store');
  for (const [name, value] of Object.entries(headers)) res.header(name, value);
  res.json(status, { error: message, correlationId });
}

/** The status an error stands for: a client error restify or a validator raised, else 500. */
export function statusOfError(error: unknown): number {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  // botbuilder validates the activity with zod before anything else; its message names the schema.
  if ((error as Error | undefined)?.name === 'ZodError') return 400;
  return 500;
}

/**
 * One top-level handler for everything restify would otherwise answer with the error's own text: routes not
 * found (404), wrong methods (405), and any handler that throws or rejects (500). Logs the error's name and
 * the route pattern (never the URL, which can hold a UPN, or the message) with the correlation id.
 */
export function installSafeErrors(server: Server, logger: Logger): void {
  server.on('restifyError', (req: Request, res: Response, error: unknown, done: () => void) => {
    const status = statusOfError(error);
    const fields = { correlationId: req.id(), status, errorName: (error as Error | undefined)?.name ?? typeof error, route: req.getRoute?.()?.path?.toString() };
    if (status >= 500) logger.error('http.failed', fields);
    else logger.info('http.refused', fields);
    sendSafeError(req, res, status);
    return done();
  });
}

/**
 * The response CloudAdapter writes to. botbuilder answers a failed turn with the error's message as the body
 * (500), and a failed Bot Framework sign-in with the reason (401); this keeps the status and puts the safe
 * sentence and correlation id in place of that text. Bodies the bot chose (invoke answers) pass unchanged.
 */
export function guardBotResponse(req: Request, res: Response): Response {
  const guarded = {
    status: (code: number) => res.status(code),
    header: (name: string, value: string) => res.header(name, value),
    end: () => {
      if (!res.writableEnded) res.end();
    },
    send: (body: unknown) => {
      const status = res.statusCode;
      if (status >= 500 || status === 401 || (status >= 400 && typeof body === 'string')) return void sendSafeError(req, res, status);
      return void res.send(body);
    },
  };
  return guarded as unknown as Response;
}
