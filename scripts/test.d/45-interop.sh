#!/usr/bin/env bash
# Interop matrix (tests/interop/): our engine against stranger peers written from
# docs/protocol.md on Pion v4 (Go modules), libdatachannel (npm node-datachannel 0.33.4 + ws),
# aiortc 1.16 (PyPI, in a venv) and Debian's Chromium (playwright-core): both roles each,
# messages both ways with receipts, peer left, two 3-peer meshes of mixed stacks, and the
# engine's handling of frames a conforming peer never sends (tests/conformance.rs).
# Everything runs inside a private network namespace with only `lo`
# (tests/browser/support/netns-run.sh loopback), so no packet can leave the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
interop=$repo/tests/interop

step() { echo "--- 45-interop: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "45-interop: creating network namespaces needs root" >&2
  exit 1
fi
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v unshare >/dev/null 2>&1 || need_apt+=(util-linux)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Go >= 1.21 (Pion v4's minimum). Without one, the toolchain comes from the Go module proxy,
# where Go publishes it as the module golang.org/toolchain.
go_ok() { command -v go >/dev/null 2>&1 && go version | grep -Eq 'go1\.(2[1-9]|[3-9][0-9])'; }
if ! go_ok; then
  version=1.24.0
  dir=${XDG_CACHE_HOME:-$HOME/.cache}/peerchat-go-$version
  if [ ! -x "$dir/bin/go" ]; then
    step "fetching Go $version from the Go module proxy"
    command -v unzip >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq unzip curl >/dev/null; }
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" \
      "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$version.linux-amd64.zip"
    unzip -q "$tmp/go.zip" -d "$tmp"
    mkdir -p "$(dirname "$dir")"
    mv "$tmp/golang.org/toolchain@v0.0.1-go$version.linux-amd64" "$dir"
    rm -rf "$tmp"
  fi
  export PATH=$dir/bin:$PATH
fi

step "Pion peer: go mod download, go build"
(cd "$interop/peers/pion" && go mod download && go build -o pion-peer .)

step "libdatachannel and Chromium peers: npm ci"
(cd "$interop/peers/js" && npm ci --no-audit --no-fund --loglevel=error)

step "aiortc peer: pip install into tests/interop/.venv"
[ -x "$interop/.venv/bin/python" ] || python3 -m venv "$interop/.venv"
"$interop/.venv/bin/pip" install -q --disable-pip-version-check \
  -r "$interop/peers/aiortc/requirements.txt" -c "$interop/peers/aiortc/constraints.txt"

step "clippy and build (the tests are only built with --features interop-tests)"
cargo clippy -p peerchat-interop-tests --features interop-tests --all-targets --locked -- -D warnings
cargo test -p peerchat-interop-tests --features interop-tests --locked --no-run

step "matrix and conformance, in a private network namespace (only lo)"
tests/browser/support/netns-run.sh loopback \
  cargo test -p peerchat-interop-tests --features interop-tests --locked --offline -- --test-threads=2
