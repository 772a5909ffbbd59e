import { loadConfig } from '../../app/config';

describe('storage configuration', () => {
  it('when only TABLES_ENDPOINT is set, uses no connection string (the managed identity reaches storage)', () => {
    const config = loadConfig({ TABLES_ENDPOINT: 'https://school.table.core.windows.net' });
    expect(config.tables.connectionString).toBeUndefined();
    expect(config.tables.endpoint).toBe('https://school.table.core.windows.net');
  });

  it('when a connection string is set, it wins over the endpoint', () => {
    const config = loadConfig({ TABLES_ENDPOINT: 'https://x.table.core.windows.net', TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true' });
    expect(config.tables.connectionString).toBe('UseDevelopmentStorage=true');
  });
});
