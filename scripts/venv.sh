#!/usr/bin/env bash
# Create or refresh the project's virtual environment (.venv) when pyproject.toml or requirements.lock
# has changed: every dependency comes from requirements.lock, pinned and checked against its hashes
# (scripts/lock refreshes it), then the project itself. Sourced by scripts/run and scripts/test;
# prints nothing when the environment is current.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
stamp="$root/.venv/.installed-$(cat "$root/pyproject.toml" "$root/requirements.lock" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setting up the virtual environment in .venv (once per change of pyproject.toml or requirements.lock)..." >&2
  [ -x "$root/.venv/bin/python" ] || "$python" -m venv "$root/.venv"
  "$root/.venv/bin/python" -m pip install --quiet --upgrade pip
  "$root/.venv/bin/python" -m pip install --quiet --require-hashes -r "$root/requirements.lock"
  "$root/.venv/bin/python" -m pip install --quiet --no-deps -e "$root"
  if ! "$root/.venv/bin/python" -m pip check >/dev/null; then
    "$root/.venv/bin/python" -m pip check >&2 || true
    echo "error: requirements.lock does not hold what pyproject.toml asks for: run scripts/lock" >&2
    exit 1
  fi
  rm -f "$root"/.venv/.installed-*
  touch "$stamp"
fi
