#!/usr/bin/env bash
# N real-server hosts for the fleet benchmark (bench/fleet.ts), each a network namespace running
# its own sshd, reached from the root namespace through socat relays on 127.0.0.1 (the test lab's
# approach, test/lab/README.md): the root namespace gets no interface, address or route.
#
#   bash bench/fleet-hosts.sh up N DIR [PORT_BASE]   # DIR: an empty folder made by the caller
#   bash bench/fleet-hosts.sh down DIR                # safe twice, and on a half-built DIR
#   LVSBENCH_HOST_SH=bash (default dash): /bin/sh on the hosts is bash (see host_inside)
#   LVSBENCH_UP_JOBS=12: hosts set up at once
#
# Topology: namespace lvsbench-br holds bridge br0 (no uplink, no address); host i is namespace
# lvsbench-h<i> with eth0 (a veth on br0) at 198.51.100.(9+i)/24 for i <= 240, then
# 203.0.113.(9+i-240)/24 up to i = 480. No namespace has a default route.
# Each host's sshd runs in its own mount and UTS namespace where /etc, /var/lib and /var/log are
# overlays (the machine's files below, DIR/h/<name>/ovl/* above), /root and /run are empty tmpfs:
# what lvsplay or Ansible write there (sysctl.d, lvsplay's records, its /run lock) stays with the
# host and never reaches the machine. sshd logs at VERBOSE to DIR/h/<name>/sshd.log, which is
# where the bench counts connections and sessions ("Starting session:" lines).
#
# Written for `up`, read by the bench:
#   DIR/hosts.tsv        name namespace address prefix port, one host a line
#   DIR/id_bench         the root login key of every host;  DIR/known_hosts  [127.0.0.1]:PORT lines
#   DIR/namespaces       every namespace `up` created (recorded BEFORE creating it)
#   DIR/pids/<name>.*    every daemon `up` started (sshd, relay-in, relay-out)
# `down` ends only those PIDs (checking each still names DIR on its command line, so a reused PID
# is never hit) and what runs inside the recorded namespaces, then deletes those namespaces only.
set -euo pipefail

SELF=$(readlink -f "$0")
NS_PREFIX=lvsbench-
BR_NS=${NS_PREFIX}br
MAX_HOSTS=480
JOBS=${LVSBENCH_UP_JOBS:-12}

