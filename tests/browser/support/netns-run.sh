#!/usr/bin/env bash
# Runs a command inside a fresh private network namespace that this script creates (root only).
#   netns-run.sh loopback CMD...  only `lo` (127.0.0.1): Chromium needs
#                                 --allow-loopback-in-peer-connection + camera/mic permission.
#   netns-run.sh mdns CMD...      `lo` plus a veth pair pc0 10.99.0.1/24 <-> pc1 10.99.0.2/24,
#                                 so Chromium gathers host candidates and hides them behind
#                                 mDNS `<uuid>.local` names (its default). These addresses and
#                                 the mDNS multicast exist only inside the namespace; the
#                                 default route points at pc0, so nothing leaves it either.
# Nothing inside can reach the machine's real network.
set -euo pipefail
mode=${1:?usage: netns-run.sh loopback|mdns CMD...}
shift
case "$mode" in loopback|mdns) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac

if [ "${PEERCHAT_NETNS:-}" != "$mode" ]; then
  exec env PEERCHAT_NETNS="$mode" unshare --net -- "$0" "$mode" "$@"
fi

# Refuse to configure anything unless this really is a fresh namespace (only `lo`, down).
links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
if [ "$links" != "lo " ]; then
  echo "netns-run.sh: expected a fresh namespace with only lo, found: $links" >&2
  exit 1
fi
ip link set lo up
if [ "$mode" = mdns ]; then
  ip link add pc0 type veth peer name pc1
  ip addr add 10.99.0.1/24 dev pc0
  ip addr add 10.99.0.2/24 dev pc1
  ip link set pc0 up
  ip link set pc1 up
  # Without camera/mic permission Chromium gathers only on the interface of the default route
  # (it asks the kernel which local address would reach a public IP; no packet is sent). An
  # on-link default route via pc0 gives it one; anything sent there stays in this namespace.
  ip route add default dev pc0
fi
exec "$@"
