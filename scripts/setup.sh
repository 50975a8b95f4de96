#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Node >= 22 (Node 24 from the npm registry when the
# machine's is older), npm dependencies (only when package-lock.json changed), and the Python
# model runtime's virtual environment. Safe to run any number of times.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$STUDIO_ROOT"

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.studio-lock-sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "[setup] installing npm dependencies (node $(node --version))"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

if [ -x apps/model-runtime/scripts/setup.sh ] || [ -f apps/model-runtime/scripts/setup.sh ]; then
  bash apps/model-runtime/scripts/setup.sh
fi
echo "[setup] ready: node $(node --version)"
