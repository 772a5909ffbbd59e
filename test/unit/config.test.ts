import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, loadConfig, SETTINGS, AZURITE_TABLES_CONNECTION_STRING } from '../../app/config';

describe('loadConfig', () => {
  it('when nothing is set, runs locally against Azurite with Graph in plan mode', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3978);
    expect(config.tables.connectionString).toBe(AZURITE_TABLES_CONNECTION_STRING);
    expect(config.graph.mode).toBe('plan');
    expect(config.roles.source).toBe('file');
    expect(config.bot.appId).toBe('');
  });

  it('when several settings are wrong, lists every one of them in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', GRAPH_MODE: 'maybe', SCHOOL_ID: 'Has Spaces' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/GRAPH_MODE/);
    expect(problems).toMatch(/SCHOOL_ID/);
    expect((error as Error).message).toMatch(/3 settings need attention/);
  });

  it('when Graph is live, requires the tenant, the client and a credential', () => {
    expect(() => loadConfig({ GRAPH_MODE: 'live' })).toThrow(/GRAPH_TENANT_ID[\s\S]*GRAPH_CLIENT_ID[\s\S]*SECRET_GRAPH_CLIENT_SECRET[\s\S]*SCHOOL_DOMAIN/);
  });

  it('when a bot app id is set without a password, refuses to start', () => {
    expect(() => loadConfig({ MicrosoftAppId: '00000000-0000-0000-0000-000000000001' })).toThrow(/MicrosoftAppPassword/);
  });

  it('documents every setting in .env.example', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const missing = SETTINGS.map((s) => s.name).filter((name) => !new RegExp(`^#?\\s*${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });

  it('never ships a value for a secret in .env.example', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    for (const setting of SETTINGS.filter((s) => s.secret)) {
      expect(example).toMatch(new RegExp(`^#?\\s*${setting.name}=\\s*$`, 'm'));
    }
  });
});
