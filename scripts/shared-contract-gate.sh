#!/usr/bin/env bash
# An extra Graph contract gate for CI, run only where the shared contract folder sits beside the repository
# (../shared/graph-contract, or GRAPH_CONTRACT_SHARED). Without it this does nothing and exits 0: npm test
# already checks every recorded Graph request with the checker and data kept in the repository.
#
# With it, it checks that:
#   1. test/contract/graph-subset-extended.json is exactly what scripts/generate-graph-subset.mjs makes from
#      the shared gen-subset.mjs and Microsoft's metadata;
#   2. test/contract/permissions.json is the shared copy of Microsoft's permission map;
#   3. the Graph requests the Graph test suites make pass the shared check.mjs (schema) and permissions.mjs
#      (application permissions from infra/graph-permissions.json).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${GRAPH_CONTRACT_SHARED:-$ROOT/../shared/graph-contract}"
if [ ! -f "$SHARED/check.mjs" ]; then
  echo "shared-contract-gate: no shared contract folder at $SHARED; skipped (npm test runs the in-repo checks)."
  exit 0
fi
SHARED="$(cd "$SHARED" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

echo "shared-contract-gate: 1/3 the extended subset is what the generator makes"
node scripts/generate-graph-subset.mjs --shared "$SHARED" --out "$WORK/extended.json" 2>/dev/null
if ! cmp -s "$WORK/extended.json" test/contract/graph-subset-extended.json; then
  echo "  test/contract/graph-subset-extended.json is out of date: run node scripts/generate-graph-subset.mjs and commit it." >&2
  exit 1
fi

echo "shared-contract-gate: 2/3 the permission map is the shared copy"
if ! cmp -s "$SHARED/src/permissions.json" test/contract/permissions.json; then
  echo "  test/contract/permissions.json differs from $SHARED/src/permissions.json: copy it, and update the commit in test/contract/README.md." >&2
  exit 1
fi

echo "shared-contract-gate: 3/3 the test suites' Graph requests pass the shared checkers"
export GRAPH_CONTRACT_RECORD_FILE="$WORK/requests.signed.jsonl"
: > "$GRAPH_CONTRACT_RECORD_FILE"
npx jest test/unit/graph test/unit/aup/graph-install-app.test.ts test/integration/enforcement --silent >"$WORK/jest.log" 2>&1 || { cat "$WORK/jest.log" >&2; exit 1; }
node -e '
  const fs = require("fs");
  const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const out = (signIn) => lines.filter((r) => r.signIn === signIn).map(({ signIn: _, ...r }) => JSON.stringify(r)).join("\n") + "\n";
  fs.writeFileSync(process.argv[2], out("application"));
  console.log(`  ${lines.length} requests recorded`);
' "$GRAPH_CONTRACT_RECORD_FILE" "$WORK/requests.jsonl"
node "$SHARED/check.mjs" "$WORK/requests.jsonl" --spec test/contract/graph-subset-extended.json --quiet-ok | { grep -v "^WARN\|^    ↳ \[id=[^]]*\] WARN" || true; }
GRANTED="$(node -p 'require("./infra/graph-permissions.json").application.join(",")')"
node "$SHARED/permissions.mjs" "$WORK/requests.jsonl" --granted "$GRANTED" --scheme Application
echo "shared-contract-gate: passed"
