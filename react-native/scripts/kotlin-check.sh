#!/usr/bin/env bash
# Compiles the Android native module (Kotlin) and the codegen-generated Java spec with kotlinc
# (-Werror) and javac through Maven, against react-android 0.87.1's classes and the REAL uniffi
# bindings (bindings/kotlin/generated/dev/peerchat/ffi/peerchat_ffi.kt), so a wrong binding name
# fails here. No Android SDK or Gradle needed. Run after `npm ci` in react-native/.
#
#   scripts/kotlin-check.sh          compile only
#   scripts/kotlin-check.sh --test   compile, then the JUnit tests of scripts/kotlin-check/src/test
#                                    (EngineAdapter against the real engine and `peerchat serve`;
#                                    needs `cargo build -p peerchat-ffi -p peerchat-cli` first;
#                                    the Cargo target dir is $CARGO_TARGET_DIR, else ../target)
set -euo pipefail
goal=compile
case "${1:-}" in
  "") ;;
  --test) goal=test ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
work=.kotlin-check
rm -rf "$work/generated" "$work/schema.json"
mkdir -p "$work/libs" "$work/aar"

# 1. The Java spec exactly as the Gradle plugin generates it (package com.peerchat).
node node_modules/@react-native/codegen/lib/cli/combine/combine-js-to-schema-cli.js \
  "$work/schema.json" src/NativePeerChat.ts
node node_modules/react-native/scripts/generate-specs-cli.js -p android -s "$work/schema.json" \
  -o "$work/generated" -n PeerChatSpec -j com.peerchat -t modules >/dev/null
test -f "$work/generated/java/com/peerchat/NativePeerChatSpec.java"

# 2. Classes of the AARs on the compile classpath (Maven cannot use an AAR directly).
fetch_aar() { # group:artifact:version[:classifier] name
  local coords=$1 name=$2
  if [ ! -f "$work/libs/$name-classes.jar" ]; then
    local g a v c
    IFS=: read -r g a v c <<<"$coords"
    mvn -q -B dependency:copy -Dartifact="$g:$a:$v:aar${c:+:$c}" -DoutputDirectory="$work/aar" >/dev/null
    rm -rf "$work/aar/x" && mkdir -p "$work/aar/x"
    unzip -q -o "$work/aar/$a-$v${c:+-$c}.aar" classes.jar -d "$work/aar/x"
    mv "$work/aar/x/classes.jar" "$work/libs/$name-classes.jar"
  fi
}
fetch_aar com.facebook.react:react-android:0.87.1:release react-android
fetch_aar com.facebook.fbjni:fbjni:0.7.0 fbjni

# 3. kotlinc (with -Werror) + javac; with --test also the JUnit tests.
test -f ../bindings/kotlin/generated/dev/peerchat/ffi/peerchat_ffi.kt
rm -rf scripts/kotlin-check/target/surefire-reports
mvn -q -B -f scripts/kotlin-check/pom.xml "$goal"
echo "kotlin-check: android/src/main/java compiled against react-android 0.87.1 and the generated bindings (dev.peerchat.ffi)"
if [ "$goal" = test ]; then
  # Maven -q prints no counts: sum them from the Surefire reports.
  sum() { cat scripts/kotlin-check/target/surefire-reports/TEST-*.xml \
    | grep -o "<testsuite [^>]*" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" | awk '{ n += $1 } END { print n + 0 }'; }
  tests=$(sum tests) failures=$(sum failures) errors=$(sum errors) skipped=$(sum skipped)
  echo "kotlin-check: JUnit $tests tests, $failures failures, $errors errors, $skipped skipped" \
    "(EngineAdapter against the real engine and peerchat serve)"
  [ "$tests" -gt 0 ] && [ "$failures" = 0 ] && [ "$errors" = 0 ]
fi
