#!/usr/bin/env bash
# Builds ios/PeerChatFFI.xcframework, the binary target of ios/Package.swift: the Rust engine
# (crate peerchat-ffi) as static libraries, plus the C header and module.modulemap of the
# `PeerChatFFI` C module that the generated Swift (Sources/PeerChat/PeerChat.swift) imports.
#
# Slices:
#   ios-arm64                     aarch64-apple-ios          (devices)
#   ios-arm64_x86_64-simulator    aarch64-apple-ios-sim + x86_64-apple-ios (lipo)
#   macos-arm64_x86_64            aarch64-apple-darwin + x86_64-apple-darwin (lipo), so that
#                                 `swift test` runs the XCTests on a Mac; SKIP_MACOS=1 omits it
#
# Needs: macOS with Xcode (xcodebuild, lipo, the iOS SDKs) and rustup. Run from anywhere:
#   ios/build-xcframework.sh
# Environment: PROFILE (cargo profile, default release), CARGO_TARGET_DIR (default ../target),
#   IPHONEOS_DEPLOYMENT_TARGET (default 15.0), MACOSX_DEPLOYMENT_TARGET (default 12.0) —
#   keep them equal to the platforms of Package.swift.
#
# The header and modulemap come from ios/Headers, which bindings/generate.sh writes and CI
# checks for freshness; run bindings/generate.sh first after changing the Rust API.
set -euo pipefail

ios_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$ios_dir/.." && pwd)
profile=${PROFILE:-release}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-15.0}
export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-12.0}
lib_name=libpeerchat_ffi.a
framework="$ios_dir/PeerChatFFI.xcframework"

if [ "$(uname -s)" != Darwin ]; then
  echo "build-xcframework.sh needs macOS with Xcode" >&2
  exit 1
fi
for tool in xcodebuild lipo rustup cargo; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

ios_targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
macos_targets=(aarch64-apple-darwin x86_64-apple-darwin)
targets=("${ios_targets[@]}")
[ "${SKIP_MACOS:-0}" = 1 ] || targets+=("${macos_targets[@]}")

rustup target add "${targets[@]}"
cd "$repo"
for target in "${targets[@]}"; do
  echo "==> cargo build --profile $profile --target $target"
  cargo build --locked -p peerchat-ffi --profile "$profile" --target "$target"
done

# cargo puts the `dev` profile in debug/, every other profile in a directory of its name.
out_dir=$profile
[ "$profile" = dev ] && out_dir=debug
lib() { echo "$target_dir/$1/$out_dir/$lib_name"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Headers in a subdirectory named after the module: Xcode copies every static xcframework's
# Headers into one include directory, where two top-level module.modulemap files would collide.
headers="$work/headers"
mkdir -p "$headers/PeerChatFFI"
cp "$ios_dir/Headers/PeerChatFFI.h" "$ios_dir/Headers/module.modulemap" "$headers/PeerChatFFI/"

mkdir -p "$work/ios-simulator"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
  -output "$work/ios-simulator/$lib_name"
args=(
  -library "$(lib aarch64-apple-ios)" -headers "$headers"
  -library "$work/ios-simulator/$lib_name" -headers "$headers"
)
if [ "${SKIP_MACOS:-0}" != 1 ]; then
  mkdir -p "$work/macos"
  lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" \
    -output "$work/macos/$lib_name"
  args+=(-library "$work/macos/$lib_name" -headers "$headers")
fi

rm -rf "$framework"
xcodebuild -create-xcframework "${args[@]}" -output "$framework"
echo "built $framework"
