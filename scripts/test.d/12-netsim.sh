#!/usr/bin/env bash
# Packet-impairment harness (tests/netsim): hosts in network namespaces with TUN devices and a
# user-space router (loss, delay ± jitter, reorder, link down/up, address change). Its tests
# measure loss and round trips over real UDP/TCP sockets. Needs root (namespaces, TUN); CI runs
# as root. Not root: the suite fails and says so rather than passing without testing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ]; then
  echo "12-netsim: needs root (network namespaces and TUN devices); run it as root," \
    "e.g. sudo SUITES=12-netsim scripts/test.sh" >&2
  exit 1
fi
if [ ! -c /dev/net/tun ]; then
  echo "12-netsim: /dev/net/tun is missing (modprobe tun, or pass the device into the container)" >&2
  exit 1
fi
if ! command -v ip >/dev/null; then
  echo "--- 12-netsim: installing iproute2"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi

echo "--- 12-netsim: clippy (the root-only tests build with --features netsim-tests)"
cargo clippy -p peerchat-netsim --features netsim-tests --all-targets --locked -- -D warnings
echo "--- 12-netsim: cargo test"
cargo test -p peerchat-netsim --features netsim-tests --locked -- --nocapture
