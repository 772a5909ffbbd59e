/**
 * `npm run build:deploy`: the zip that App Service runs, built from this checkout without the network.
 *
 *   build/e-safety-for-teams.zip
 *     dist/…            the compiled app (tsc -p tsconfig.build.json; JSON cards and matrices come with it)
 *     node_modules/…    the production dependencies only, copied from the installed tree
 *     tab/public/…      the tab pages, which tab/server serves from disk
 *     aup/…             the default AUP documents (AUP_DOCUMENTS_DIR=aup)
 *     package.json      name, version, engines, dependencies and `npm start` = node dist/app/main.js
 *
 * Why not `npm ci --omit=dev` on the server: the committed lockfile cannot be replayed by npm ci (it lacks other
 * platforms' optional binaries), and App Service should not need a registry to start. So the production
 * dependency tree is walked from package.json the way Node resolves modules, and copied as installed.
 *
 * Zip deploy (https://learn.microsoft.com/azure/app-service/deploy-zip) takes this file as it is; with
 * SCM_DO_BUILD_DURING_DEPLOYMENT=false nothing is rebuilt there.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import yazl from 'yazl';

const ROOT = join(__dirname, '..');
const BUILD = join(ROOT, 'build');
const STAGE = join(BUILD, 'deploy');
export const ARTEFACT = join(BUILD, 'e-safety-for-teams.zip');

/** Folders the app reads at run time, relative to its working directory (the zip's root). */
const RUNTIME_FOLDERS = ['tab/public', 'aup'];

interface PackageJson {
  name: string;
  version: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readPackage = (dir: string): PackageJson => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;

/** Where `name` resolves from `fromDir`, the way Node looks: each node_modules up to the project root. */
function resolvePackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dirname(dir) === dir) return undefined;
  }
}

/**
 * Every installed package the production dependencies need, as folders under ROOT. A missing required
 * dependency stops the build (the app would fail at run time); a missing optional one is skipped.
 */
export function productionPackageDirs(): string[] {
  const found = new Set<string>();
  const missing: string[] = [];
  const visit = (pkgDir: string, pkg: PackageJson) => {
    const optionalPeers = new Set(Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name));
    const wanted: Array<[string, boolean]> = [
      ...Object.keys(pkg.dependencies ?? {}).map((name) => [name, false] as [string, boolean]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => [name, true] as [string, boolean]),
      // Peers are installed by npm 7+; an optional peer that is absent is the package's own business.
      ...Object.keys(pkg.peerDependencies ?? {}).map((name) => [name, optionalPeers.has(name)] as [string, boolean]),
    ];
    for (const [name, optional] of wanted) {
      const dir = resolvePackageDir(name, pkgDir);
      if (!dir) {
        if (!optional) missing.push(`${name} (needed by ${pkg.name})`);
        continue;
      }
      if (found.has(dir)) continue;
      found.add(dir);
      visit(dir, readPackage(dir));
    }
  };
  visit(ROOT, readPackage(ROOT));
  if (missing.length > 0) throw new Error(`Production dependencies are not installed (run npm install): ${[...new Set(missing)].join(', ')}`);
  return [...found].sort();
}

/** Copies a package folder without its nested node_modules (those are copied when the walk reaches them). */
function copyPackage(dir: string): void {
  const target = join(STAGE, relative(ROOT, dir));
  cpSync(dir, target, {
    recursive: true,
    dereference: false,
    filter: (source) => source === dir || !relative(dir, source).split(sep).includes('node_modules'),
  });
}

function compile(): void {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(STAGE, 'dist'), '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('The app does not compile (tsc -p tsconfig.build.json); no artefact was built.');
}

/** Every regular file under `dir`, relative to it, in a stable order; symbolic links (node_modules/.bin) are left out. */
function filesUnder(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...filesUnder(dir, path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

async function zip(dir: string, target: string): Promise<number> {
  const archive = new yazl.ZipFile();
  const files = filesUnder(dir);
  // A fixed time keeps the zip the same for the same inputs; the mode keeps executables executable.
  const mtime = new Date('2026-01-01T00:00:00Z');
  for (const file of files) archive.addFile(join(dir, file), file, { mtime, mode: lstatSync(join(dir, file)).mode });
  archive.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(target);
    archive.outputStream.pipe(out).on('close', resolve).on('error', reject);
  });
  return files.length;
}

async function main(): Promise<void> {
  rmSync(STAGE, { recursive: true, force: true });
  rmSync(ARTEFACT, { force: true });
  mkdirSync(STAGE, { recursive: true });

  compile();
  if (!existsSync(join(STAGE, 'dist', 'app', 'main.js'))) throw new Error('The compiled app has no dist/app/main.js.');

  for (const folder of RUNTIME_FOLDERS) cpSync(join(ROOT, folder), join(STAGE, folder), { recursive: true });

  const root = readPackage(ROOT);
  const packages = productionPackageDirs();
  for (const dir of packages) copyPackage(dir);
  const deployed = {
    name: root.name,
    version: root.version,
    private: true,
    engines: root.engines,
    scripts: { start: 'node dist/app/main.js' },
    dependencies: root.dependencies,
  };
  writeFileSync(join(STAGE, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);

  const count = await zip(STAGE, ARTEFACT);
  const size = lstatSync(ARTEFACT).size;
  process.stdout.write(
    `Built ${relative(ROOT, ARTEFACT)}: ${count} files, ${(size / 1024 / 1024).toFixed(1)} MB, ${packages.length} production packages.\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`build:deploy failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
