#!/usr/bin/env bash
# Set up a development/runtime environment in .venv (idempotent): Python packages pinned by
# constraints.txt, and the NHS.UK frontend assets from npm (pinned by package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
if [ -f package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund
    .venv/bin/python -m partnering.web.assets
  else
    echo "npm not found: the web app needs Node.js/npm to install the NHS.UK frontend" >&2
    exit 1
  fi
fi
