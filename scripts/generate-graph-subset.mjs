#!/usr/bin/env node
// Writes graph-subset-extended.json: the shared contract subset plus the operations the Graph gateway
// needs that the subset lacks. Microsoft's CSDL is converted by the shared gen-subset.mjs itself; this
// script only adds entries to its list of requested operations, so no schema is written by hand.
//
// It needs the shared contract folder (gen-subset.mjs and Microsoft's metadata), which a fresh clone does not
// have; the tests only read the committed output. scripts/shared-contract-gate.sh runs this when the folder exists.
//
// usage (any folder): node scripts/generate-graph-subset.mjs [--out FILE] [--shared DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..');
const CONTRACT = path.join(REPO_ROOT, 'test', 'contract');

/** Operations the gateway sends that the shared subset does not describe. */
const EXTRA_OPERATIONS = [
  ['POST', '/users/{user-id}/revokeSignInSessions'],
  ['GET', '/users/{user-id}/memberOf'],
  ['GET', '/groups/{group-id}/members'],
];

const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : path.join(CONTRACT, 'graph-subset-extended.json');
const sharedIndex = argv.indexOf('--shared');
const SHARED = sharedIndex >= 0 ? path.resolve(argv[sharedIndex + 1]) : path.join(REPO_ROOT, '..', 'shared', 'graph-contract');
if (!fs.existsSync(path.join(SHARED, 'gen-subset.mjs'))) {
  console.error(`No gen-subset.mjs in ${SHARED}; pass --shared DIR.`);
  process.exit(2);
}

const anchor = 'const REQUESTED = [';
const source = fs.readFileSync(path.join(SHARED, 'gen-subset.mjs'), 'utf8');
if (!source.includes(anchor)) {
  console.error(`gen-subset.mjs no longer declares "${anchor}"; update ${path.relative(REPO_ROOT, fileURLToPath(import.meta.url))}.`);
  process.exit(2);
}
const patched = source.replace(anchor, `${anchor} ${EXTRA_OPERATIONS.map((op) => JSON.stringify(op)).join(', ')},`);

// Run from the repo root so fast-xml-parser resolves from the project's node_modules.
const run = spawnSync(process.execPath, ['--input-type=module', '-', '--csdl', path.join(SHARED, 'src', 'v1.0-cleanMetadata.xml'), '--out', out], {
  cwd: REPO_ROOT,
  input: patched,
  encoding: 'utf8',
});
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  process.exit(run.status ?? 1);
}

const spec = JSON.parse(fs.readFileSync(out, 'utf8'));
const missing = EXTRA_OPERATIONS.filter(([method, p]) => !spec.paths[p]?.[method.toLowerCase()]);
if (missing.length > 0) {
  console.error(`gen-subset.mjs could not describe: ${missing.map((m) => m.join(' ')).join(', ')}`);
  process.exit(1);
}
spec.info['x-extended-by'] = 'scripts/generate-graph-subset.mjs';
spec.info['x-extra-operations'] = EXTRA_OPERATIONS.map((op) => op.join(' '));
fs.writeFileSync(out, JSON.stringify(spec));
console.error(`wrote ${path.relative(process.cwd(), out) || out}: ${Object.keys(spec.paths).length} paths (${EXTRA_OPERATIONS.length} operations added to the shared subset)`);
