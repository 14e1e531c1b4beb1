#!/usr/bin/env bash
# Browser client (web/static; tests in tests/browser/): node unit tests of its modules, then real Chromium (Debian's, driven by
# playwright-core) against `peerchat serve` and the Rust engine (`peerchat create|join`),
# inside private network namespaces this script creates:
#   loopback: only lo; Chromium gets --allow-loopback-in-peer-connection + camera/mic
#             permission, so its host candidates are 127.0.0.1.
#   mdns:     lo + a veth pair 10.99.0.1/24 <-> 10.99.0.2/24; Chromium keeps its default mDNS
#             `<uuid>.local` host candidates, which the engine resolves with mDNS queries.
# Then the React Native example app (tests/browser/rn-example/): its Home and Chat screens
# bundled for the web (react-native/example/web: esbuild + react-native-web + the module's web
# implementation react-native/src/NativePeerChat.web.ts), driven in Chromium against
# `peerchat serve` and the Rust engine, in the loopback namespace.
# Screenshots and browser console logs go to artifacts/browser/ (gitignored).
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
  echo "40-browser: creating network namespaces needs root" >&2
  exit 1
fi

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd react-native/example/web && npm ci --no-audit --no-fund --loglevel=error)
cargo build -p peerchat-cli --locked
target_dir=${CARGO_TARGET_DIR:-$repo/target}
export PEERCHAT_BIN="$target_dir/debug/peerchat"
export PEERCHAT_ARTIFACTS="$repo/artifacts/browser"
rm -rf "$PEERCHAT_ARTIFACTS"
mkdir -p "$PEERCHAT_ARTIFACTS"

cd tests/browser
echo "--- unit tests (node)"
node --test unit/
for mode in loopback mdns; do
  echo "--- browser tests, $mode namespace"
  support/netns-run.sh "$mode" node --test --test-concurrency=1 --test-timeout=180000 browser/
done
echo "--- React Native example app (react-native-web), loopback namespace"
support/netns-run.sh loopback node --test --test-concurrency=1 --test-timeout=120000 rn-example/
echo "screenshots: $(ls "$PEERCHAT_ARTIFACTS"/*.png | xargs -n1 basename | tr '\n' ' ')"
