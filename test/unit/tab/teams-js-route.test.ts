import restify from 'restify';
import type { AddressInfo } from 'node:net';
import { createMemoryLogger } from '../../../infra/logger';
import { registerTabRoutes, type TabRouteDependencies } from '../../../tab/server/tab-routes';

// The SDK bundle cannot be read (a broken deployment): readFile fails with Node's own error, which names the path.
jest.mock('node:fs/promises', () => {
  const actual = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');
  return {
    ...actual,
    readFile: (path: string, ...rest: unknown[]) =>
      String(path).includes('MicrosoftTeams')
        ? Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, open '${String(path)}'`), { code: 'ENOENT', path: String(path) }))
        : (actual.readFile as (...args: unknown[]) => Promise<Buffer>)(path, ...rest),
  };
});

describe('GET /tab/teams-js.js when the SDK cannot be read', () => {
  it('answers 503 with a correlation id and a safe sentence, never a server path, and logs the error by name', async () => {
    const logger = createMemoryLogger('debug');
    const server = restify.createServer();
    registerTabRoutes(server, { logger, localIdentitySecret: undefined } as unknown as TabRouteDependencies);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/tab/teams-js.js`);
      const text = await response.text();
      expect(response.status).toBe(503);
      expect(JSON.parse(text)).toEqual({ error: expect.stringMatching(/Teams SDK is not installed/), correlationId: expect.any(String) });
      expect(text).not.toMatch(/node_modules|MicrosoftTeams|ENOENT|\/work|\\\\/);
      expect(logger.lines.join('\n')).toMatch(/tab\.teams-js-unavailable/);
      expect(logger.lines.join('\n')).not.toMatch(/node_modules/);
    } finally {
      server.close();
    }
  });
});
