#!/usr/bin/env bash
# Builds libpeerchat_ffi for the host and regenerates the Kotlin and Swift bindings from it
# (uniffi library mode), into the committed locations:
#   bindings/kotlin/generated/dev/peerchat/ffi/peerchat_ffi.kt   (Kotlin, JVM and Android)
#   ios/Sources/PeerChat/PeerChat.swift                           (Swift)
#   ios/Headers/{PeerChatFFI.h,module.modulemap}                 (C header + modulemap, which
#                                                                 ios/build-xcframework.sh packs)
#
# Usage: bindings/generate.sh [OUT_ROOT]
#   OUT_ROOT (default: the repository root) lets the test suite generate into a scratch
#   directory and compare with the committed copy.
# Honours CARGO_TARGET_DIR; builds the debug profile (the metadata is the same in every
# profile and on every target).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out_root=${1:-$repo}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
cd "$repo"

# Two invocations, not one: built together, the bindgen's `uniffi/cli` feature would be unified
# into the library's build and force a second copy of it.
cargo build --locked -p peerchat-ffi
cargo build --locked -p uniffi-bindgen
case "$(uname -s)" in
  Darwin) lib="$target_dir/debug/libpeerchat_ffi.dylib" ;;
  *) lib="$target_dir/debug/libpeerchat_ffi.so" ;;
esac
bindgen="$target_dir/debug/uniffi-bindgen"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --no-format: ktlint/swift-format output depends on their versions; keep the output
# byte-for-byte reproducible instead.
"$bindgen" generate --no-format --library "$lib" --language kotlin --out-dir "$tmp/kotlin"
"$bindgen" generate --no-format --library "$lib" --language swift --out-dir "$tmp/swift"

kotlin_dir="$out_root/bindings/kotlin/generated"
swift_dir="$out_root/ios/Sources/PeerChat"
ffi_dir="$out_root/ios/Headers"
rm -rf "$kotlin_dir"
mkdir -p "$kotlin_dir" "$swift_dir" "$ffi_dir"
cp -R "$tmp/kotlin/." "$kotlin_dir/"
cp "$tmp/swift/PeerChat.swift" "$swift_dir/PeerChat.swift"
cp "$tmp/swift/PeerChatFFI.h" "$ffi_dir/PeerChatFFI.h"
# XCFrameworks and clang look for `module.modulemap` in a headers directory.
cp "$tmp/swift/PeerChatFFI.modulemap" "$ffi_dir/module.modulemap"
echo "generated bindings under $out_root (kotlin: $kotlin_dir, swift: $swift_dir, C: $ffi_dir)"
