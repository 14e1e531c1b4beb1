#!/usr/bin/env bash
# The one test command (README "Tests", and what .ci/run calls).
# Runs every suite in scripts/test.d/ in name order; each suite installs what it needs itself.
# SUITES="10-rust 40-browser" limits the run to the named suites.
set -euo pipefail
cd "$(dirname "$0")/.."
failed=()
passed=0
for suite in scripts/test.d/*.sh; do
  name=$(basename "$suite" .sh)
  if [ -n "${SUITES:-}" ] && [[ " $SUITES " != *" $name "* ]]; then
    continue
  fi
  echo "=== suite $name ==="
  start=$(date +%s)
  if bash "$suite"; then
    echo "=== suite $name passed in $(( $(date +%s) - start )) s ==="
    passed=$((passed + 1))
  else
    echo "=== suite $name FAILED in $(( $(date +%s) - start )) s ==="
    failed+=("$name")
  fi
done
echo "suites: $passed passed, ${#failed[@]} failed"
if [ $((passed + ${#failed[@]})) -eq 0 ]; then
  echo "no suite matched SUITES=\"${SUITES:-}\"" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed suites: ${failed[*]}"
  exit 1
fi
