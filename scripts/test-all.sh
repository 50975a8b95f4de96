#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, local servers (deploy/local), the web app's build (the
# gateway serves apps/web/dist; the browser tests use it), type check, lint,
# unit tests of every project (TypeScript and Python), integration tests against the real servers.
# Servers this script started are stopped at the end; servers that were already up are left up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
source scripts/env.sh

started_infra=0
if ! bash deploy/local/infra.sh status >/dev/null 2>&1; then started_infra=1; fi
bash deploy/local/infra.sh up
source "${STUDIO_DATA_DIR:-$STUDIO_ROOT/.data}/local/env.sh"
cleanup() { if [ "$started_infra" = 1 ] && [ "${STUDIO_KEEP_INFRA:-0}" != 1 ]; then bash deploy/local/infra.sh down || true; fi; }
trap cleanup EXIT

step() { echo; echo "==== $* (at ${SECONDS}s) ===="; }
step "format check";        npx prettier --check --log-level warn "**/*.{ts,tsx,cjs,mjs}"
step "web app build";       npx nx run web:build --outputStyle=static --skipNxCache
step "type check";          npm run -s typecheck
step "lint";                npx nx run-many -t lint --outputStyle=static --skipNxCache
step "unit tests";          npx nx run-many -t test --outputStyle=static --skipNxCache
step "integration tests";   npx jest -c jest.int.config.cjs --ci
step "Qdrant-API stand-in tests"; bash deploy/local/infra.sh test-qdrant -q
echo; echo "all tests passed in ${SECONDS}s"
