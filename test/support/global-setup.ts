import { startAzurite, type AzuriteTables } from '../../scripts/azurite';

/** Starts one real Azurite for the whole run; test files share it through the environment. */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  (globalThis as { __azurite?: AzuriteTables }).__azurite = azurite;
  process.env.ESAFETY_TEST_TABLES_CONNECTION_STRING = azurite.connectionString;
  process.env.ESAFETY_TEST_TABLES_PORT = String(azurite.port);
}
