/**
 * Builds the Teams app package: fills the `${{VAR}}` placeholders in appPackage/manifest.json
 * (the Teams Toolkit convention), validates the result offline against the JSON schema bundled by
 * `@microsoft/app-manifest`, checks the icons and zips manifest.json, color.png and outline.png.
 *
 * The schemas are draft-04, so they are compiled with `ajv-draft-04` and `ajv-formats` set up as the
 * package's own `AppManifestUtils.validateAgainstSchema` does. We do not call that function: the
 * package's entry point requires the ESM-only `strip-bom`, which jest's CommonJS runtime cannot load.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv04, { type ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { ZipFile } from 'yazl';
import { decodePng, PngFormatError } from './png';

type Env = Readonly<Record<string, string | undefined>>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Placeholder name -> value; `undefined` means the value is missing. */
export type ManifestValues = Readonly<Record<string, string | undefined>>;

/** One `${{VAR}}` the manifest template uses. */
export interface PlaceholderSpec {
  name: string;
  purpose: string;
  /** What a valid value looks like; checked before the schema so the message can name the variable. */
  pattern?: RegExp;
  /** Empty is allowed (and is the default when unset). */
  optional?: boolean;
}

const GUID = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/** Every placeholder the manifest template may use. */
export const PLACEHOLDERS: readonly PlaceholderSpec[] = [
  { name: 'TEAMS_APP_ID', purpose: 'the Teams app id, a GUID that stays the same across versions', pattern: GUID },
  { name: 'BOT_ID', purpose: 'the bot\'s Entra app id (a GUID); defaults to MicrosoftAppId', pattern: GUID },
  { name: 'BOT_DOMAIN', purpose: 'the host name that serves the bot and the tab, without https://, e.g. esafety.example.net', pattern: /^(?!https?:)[a-z0-9.-]+(:\d+)?$/i },
  { name: 'AAD_APP_CLIENT_ID', purpose: 'the Entra app id the tab signs in with (SSO), a GUID', pattern: GUID },
  { name: 'APP_PUBLIC_URL', purpose: 'the https address of the app\'s public pages; /privacy and /terms are appended', pattern: /^https:\/\/[^\s/]+/ },
  { name: 'APP_NAME_SUFFIX', purpose: 'text added to the app\'s name, e.g. " (dev)"; empty in production', optional: true },
];

/** The manifest schema version the template uses; its JSON schema ships inside `@microsoft/app-manifest`. */
export const MANIFEST_VERSION = '1.30';

/** What Teams requires of the two icons. */
export const ICON_RULES = {
  color: { size: 192 },
  outline: { size: 32 },
} as const;

const PLACEHOLDER = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Some placeholder values are missing or malformed; lists every one at once. */
export class ManifestValuesError extends Error {
  override readonly name = 'ManifestValuesError';
  constructor(readonly problems: string[]) {
    super(
      `The app package cannot be built because ${problems.length === 1 ? 'one placeholder value needs' : `${problems.length} placeholder values need`} attention:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        '\nSet them in the environment (for example with `npx tsx --env-file=env/.env.dev scripts/package-app.ts`) and try again.',
    );
  }
}

/** The filled manifest or its icons break Teams' rules; lists every problem at once. */
export class ManifestValidationError extends Error {
  override readonly name = 'ManifestValidationError';
  constructor(readonly problems: string[]) {
    super(
      `The app package is not valid for Teams (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        '\nFix appPackage/manifest.json, the icons (npx tsx scripts/make-icons.ts) or the placeholder values.',
    );
  }
}

/** Reads each placeholder's value from the environment; BOT_ID falls back to the bot app id the server runs with. */
export function readManifestValues(env: Env, readBotAppId: () => string): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const spec of PLACEHOLDERS) {
    const raw = env[spec.name];
    values[spec.name] = spec.optional ? (raw ?? '') : raw?.trim() || undefined;
  }
  values.BOT_ID ??= readBotAppId().trim() || undefined;
  values.APP_PUBLIC_URL = values.APP_PUBLIC_URL?.replace(/\/+$/, '');
  return values;
}

/** Lists the placeholder names a template uses, in order of first use. */
export function listPlaceholders(template: Json): string[] {
  const names = new Set<string>();
  const visit = (node: Json): void => {
    if (typeof node === 'string') for (const match of node.matchAll(PLACEHOLDER)) names.add(match[1] as string);
    else if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(template);
  return [...names];
}

/** Replaces every `${{VAR}}` in the template's strings, or throws a `ManifestValuesError` naming each missing or malformed value. */
export function fillManifest<T extends Json>(template: T, values: ManifestValues): T {
  const specs = new Map(PLACEHOLDERS.map((spec) => [spec.name, spec]));
  const problems: string[] = [];
  for (const name of listPlaceholders(template)) {
    const spec = specs.get(name);
    const value = values[name];
    if (value === undefined || (value === '' && !spec?.optional)) {
      problems.push(`${name} has no value: set it to ${spec ? spec.purpose : 'the value the manifest needs'}.`);
    } else if (spec?.pattern && !spec.pattern.test(value)) {
      problems.push(`${name} is "${value}", which is not valid: it must be ${spec.purpose}.`);
    }
  }
  if (problems.length > 0) throw new ManifestValuesError(problems);

  const fill = (node: Json): Json => {
    if (typeof node === 'string') return node.replace(PLACEHOLDER, (_, name: string) => values[name] as string);
    if (Array.isArray(node)) return node.map(fill);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, fill(value)]));
    return node;
  };
  return fill(template) as T;
}

