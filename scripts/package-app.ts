/**
 * `npm run package`: writes build/appPackage.zip for upload to Teams.
 * Placeholder values come from the environment (see PLACEHOLDERS in scripts/app-package.ts);
 * BOT_ID falls back to MicrosoftAppId as app/config.ts reads it.
 */
import { join, relative } from 'node:path';
import { ConfigurationError, loadConfig } from '../app/config';
import { buildAppPackage, ManifestValidationError, ManifestValuesError, readManifestValues } from './app-package';

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const { outFile, entries } = await buildAppPackage({
    sourceDir: join(root, 'appPackage'),
    values: readManifestValues(process.env, () => loadConfig(process.env, { purpose: 'tool' }).bot.appId),
    outFile: join(root, 'build', 'appPackage.zip'),
  });
  console.log(`Wrote ${relative(process.cwd(), outFile)} (${entries.join(', ')}).`);
}

main().catch((error: unknown) => {
  if (error instanceof ManifestValuesError || error instanceof ManifestValidationError) {
    console.error(error.message);
  } else if (error instanceof ConfigurationError) {
    console.error(`${error.message}\nBOT_ID was not set, so the bot app id was read from the app's settings; set BOT_ID to package without them.`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
