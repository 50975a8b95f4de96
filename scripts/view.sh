#!/usr/bin/env bash
# `npm run studio:view [-- options]`: idempotent set-up (npm dependencies, the model runtime's
# virtual environment), then the whole studio — web app, API, services, model runtime — in one
# process on the embedded profile (no Kafka, MongoDB, Redis or Qdrant). `-- --help` for the options.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$STUDIO_ROOT"
bash scripts/setup.sh >&2
# The web app the gateway serves at / (a Vite build: about a second).
npm run -s web:build >&2
export SWC_NODE_PROJECT="$STUDIO_ROOT/apps/studio/tsconfig.json"
exec node -r @swc-node/register apps/studio/src/main.ts view "$@"
