import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Activity } from 'botbuilder';

/** An activity the bot sent to the channel, with the conversation it went to. */
export interface SentActivity {
  conversationId: string;
  activity: Partial<Activity>;
}

/**
 * Stands in for the Teams channel's Bot Connector service on loopback: the bot replies and sends
 * proactive messages to `serviceUrl`, and this records them. It can be told to fail, to test
 * undeliverable alerts.
 */
export class LoopbackConnector {
  readonly sent: SentActivity[] = [];
  failing = false;
  private server: Server | undefined;
  private waiters: { predicate: (a: SentActivity) => boolean; resolve: (a: SentActivity) => void }[] = [];

  get serviceUrl(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('The loopback connector is not listening.');
    return `http://127.0.0.1:${address.port}/`;
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const body = await readBody(req);
      const match = /^\/v3\/conversations\/([^/]+)\/activities/.exec(req.url ?? '');
      if (req.method === 'POST' && match && !this.failing) {
        const entry: SentActivity = { conversationId: decodeURIComponent(match[1]!), activity: JSON.parse(body || '{}') as Partial<Activity> };
        this.sent.push(entry);
        this.waiters = this.waiters.filter((w) => (w.predicate(entry) ? (w.resolve(entry), false) : true));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: randomUUID() }));
        return;
      }
      res.writeHead(this.failing ? 503 : 404);
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
  }

  /** Resolves with the first activity (already sent or still to come) that matches. */
  waitFor(predicate: (a: SentActivity) => boolean, timeoutMs = 5000): Promise<SentActivity> {
    const found = this.sent.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The expected activity was never sent to the connector.')), timeoutMs);
      this.waiters.push({ predicate, resolve: (a) => (clearTimeout(timer), resolve(a)) });
    });
  }

  sentTo(conversationId: string): Partial<Activity>[] {
    return this.sent.filter((s) => s.conversationId === conversationId).map((s) => s.activity);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
