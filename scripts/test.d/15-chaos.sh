#!/usr/bin/env bash
# Cross-process signaling faults (tests/chaos): the server SIGKILLed and restarted (20 times,
# printing the p50/p99 time until both clients are back in their room), a client's TCP
# connection cut, a client SIGSTOPped for 20 s, a client that never comes back; and the mobile
# lifecycle (tests/chaos/tests/lifecycle.rs): pause() for PEERCHAT_PAUSE_MS (default 60 s) then
# resume(), wakes that skip the backoff or probe a dead path, shutdown/drop that never block,
# cancelled joins, the queue bounds under a stuck listener (~80 s in all). Real
# `peerchat` processes and real engines on 127.0.0.1, inside a private network namespace when
# this runs as root. Also peer connections that heal: tests/chaos/tests/heal.rs on loopback (ICE
# restart after a frozen peer, the outbox's bound, TTL and failure order) and, as root, on the
# tests/netsim network (netsim.rs: address changes with p50/p99 resume, link down 5 s / 30 s,
# lossy setups, 10,000 messages each way under 5 % loss; about 5 minutes in all).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked -q -p peerchat-cli --bin peerchat
cargo test --locked -q -p peerchat-chaos-tests --features chaos --no-run
run='cargo test --locked --offline -p peerchat-chaos-tests --features chaos -- --test-threads=1 --nocapture'
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 \
  && unshare -n true 2>/dev/null; then
  # Only loopback exists in the namespace: nothing can leave the machine.
  unshare -n bash -c "ip link set lo up && $run"
else
  echo "(no network namespace: running on the host's loopback)"
  $run
fi
