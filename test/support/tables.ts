import { randomUUID } from 'node:crypto';

/** The Azurite connection string from the jest global setup. */
export function testTablesConnectionString(): string {
  const value = process.env.ESAFETY_TEST_TABLES_CONNECTION_STRING;
  if (!value) throw new Error('Azurite is not running: integration tests need the jest global setup (run them with `npm test`).');
  return value;
}

/** A school id no other test uses, so tests sharing one Azurite never see each other's records. */
export function uniqueSchoolId(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
