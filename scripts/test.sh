#!/usr/bin/env bash
# The whole test suite: type-check, lint, then every test file (unit, conformance, e2e) in one
# node:test run so the closing summary counts everything. Redis, Redis Cluster and etcd are
# started by the tests' own harness (e2e/harness) from the binaries on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== type-check"
npx tsc -p tsconfig.json --noEmit
echo "== lint"
npx biome check .

mapfile -t files < <(find lib sandbox e2e -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "== tests (${#files[@]} files)"
# One file at a time keeps the real-server and timing-based e2e tests honest on 2 cores.
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=180000 "${files[@]}"
