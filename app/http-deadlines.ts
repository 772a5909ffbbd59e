import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Cuts a connection whose request line and headers have not all arrived within `headersMs`, counted from the
 * connection opening or from the end of its last answer.
 *
 * Node's own `headersTimeout` is only checked every `connectionsCheckingInterval` (30 s by default), and that
 * interval can only be set when the `http.Server` is created, which restify does for us
 * (https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener). Alone, it lets headers that drip in a
 * byte at a time hold a connection for up to `headersMs` + 30 s; this holds it for `headersMs`. An idle keep-alive
 * connection is closed sooner by node's `keepAliveTimeout`.
 */
export function installHeaderDeadline(server: HttpServer, headersMs: number): void {
  const state = new WeakMap<Socket, { timer: NodeJS.Timeout | undefined; inFlight: number }>();
  const arm = (socket: Socket): void => {
    const entry = state.get(socket);
    if (!entry || socket.destroyed) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => socket.destroy(), headersMs);
    entry.timer.unref();
  };
  server.on('connection', (socket: Socket) => {
    state.set(socket, { timer: undefined, inFlight: 0 });
    arm(socket);
    socket.once('close', () => clearTimeout(state.get(socket)?.timer));
  });
  const headersIn = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const entry = state.get(socket);
    if (!entry) return;
    // The headers are in: the body and the answer have their own limits (app/http-body.ts, requestTimeout).
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.inFlight++;
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      entry.inFlight--;
      // Waiting for the next request's headers; a pipelined request already in flight keeps the socket.
      if (entry.inFlight === 0) arm(socket);
    };
    res.once('finish', finished);
    res.once('close', finished);
  };
  // A request's headers are complete when node emits it as `request`, or as `checkContinue` for `Expect:
  // 100-continue` when someone listens for that (restify does, before this is installed). Listening changes what node
  // does, so only events that already have a listener are joined: without one, node answers `Expect: 100-continue`
  // itself and emits `request`, answers any other expectation with 417, and destroys upgrade and CONNECT sockets.
  server.on('request', headersIn);
  if (server.listenerCount('checkContinue') > 0) server.on('checkContinue', headersIn);
  if (server.listenerCount('checkExpectation') > 0) server.on('checkExpectation', headersIn);
}
