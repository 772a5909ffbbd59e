import { createServer, request, Agent, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { installHeaderDeadline } from '../../../app/http-deadlines';

/** A plain node server with the header deadline, whose handler takes `handlerMs` to answer. */
async function serve(headersMs: number, handlerMs: number): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    setTimeout(() => res.end('done'), handlerMs);
  });
  server.keepAliveTimeout = 60_000;
  installHeaderDeadline(server, headersMs);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function closeAfter(port: number, write: (socket: ReturnType<typeof connect>) => void): Promise<{ ms: number; text: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => write(socket));
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ ms: Date.now() - started, text }));
  });
}

describe('installHeaderDeadline', () => {
  let running: { server: Server; port: number };
  afterEach(async () => {
    running.server.closeAllConnections();
    await new Promise((resolve) => running.server.close(resolve));
  });

  it('cuts headers that drip in after the deadline, counted from the connection', async () => {
    running = await serve(400, 0);
    let drip: NodeJS.Timeout | undefined;
    const { ms, text } = await closeAfter(running.port, (socket) => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Drip: ');
      drip = setInterval(() => socket.write('a'), 50);
    });
    clearInterval(drip);
    expect(text).toBe('');
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(1_500);
  });

  it('never cuts a request whose headers arrived, however long its handler takes', async () => {
    running = await serve(200, 800);
    const { text } = await closeAfter(running.port, (socket) => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(text).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*done$/);
  });

  it('never cuts pipelined requests whose headers arrived together, while the first is still being answered', async () => {
    running = await serve(200, 500);
    const { text } = await closeAfter(running.port, (socket) => socket.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  it('never cuts an Expect: 100-continue request once its headers are in, when a checkContinue listener answers it (as restify does)', async () => {
    const server = createServer();
    const handle = (_req: unknown, res: ServerResponse): void => {
      setTimeout(() => res.end('done'), 800);
    };
    server.on('checkContinue', (req, res) => {
      res.writeContinue();
      handle(req, res);
    });
    server.on('request', handle);
    installHeaderDeadline(server, 200);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running = { server, port: (server.address() as AddressInfo).port };
    const { text } = await closeAfter(running.port, (socket) => {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
      socket.once('data', () => socket.write('{}'));
    });
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue[\s\S]*HTTP\/1\.1 200 OK[\s\S]*done$/);
  });

  it('gives a kept-alive connection a fresh deadline after each answer, and closes it when no request follows', async () => {
    running = await serve(400, 0);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: running.port, path: '/', agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ body, socket: req.socket }));
        });
        req.on('error', reject);
        req.end();
      });
    const first = await get();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await get();
    expect([first.body, second.body]).toEqual(['done', 'done']);
    expect(second.socket).toBe(first.socket);
    const closed = new Promise<number>((resolve) => {
      const started = Date.now();
      (second.socket as NodeJS.EventEmitter).once('close', () => resolve(Date.now() - started));
    });
    expect(await closed).toBeLessThan(1_500);
    agent.destroy();
  });
});
