#!/usr/bin/env bash
# lab:down — end the lab's processes (by recorded PID / process group), delete every namespace the
# lab made (which removes br0, the taps and the veths with them), remove the state dir.
# Safe to run twice, and on the leftovers of a killed run.
#  --locked : the caller (lab-up.sh) already holds the lab lock
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "lab:down must run as root"
[ "${1:-}" = --locked ] || with_lab_lock "$0" "$@"
T0=$(date +%s%N)

# Send SIG to a recorded pid and its process group (every lab daemon runs in its own session,
# so its group is its own: socat's per-connection children go with it).
signal() { # sig pid
  kill "-$1" -- "-$2" 2>/dev/null || true
  kill "-$1" "$2" 2>/dev/null || true
}
wait_gone() { # seconds pid...
  local until=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  local p left
  while :; do
    left=""
    for p in "$@"; do pid_alive "$p" && left="$left $p"; done
    [ -z "$left" ] && return 0
    [ "$(date +%s%N)" -ge "$until" ] && { echo "$left"; return 1; }
    sleep 0.1
  done
}

pids=()
if [ -d "$LAB_DIR/pids" ]; then
  for f in "$LAB_DIR"/pids/*; do
    [ -e "$f" ] || continue
    p=$(cat "$f" 2>/dev/null || true)
    [[ "$p" =~ ^[0-9]+$ ]] || continue
    pid_alive "$p" && pids+=("$p")
  done
fi
# Relays of a run whose state dir is gone: a listener on one of our ports whose command line
# names our socket dir is ours; nothing else is touched.
while read -r name kind addr mac port; do
  for p in $(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$LAB_DIR/sock/"; then pids+=("$p"); fi
  done
done < <(lab_hosts)

if [ ${#pids[@]} -gt 0 ]; then
  for p in "${pids[@]}"; do signal TERM "$p"; done
  if left=$(wait_gone 5 "${pids[@]}"); then :; else
    log "still alive after SIGTERM:$left; SIGKILL"
    for p in $left; do signal KILL "$p"; done
    wait_gone 5 $left >/dev/null || log "WARNING: could not end:$left"
  fi
fi

# Namespaces: anything still running inside a lab namespace was started through the lab (an ssh
# session's child, a daemon started by a test): end it, or the namespace would outlive `ip netns del`.
for ns in $NS_LAB $(lab_hosts ns | awk -v p="$NS_PREFIX" '{print p $1}'); do
  [ -e "/run/netns/$ns" ] || continue
  inside=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  if [ -n "${inside// /}" ]; then
    log "processes left in $ns: $inside; ending them"
    for p in $inside; do kill -TERM "$p" 2>/dev/null || true; done
    if left=$(wait_gone 3 $inside); then :; else for p in $left; do kill -KILL "$p" 2>/dev/null || true; done; fi
  fi
  ip netns del "$ns" || log "WARNING: ip netns del $ns failed"
done

rm -rf "$LAB_DIR"
log "lab down ($(( ($(date +%s%N) - T0) / 1000000 )) ms)"