/** Loads the Teams manifest JSON schema for a manifest version from `@microsoft/app-manifest`, without the network. */
export async function loadManifestSchema(manifestVersion: string): Promise<object | undefined> {
  const packageRoot = dirname(require.resolve('@microsoft/app-manifest/package.json'));
  const file = join(packageRoot, 'build', 'json-schemas', 'teams', `v${manifestVersion}`, 'MicrosoftTeams.schema.json');
  if (!/^[0-9a-zA-Z.]+$/.test(manifestVersion) || !existsSync(file)) return undefined;
  // The package cleans up two escapes some older schemas use that JSON.parse rejects; do the same.
  return JSON.parse((await readFile(file, 'utf8')).replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b')) as object;
}

const validators = new Map<string, ValidateFunction>();

async function compileManifestSchema(manifestVersion: string): Promise<ValidateFunction | undefined> {
  const cached = validators.get(manifestVersion);
  if (cached) return cached;
  const schema = await loadManifestSchema(manifestVersion);
  if (!schema) return undefined;
  const ajv = new Ajv04({ allErrors: true, strictTypes: false });
  addFormats(ajv, ['uri', 'email', 'regex']);
  const validate = ajv.compile(schema);
  validators.set(manifestVersion, validate);
  return validate;
}

/** Validates a filled manifest against the bundled schema of its `manifestVersion`; returns one sentence per problem. */
export async function validateManifest(manifest: Json): Promise<string[]> {
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) return ['The manifest must be a JSON object.'];
  const version = manifest.manifestVersion;
  if (typeof version !== 'string') return [`The manifest has no manifestVersion; set it to "${MANIFEST_VERSION}".`];
  const validate = await compileManifestSchema(version);
  if (!validate) {
    return [`manifestVersion "${version}" has no schema in @microsoft/app-manifest; use "${MANIFEST_VERSION}" or another version it bundles.`];
  }
  const problems: string[] = [];
  const expectedSchemaUrl = `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`;
  if (manifest.$schema !== expectedSchemaUrl) problems.push(`$schema must be ${expectedSchemaUrl} to match manifestVersion ${version}.`);
  if (!validate(manifest)) {
    for (const error of validate.errors ?? []) {
      const extra = 'additionalProperty' in error.params ? ` ("${String(error.params.additionalProperty)}")` : '';
      problems.push(`${error.instancePath || '(the manifest)'} ${error.message ?? 'is invalid'}${extra}.`);
    }
  }
  return problems;
}

/** Checks Teams' icon rules: PNG, exact size, and an outline that is white on transparent. */
export function validateIcons(icons: { color: Buffer; outline: Buffer }): string[] {
  const problems: string[] = [];
  for (const kind of ['color', 'outline'] as const) {
    const { size } = ICON_RULES[kind];
    let image;
    try {
      image = decodePng(icons[kind]);
    } catch (error) {
      if (!(error instanceof PngFormatError)) throw error;
      problems.push(`The ${kind} icon is not a PNG this tool can read: ${error.message}`);
      continue;
    }
    if (image.width !== size || image.height !== size) {
      problems.push(`The ${kind} icon is ${image.width}x${image.height}; Teams needs ${size}x${size}.`);
    }
    if (kind === 'outline') {
      let coloured = 0;
      for (let i = 0; i < image.data.length; i += 4) {
        if (image.data[i + 3] !== 0 && (image.data[i] !== 255 || image.data[i + 1] !== 255 || image.data[i + 2] !== 255)) coloured++;
      }
      if (coloured > 0) problems.push(`The outline icon has ${coloured} visible pixels that are not white; Teams needs white on transparent.`);
    }
  }
  return problems;
}

/** Zips files into one buffer with a fixed timestamp, so the same inputs give the same package. */
export function zipFiles(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const zip = new ZipFile();
  const mtime = new Date('2020-01-01T00:00:00Z');
  for (const file of files) zip.addBuffer(file.data, file.name, { mtime });
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.end();
  });
}

export interface BuildAppPackageOptions {
  /** Folder holding manifest.json and the icons it names. */
  sourceDir: string;
  values: ManifestValues;
  /** Where to write the zip; its folder is created if needed. */
  outFile: string;
}

export interface BuildAppPackageResult {
  outFile: string;
  manifest: Json;
  entries: string[];
}

/** Fills, validates and zips the app package; throws `ManifestValuesError` or `ManifestValidationError` listing every problem. */
export async function buildAppPackage(options: BuildAppPackageOptions): Promise<BuildAppPackageResult> {
  const template = JSON.parse(await readFile(join(options.sourceDir, 'manifest.json'), 'utf8')) as Json;
  const manifest = fillManifest(template, options.values);
  const problems = await validateManifest(manifest);

  const icons = (manifest as { icons?: { color?: unknown; outline?: unknown } }).icons ?? {};
  const iconFiles: { name: string; data: Buffer }[] = [];
  for (const kind of ['color', 'outline'] as const) {
    const name = icons[kind];
    if (typeof name !== 'string' || name.includes('/') || name.includes('\\')) {
      problems.push(`icons.${kind} must name a PNG at the root of the package (got ${JSON.stringify(name)}).`);
    } else if (!existsSync(join(options.sourceDir, name))) {
      problems.push(`icons.${kind} names ${name}, which is not in ${options.sourceDir}; run npx tsx scripts/make-icons.ts.`);
    } else {
      iconFiles.push({ name, data: await readFile(join(options.sourceDir, name)) });
    }
  }
  const [color, outline] = iconFiles;
  if (color && outline) problems.push(...validateIcons({ color: color.data, outline: outline.data }));
  if (problems.length > 0) throw new ManifestValidationError(problems);

  const files = [{ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n') }, ...iconFiles];
  await mkdir(dirname(options.outFile), { recursive: true });
  await writeFile(options.outFile, await zipFiles(files));
  return { outFile: options.outFile, manifest, entries: files.map((f) => f.name) };
}
