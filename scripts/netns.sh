#!/usr/bin/env bash
# Network namespaces for nicsim's integration tests: two namespaces joined
# by a veth pair, so real servers and nicsim talk over a real link without
# touching the host's network.
#
#   scripts/netns.sh up NAME     creates nsim-NAME-srv and nsim-NAME-cli,
#                                joined by veth srv0 <-> cli0 (both up, no
#                                addresses; the caller adds what it needs)
#   scripts/netns.sh down NAME   removes both (and everything in them)
set -euo pipefail
cmd="${1:?usage: netns.sh up|down NAME}"
name="${2:?usage: netns.sh up|down NAME}"
srv="nsim-$name-srv"
cli="nsim-$name-cli"

case "$cmd" in
up)
    ip netns del "$srv" 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true
    ip netns add "$srv"
    ip netns add "$cli"
    ip link add srv0 netns "$srv" type veth peer name cli0 netns "$cli"
    for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
    ip -n "$srv" link set srv0 up
    ip -n "$cli" link set cli0 up
    # Offloads stay as the kernel sets them: frames the server's stack
    # sends carry partial checksums, which nicsim finishes itself.
    # No IPv6 chatter (router solicitations, MLD) on the test link.
    ip netns exec "$srv" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$cli" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ;;
down)
    # End what still runs inside (servers a test started), then remove.
    for ns in "$srv" "$cli"; do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] && kill $pids 2>/dev/null || true
    done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -z "$(ip netns pids "$srv" 2>/dev/null)$(ip netns pids "$cli" 2>/dev/null)" ] && break
        sleep 0.2
    done
    for ns in "$srv" "$cli"; do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    done
    ip netns del "$srv" 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true
    ;;
*)
    echo "usage: netns.sh up|down NAME" >&2
    exit 2
    ;;
esac
