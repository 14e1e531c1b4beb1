#!/usr/bin/env bash
# React Native module (react-native/): strict TypeScript over the package, the example app and
# the tests; Jest for the engine wrapper, the usePeerChat hook, both example screens and the
# Expo config plugin (all against a test double of the Turbo Module that implements its codegen
# spec); then, when Maven and a JDK are present, a kotlinc/javac compile of the Android module
# against react-android 0.87.1 and a stub of the uniffi bindings (PEERCHAT_SKIP_KOTLIN=1 skips).
set -euo pipefail
cd "$(dirname "$0")/../../react-native"

npm ci --no-audit --no-fund --loglevel=error
npx tsc --noEmit -p tsconfig.json
npx tsc -p plugin/tsconfig.json
npx jest --ci

if [ "${PEERCHAT_SKIP_KOTLIN:-0}" = 1 ]; then
  echo "kotlin-check skipped (PEERCHAT_SKIP_KOTLIN=1)"
elif command -v mvn >/dev/null && command -v javac >/dev/null && command -v unzip >/dev/null; then
  bash scripts/kotlin-check.sh
else
  echo "kotlin-check FAILED to start: needs mvn, javac and unzip (apt-get install maven default-jdk-headless unzip)" >&2
  exit 1
fi
