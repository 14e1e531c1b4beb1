#!/usr/bin/env bash
# TURN: two engines chat through Debian's coturn `turnserver` with long-term credentials and ICE
# transport policy `relay`, and wrong credentials make the peer fail (tests/turn/tests/turn.rs). The
# test starts its own turnserver on 127.0.0.1 (UDP, a free port, files in a private directory).
# The package's system service is kept from starting and disabled; the suite fails if a
# turnserver listens beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { echo "--- 20-turn: $*"; }

need_apt=()
command -v turnserver >/dev/null || need_apt+=(coturn)
command -v ss >/dev/null || need_apt+=(iproute2)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]} (coturn's system service is not started)"
  # A policy-rc.d that denies every start keeps coturn's postinst from starting its daemon
  # (invoke-rc.d and deb-systemd-invoke both honour it). An existing one is left as it is.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f "$policy"; trap - EXIT; fi
fi
command -v turnserver >/dev/null || { echo "20-turn: turnserver is still missing" >&2; exit 1; }

# The system daemon stays off: Debian enables coturn.service on install (systemd machines), and
# /etc/default/coturn's TURNSERVER_ENABLED=1 would let the SysV script start it at boot. (The
# SysV script's `stop` is not used: it stops every turnserver process, the tests' own too.)
if [ -f /etc/default/coturn ] && grep -Eq '^[[:space:]]*TURNSERVER_ENABLED=1' /etc/default/coturn; then
  step "commenting out TURNSERVER_ENABLED=1 in /etc/default/coturn"
  sed -i -E 's/^[[:space:]]*TURNSERVER_ENABLED=1/#TURNSERVER_ENABLED=1/' /etc/default/coturn
fi
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl disable --now coturn.service >/dev/null 2>&1 || true
fi
# The tests' own turnservers listen on 127.0.0.1 only; one listening anywhere else is the
# system daemon, which must not run.
public_turn() { ss -Hlnptu | grep '"turnserver"' | awk '$5 !~ /^127\./' || true; }
if [ -n "$(public_turn)" ]; then
  echo "20-turn: a turnserver listens beyond loopback (the system daemon?); stop it first:" >&2
  public_turn >&2
  exit 1
fi

step "clippy (the turn test is only built with --features turn-tests)"
cargo clippy -p peerchat-turn-tests --features turn-tests --all-targets --locked -- -D warnings
step "cargo test --test turn"
cargo test -p peerchat-turn-tests --features turn-tests --test turn --locked
