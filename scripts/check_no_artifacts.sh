#!/usr/bin/env bash
# The checklist's no-artifacts gate: no build output, dependencies, data dirs, env files or test
# artifacts are tracked by git. Prints the offending paths and exits 1 when there are any.
set -euo pipefail
cd "$(dirname "$0")/.."
if git ls-files | grep -E '(^|/)(node_modules|dist|coverage|artifacts|\.data|pglite-data)(/|$)|(^|/)\.env(\.|$)|\.tsbuildinfo$'; then
  echo "no-artifacts: the tracked paths above are build output, dependencies, data or env files" >&2
  exit 1
fi
echo "no-artifacts: clean"
