#!/usr/bin/env bash
# React Native module (react-native/): the package build (`npm ci` runs `bob build`, the
# `prepare` script: lib/module + lib/typescript) and its check as npm would publish it
# (scripts/check-package.js: `npm pack` lists lib/, every `exports` path exists, a consumer
# type-checks against the packed .d.ts); the uniffi ↔ RN guard (scripts/ffi-guard.js: every
# field, variant, method and callback of the FFI reaches the TS, Kotlin and Swift layers);
# strict TypeScript over the package, the example app and the tests; Jest for the engine wrapper, the usePeerChat hook, both example screens and the
# Expo config plugin (all against a test double of the Turbo Module that implements its codegen
# spec); then, on the JVM (Maven + a JDK; PEERCHAT_SKIP_KOTLIN=1 skips):
#   - a kotlinc (-Werror)/javac compile of the Android module against react-android 0.87.1 and
#     the REAL generated uniffi Kotlin (bindings/kotlin/generated), so a wrong binding name fails;
#   - JUnit tests of the module's EngineAdapter.kt against the real engine (libpeerchat_ffi,
#     built here with cargo) and a real `peerchat serve` on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/react-native"

npm ci --no-audit --no-fund --loglevel=error
test -f lib/module/index.js && test -f lib/typescript/src/index.d.ts && test -f plugin/build/index.js
node scripts/sync-web-client.js --check
node scripts/check-package.js
node scripts/ffi-guard.js
npx tsc --noEmit -p tsconfig.json
npx jest --ci

if [ "${PEERCHAT_SKIP_KOTLIN:-0}" = 1 ]; then
  echo "kotlin-check skipped (PEERCHAT_SKIP_KOTLIN=1)"
  exit 0
fi
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null || ! command -v unzip >/dev/null; then
  echo "--- 50-react-native: installing Maven, a JDK, unzip"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven default-jdk-headless unzip >/dev/null
fi
# The engine's host library and the signaling server for the JUnit tests (separate invocations,
# as in 30-bindings, so that both suites build the same artifacts).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build --locked -p peerchat-ffi && cargo build --locked -p peerchat-cli)
bash scripts/kotlin-check.sh --test
