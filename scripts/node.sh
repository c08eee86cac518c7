#!/usr/bin/env bash
# Install the Node tools the tests use (anvil, solc-js; tools/node/package.json) when npm is
# there and they are missing or out of date. Sourced by scripts/test; quiet when current.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools/node"
stamp="$tools/node_modules/.installed-$(sha256sum "$tools/package.json" | cut -c1-16)"
if command -v npm >/dev/null 2>&1 && [ ! -f "$stamp" ]; then
  echo "installing the test node tools (anvil, solc-js) in tools/node..." >&2
  if (cd "$tools" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1); then
    rm -f "$tools"/node_modules/.installed-*
    touch "$stamp"
  else
    echo "warning: npm install in tools/node failed; the live-chain tests will be skipped" >&2
  fi
fi
