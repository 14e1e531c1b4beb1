#!/usr/bin/env bash
# Compiles the Android native module (Kotlin) and the codegen-generated Java spec with kotlinc
# and javac through Maven, against react-android 0.87.1's classes and a stub of the uniffi
# bindings. No Android SDK or Gradle needed. Run from react-native/ after `npm ci`.
set -euo pipefail
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

# 3. kotlinc (with -Werror) + javac.
mvn -q -B -f scripts/kotlin-check/pom.xml compile
echo "kotlin-check: android/src/main/java compiled against react-android 0.87.1 and the bindings stub"
