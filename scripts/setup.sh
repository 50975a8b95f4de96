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
# The browser tests (e2e/src/studio-web.int-spec.ts) drive Debian's Chromium with playwright-core
# (`npx playwright install` cannot download browsers here). Installed once, as root.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "[setup] installing Debian chromium for the browser tests (sudo)"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
  else
    echo "[setup] /usr/bin/chromium is missing and this user cannot install it: run 'apt-get install chromium' as root (the browser tests need it)" >&2
  fi
fi
echo "[setup] ready: node $(node --version)"