log() { printf '[fleet-hosts %(%T)T] %s\n' -1 "$*" >&2; }
die() { printf '[fleet-hosts] ERROR: %s\n' "$*" >&2; exit 1; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
# Milliseconds, without forking `date` (forks are slow on a loaded 2-core machine).
ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

# Documentation ranges only: 198.51.100.10-249, then 203.0.113.10-249. Sets ADDR (no subshell).
addr_of() {
  local i=$1
  if (( i <= 240 )); then ADDR="198.51.100.$((9 + i))"; else ADDR="203.0.113.$((9 + i - 240))"; fi
}

sshd_config() { # DIR name
  local H="$1/h/$2"
  cat <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $H/ssh_host_ed25519_key
AuthorizedKeysFile $1/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
# VERBOSE logs one "Starting session: ..." line per session channel (exec, shell, subsystem):
# the bench counts those per host and run.
LogLevel VERBOSE
# Ansible multiplexes every task of a host over one ControlMaster connection.
MaxSessions 64
MaxStartups 100:30:200
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# ---------------------------------------------------------------------------------------------
# Inside a host: run as `ip netns exec NS unshare --mount --uts --propagation slave bash SELF
# _host NAME DIR`, so mounts made here stay in this host's mount namespace (slave: nothing
# propagates back to the machine). The namespace lives as long as sshd and the inner relay do.
host_inside() { # NAME DIR
  local name=$1 DIR=$2 H="$2/h/$1" d o
  echo "$name" > /proc/sys/kernel/hostname   # this UTS namespace's, without a `hostname` process
  mkdir -p "$H"/ovl/{etc,var-lib,var-log}/{u,w}
  for d in etc var/lib var/log; do
    o="$H/ovl/${d//\//-}"
    mount -t overlay "lvsbench-$name" -o "lowerdir=/$d,upperdir=$o/u,workdir=$o/w" "/$d"
  done
  # A clean home (no dotfiles of the machine's root) and a /run of its own: lvsplay's host lock
  # (/run/lvsplay.lock) must be per host, as it is on a real server.
  mount -t tmpfs -o mode=700 "lvsbench-$name-root" /root
  mount -t tmpfs -o mode=755 "lvsbench-$name-run" /run
  mkdir -m 755 /run/sshd
  # LVSBENCH_HOST_SH=bash: /bin/sh is bash on this host (as on RHEL), not Debian's dash. Both run
  # the bench's job (bench/README.md says why bash is the bench's default).
  if [ "${LVSBENCH_HOST_SH:-dash}" = bash ]; then mount --bind /usr/bin/bash "$SH_TARGET"; fi
  echo "$name" > /etc/hostname
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$name" > /etc/hosts

  # -D (no daemon(3)) behind setsid: its PID is known at once, no pid file to wait for; `up`
  # waits for every banner at the end anyway
  setsid /usr/sbin/sshd -D -f "$H/sshd_config" -E "$H/sshd.log" </dev/null >/dev/null 2>>"$H/sshd.err" &
  echo $! > "$DIR/pids/$name.sshd"

  # inner half of the relay: unix socket (the filesystem is shared) -> this namespace's sshd
  setsid socat "UNIX-LISTEN:$DIR/sock/$name.sock,fork,mode=600,unlink-early" TCP:127.0.0.1:22,nodelay \
    </dev/null >>"$H/relay.log" 2>&1 &
  echo $! > "$DIR/pids/$name.relay-in"
}

# ---------------------------------------------------------------------------------------------
# One host, once its namespace exists: its veth (created from inside the host, the peer landing in
# the bridge namespace: never in the root namespace), its sshd and both relay halves. One
# `ip -batch` per host: process start-ups, not the kernel, are what cost here (a fork+exec takes
# 10-20 ms on a loaded 2-core machine).
start_host() { # DIR i port
  local DIR=$1 i=$2 port=$3 name="h$2" ns="${NS_PREFIX}h$2" ADDR H
  addr_of "$i"
  H="$DIR/h/$name"
  mkdir -p "$H"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$H/ssh_host_ed25519_key"
  sshd_config "$DIR" "$name" > "$H/sshd_config"
  printf '%s\n' "link add eth0 type veth peer name v-$name netns $BR_NS" "link set lo up" \
    "link set eth0 up" "addr add $ADDR/24 dev eth0" | ip -n "$ns" -batch -
  ip netns exec "$ns" unshare --mount --uts --propagation slave bash "$SELF" _host "$name" "$DIR"
  # outer half of the relay, in the root namespace, on 127.0.0.1 only: TCP -> the host's socket
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,nodelay" "UNIX-CONNECT:$DIR/sock/$name.sock" \
    </dev/null >>"$H/relay.log" 2>&1 &
  echo $! > "$DIR/pids/$name.relay-out"
  printf '%s\t%s\t%s\t24\t%s\n' "$name" "$ns" "$ADDR" "$port" > "$H/row.tsv"
}

# Does an sshd send its banner through the relay? (bash's /dev/tcp and read -t: no process)
banner() {
  local line=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  IFS= read -r -t 3 line <&3 || true
  exec 3<&-
  [[ $line == SSH-2.0* ]]
}
wait_banner() { # port name
  local deadline=$(( SECONDS + 60 ))
  while [ "$SECONDS" -lt "$deadline" ]; do banner "$1" && return 0; sleep 0.2; done
  log "$2 (127.0.0.1:$1) sends no SSH banner"; return 1
}

# Run FN ITEM for each item, at most $JOBS at once; fail if any failed.
parallel() { # fn args... -- items...
  local fn=() item running=0 fail=0
  while [ "$1" != -- ]; do fn+=("$1"); shift; done; shift
  for item in "$@"; do
    if (( running >= JOBS )); then wait -n || fail=1; running=$((running - 1)); fi
    ( "${fn[@]}" "$item" ) &
    running=$((running + 1))
  done
  while (( running > 0 )); do wait -n || fail=1; running=$((running - 1)); done
  return $fail
}

up() { # N DIR [PORT_BASE]
  local N=$1 DIR=$2 base=${3:-24000} t0 i
  t0=$(ms)
  [ "$(id -u)" = 0 ] || die "must run as root (namespaces, mounts)"
  [[ "$N" =~ ^[0-9]+$ ]] && (( N >= 1 && N <= MAX_HOSTS )) || die "N must be 1..$MAX_HOSTS (two documentation /24s), got $N"
  [ -d "$DIR" ] && [ -z "$(ls -A "$DIR")" ] || die "$DIR must be an existing, empty folder"
  case $(readlink -f "$DIR") in /etc*|/run*|/root*|/var/lib*|/var/log*) die "DIR must not be under a folder the hosts remount (/etc /run /root /var/lib /var/log)";; esac
  for cmd in sshd:/usr/sbin/sshd socat ssh-keygen unshare ip; do
    command -v "${cmd#*:}" >/dev/null || die "${cmd#*:} is missing (apt-get install openssh-server socat iproute2 util-linux)"
  done
  if [ -e "/run/netns/$BR_NS" ]; then
    die "namespace $BR_NS exists: a bench run was killed. End it with: bash $SELF down <its DIR> (candidates: $(grep -l . /tmp/lvsbench-*/namespaces 2>/dev/null | xargs -r -n1 dirname | tr '\n' ' '))"
  fi
  local -A listening=()
  local l
  while read -r _ _ _ l _; do listening[${l##*:}]=1; done < <(ss -ltnH 2>/dev/null)
  for (( i = 1; i <= N; i++ )); do
    [ -z "${listening[$((base + i))]:-}" ] || die "port $((base + i)) is in use; pick another base (BENCH_FLEET_PORT_BASE)"
  done

  SH_TARGET=$(readlink -f /bin/sh); export SH_TARGET   # what a host's bind mount replaces
  touch "$DIR/.lvsbench"   # marks DIR as ours: `down` removes only a folder with this mark
  mkdir -p "$DIR"/{h,pids,sock}
  umask 077
  ssh-keygen -q -t ed25519 -N '' -C lvsbench -f "$DIR/id_bench"
  cp "$DIR/id_bench.pub" "$DIR/authorized_keys"
  umask 022

  echo "$BR_NS" >> "$DIR/namespaces"
  ip netns add "$BR_NS"
  ip -n "$BR_NS" link set lo up
  ip -n "$BR_NS" link add br0 type bridge
  ip -n "$BR_NS" link set br0 type bridge forward_delay 0 stp_state 0
  ip -n "$BR_NS" link set br0 up

  # every host namespace, recorded first (`down` must find a half-made host too), in one batch
  local items=()
  for (( i = 1; i <= N; i++ )); do items+=("$i"); echo "${NS_PREFIX}h$i" >> "$DIR/namespaces"; done
  for i in "${items[@]}"; do echo "netns add ${NS_PREFIX}h$i"; done | ip -batch -
  start_one() { start_host "$DIR" "$1" "$((base + $1))"; }
  parallel start_one -- "${items[@]}" || die "some hosts did not start (see $DIR/h/*/sshd.err)"
  # the bridge side of every veth, in one batch
  for i in "${items[@]}"; do echo "link set v-h$i master br0 up"; done | ip -n "$BR_NS" -batch -
  log "$N hosts started ($(( $(ms) - t0 )) ms); waiting for every sshd banner"

  # (builtins only: two processes per host, one after the other, cost seconds at N = 200)
  local row type key _
  for (( i = 1; i <= N; i++ )); do
    read -r row < "$DIR/h/h$i/row.tsv"; printf '%s\n' "$row"
  done > "$DIR/hosts.tsv"
  for (( i = 1; i <= N; i++ )); do
    read -r type key _ < "$DIR/h/h$i/ssh_host_ed25519_key.pub"; printf '[127.0.0.1]:%s %s %s\n' "$((base + i))" "$type" "$key"
  done > "$DIR/known_hosts"
  wait_one() { wait_banner "$((base + $1))" "h$1"; }
  parallel wait_one -- "${items[@]}" || die "some hosts do not answer"
  log "$N hosts up ($(( $(ms) - t0 )) ms)"
}

# ---------------------------------------------------------------------------------------------
# SIG to a recorded PID and its process group (each daemon was started in its own session, so
# its group is its own: socat's per-connection children go with it).
signal() { kill "-$1" -- "-$2" 2>/dev/null || true; kill "-$1" "$2" 2>/dev/null || true; }
wait_gone() { # seconds pid... ; prints those still alive
  local until=$(( $(ms) + $1 * 1000 )) p left; shift
  while :; do
    left=""
    for p in "$@"; do pid_alive "$p" && left="$left $p"; done
    [ -z "$left" ] && return 0
    [ "$(ms)" -ge "$until" ] && { echo "$left"; return 1; }
    sleep 0.1
  done
}
end_pids() { # pid...
  [ $# -gt 0 ] || return 0
  local p left
  for p in "$@"; do signal TERM "$p"; done
  if ! left=$(wait_gone 5 "$@"); then
    log "still alive after SIGTERM:$left; SIGKILL"
    for p in $left; do signal KILL "$p"; done
    wait_gone 5 $left >/dev/null || log "WARNING: could not end:$left"
  fi
}

down() { # DIR
  local DIR t0 f p ns
  DIR=$(readlink -f "$1"); t0=$(ms)
  [ "$(id -u)" = 0 ] || die "must run as root"
  [ -f "$DIR/.lvsbench" ] || { log "$DIR is not a fleet-hosts folder (no .lvsbench mark); nothing to do"; return 0; }

  # 1. the daemons `up` recorded, if their command line still names DIR (else the PID was reused)
  # (bash builtins only: at N = 200 there are 600 of them, and forks are slow)
  local pids=() args
  for f in "$DIR"/pids/*; do
    [ -e "$f" ] || continue
    p=""; read -r p < "$f" || true
    [[ "$p" =~ ^[0-9]+$ ]] && pid_alive "$p" || continue
    mapfile -d '' args < "/proc/$p/cmdline" 2>/dev/null || continue
    [[ "${args[*]}" == *"$DIR/"* ]] && pids+=("$p")
  done
  end_pids "${pids[@]}"

  # 2. anything still inside a recorded namespace was started through our hosts (a session's
  # leftovers, lvsplay's lock holder): one pass over /proc, matching network namespace inodes.
  local -A ours=()
  local recorded=()
  if [ -f "$DIR/namespaces" ]; then
    while read -r ns; do
      [[ "$ns" == "$NS_PREFIX"* ]] || continue   # only our prefix, whatever the file says
      [ -e "/run/netns/$ns" ] && recorded+=("$ns")
    done < <(sort -u "$DIR/namespaces")
  fi
  if [ ${#recorded[@]} -gt 0 ]; then
    local ino path
    while read -r ino path; do ours[$ino]=$path; done < <(cd /run/netns && stat -L -c '%i %n' "${recorded[@]}")
  fi
  if [ ${#ours[@]} -gt 0 ]; then
    local inside=() link ino
    while read -r ino link; do
      [ -n "${ours[$ino]:-}" ] || continue
      p=${link#/proc/}; p=${p%%/*}
      [ "$p" != "$$" ] && [ "$p" != "$BASHPID" ] && inside+=("$p")
    done < <(stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null || true)
    [ ${#inside[@]} -gt 0 ] && log "ending ${#inside[@]} process(es) left inside the bench namespaces"
    end_pids "${inside[@]}"
  fi

  # 3. the namespaces (veths and br0 go with them; the overlay mounts went with their last process)
  if [ ${#recorded[@]} -gt 0 ]; then
    printf 'netns delete %s\n' "${recorded[@]}" | ip -force -batch - || log "WARNING: some namespaces were not deleted"
  fi
  rm -rf "$DIR"
  log "down ($(( $(ms) - t0 )) ms, ${#pids[@]} daemon(s), ${#recorded[@]} namespace(s))"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  _host) shift; host_inside "$@" ;;
  *) echo "usage: $0 up N DIR [PORT_BASE] | down DIR" >&2; exit 2 ;;
esac
