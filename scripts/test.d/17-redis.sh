#!/usr/bin/env bash
# Scale-out on Redis (tests/redis): a real redis-server and several real `peerchat serve
# --redis-url` processes on 127.0.0.1: rooms, logins and relays across instances, a 3-peer mesh
# over 3 instances, an instance SIGKILLed (raw clients and engines with fallback URLs resume
# elsewhere, nothing lost), Redis restarted, global login uniqueness and guess limits.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
  fi
fi
cargo build --locked -q -p peerchat-cli --bin peerchat
cargo test --locked -q -p peerchat-redis-tests --features redis -- --test-threads=1 --nocapture
