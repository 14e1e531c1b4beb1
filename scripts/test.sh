#!/usr/bin/env bash
# The one test command (README "Tests", and what .ci/run calls).
# Runs every suite in scripts/test.d/ in name order; each suite installs what it needs itself.
# SUITES="10-rust 40-browser" limits the run to the named suites.
set -euo pipefail
cd "$(dirname "$0")/.."
failed=()
for suite in scripts/test.d/*.sh; do
  name=$(basename "$suite" .sh)
  if [ -n "${SUITES:-}" ] && [[ " $SUITES " != *" $name "* ]]; then
    continue
  fi
  echo "=== suite $name ==="
  start=$(date +%s)
  if bash "$suite"; then
    echo "=== suite $name passed in $(( $(date +%s) - start )) s ==="
  else
    echo "=== suite $name FAILED in $(( $(date +%s) - start )) s ==="
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed suites: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
