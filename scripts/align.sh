#!/usr/bin/env bash
# `npm run align -- <policy> [options]`: idempotent set-up (npm dependencies, the model runtime's
# virtual environment), then the whole alignment pipeline in one process (embedded profile).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$STUDIO_ROOT"
bash scripts/setup.sh >&2
export SWC_NODE_PROJECT="$STUDIO_ROOT/apps/studio/tsconfig.json"
exec node -r @swc-node/register apps/studio/src/main.ts align "$@"
