#!/usr/bin/env bash
# The React Native example app in a real browser (tests/browser/rn-example/): the example's
# Home and Chat screens bundled for the web (react-native/example/web: esbuild,
# react-native-web, the module's web implementation src/NativePeerChat.web.ts over the
# browser's RTCPeerConnection), driven by playwright-core in Debian's Chromium against a real
# `peerchat serve` and a real Rust engine (`peerchat create|join`), inside a private network
# namespace with only loopback (tests/browser/support/netns-run.sh). Screenshots and console
# logs: artifacts/browser/rn-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "55-rn-web: creating network namespaces needs root" >&2
  exit 1
fi

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd react-native/example/web && npm ci --no-audit --no-fund --loglevel=error)
cargo build -p peerchat-cli --locked
target_dir=${CARGO_TARGET_DIR:-$repo/target}
export PEERCHAT_BIN="$target_dir/debug/peerchat"
export PEERCHAT_ARTIFACTS="$repo/artifacts/browser"
mkdir -p "$PEERCHAT_ARTIFACTS"
rm -f "$PEERCHAT_ARTIFACTS"/rn-*

cd tests/browser
support/netns-run.sh loopback node --test --test-concurrency=1 --test-timeout=120000 rn-example/
echo "screenshots: $(ls "$PEERCHAT_ARTIFACTS"/rn-*.png | xargs -n1 basename | tr '\n' ' ')"
