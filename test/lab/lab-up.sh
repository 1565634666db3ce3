#!/usr/bin/env bash
# lab:up — bring the lab up (idempotent).
#  * already up and healthy (every recorded PID alive, every sshd answers) -> returns at once;
#  * leftovers of a killed run (state dir, namespaces, relays) -> lab-down.sh first, then build.
# Ends only when every host's sshd answers with the host key in $LAB_DIR/known_hosts (and, on the
# VMs, systemd has finished booting), after recording each host's boot state for reset.sh.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "lab:up must run as root"

with_lab_lock "$0" "$@"
T0=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - T0) / 1000000 )) ms"; }

healthy() {
  [ -f "$LAB_DIR/state" ] && grep -qx up "$LAB_DIR/state" || return 1
  local f pid
  for f in "$LAB_DIR"/pids/*; do
    [ -e "$f" ] || return 1
    pid=$(cat "$f"); pid_alive "$pid" || { log "health: $(basename "$f") pid $pid is dead"; return 1; }
  done
  local name kind addr mac port bad=0 jobs=()
  while read -r name kind addr mac port; do
    ( ssh_name "$name" "$port" ) & jobs+=("$!:$name")
  done < <(lab_hosts)
  for j in "${jobs[@]}"; do wait "${j%%:*}" || { log "health: ${j#*:} does not answer ssh"; bad=1; }; done
  return $bad
}

if [ -d "$LAB_DIR" ] && healthy; then
  log "lab already up and healthy ($(elapsed))"
  exit 0
fi
stale=""
[ -d "$LAB_DIR" ] && stale="state dir $LAB_DIR"
for ns in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX" || true); do stale="$stale netns:$ns"; done
if [ -n "$stale" ]; then
  log "found a stale/unhealthy lab ($stale); cleaning it first"
  bash "$LAB_SRC/lab-down.sh" --locked
fi

load_kernel_env || { log "kernel cache missing; running install.sh"; bash "$LAB_SRC/install.sh"; load_kernel_env || die "install.sh did not produce a kernel"; }
ACCEL=$(bash "$LAB_SRC/accel.sh")

while read -r name kind addr mac port; do
  if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
    die "port 127.0.0.1:$port is already in use (not by a recorded lab process): $(ss -ltnpH "sport = :$port")"
  fi
done < <(lab_hosts)

# ---- state dir, keys -------------------------------------------------------------------------
umask 077
mkdir -p "$LAB_DIR"/{hosts,pids,sock}
echo starting > "$LAB_DIR/state"
ssh-keygen -q -t ed25519 -N '' -C lvsplay-lab -f "$LAB_DIR/id_lab"
cp "$LAB_DIR/id_lab.pub" "$LAB_DIR/authorized_keys"
: > "$LAB_DIR/known_hosts"
while read -r name kind addr mac port; do
  H="$LAB_DIR/hosts/$name"
  mkdir -p "$H"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$H/ssh_host_ed25519_key"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$H/ssh_host_ed25519_key.pub")" >> "$LAB_DIR/known_hosts"
done < <(lab_hosts)
umask 022
chmod 644 "$LAB_DIR/known_hosts"

# ---- network: bridge namespace ---------------------------------------------------------------
# `ip -n NS` (one setns) rather than `ip netns exec NS ip` (a new mount namespace and a /sys
# remount per command); `-batch`: several commands, one program run.
X="ip -n $NS_LAB"
ip netns add "$NS_LAB"
$X -batch - <<EOF
link set lo up
link add br0 type bridge
link set br0 type bridge forward_delay 0 stp_state 0
link set br0 up
link add br1 type bridge
link set br1 type bridge forward_delay 0 stp_state 0
link set br1 up
EOF

# ---- VMs: lb1, lb2 (directors), rs5 (TUN real server) ----------------------------------------
# Each VM gets a fresh disk (vm-disk.sh: a clean host), its tap on br0, its qemu (vm-start.sh) and
# the inner half of its ssh relay. The three are prepared in parallel (mkfs, template): ~0.3 s each.
start_vm() { # name addr mac port
  local name=$1 addr=$2 mac=$3 port=$4 H="$LAB_DIR/hosts/$1"
  bash "$LAB_SRC/vm-disk.sh" "$name" "$addr" "$mac"
  $X -batch - <<EOF
tuntap add dev tap-$name mode tap
link set tap-$name master br0
link set tap-$name up
EOF
  if [ -n "$(lab_back_addr "$name")" ]; then   # a director's second NIC, on br1
    $X -batch - <<EOF
tuntap add dev tapb-$name mode tap
link set tapb-$name master br1
link set tapb-$name up
EOF
  fi
  : > "$H/console.log"
  ACCEL=$ACCEL bash "$LAB_SRC/vm-start.sh" "$name"
  # relay, inner half: unix socket -> qemu's hostfwd (which listens in the lab namespace)
  nsenter --net="/run/netns/$NS_LAB" setsid socat \
    "UNIX-LISTEN:$LAB_DIR/sock/$name.sock,fork,mode=600,unlink-early" "TCP:127.0.0.1:$port,nodelay" \
    </dev/null >>"$H/relay.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/$name.relay-in"
}

# ---- namespace hosts: rs1..rs4 (web), client --------------------------------------------------
start_ns() { # name addr mac
  local name=$1 addr=$2 mac=$3 H="$LAB_DIR/hosts/$1" ns; ns=$(ns_name "$1")
  local bridge prefix back; read -r bridge prefix < <(lab_segment "$addr"); back=$(lab_back_addr "$name")
  local web=none; case " $WEB_HOSTS " in *" $name "*) web=web ;; esac
  mkdir -p "$H/www"
  echo "$name" > "$H/www/index.html"
  sshd_config "$H/ssh_host_ed25519_key" "$LAB_DIR/authorized_keys" "$H/sshd.pid" > "$H/sshd_config"
  ip netns add "$ns"
  $X -batch - <<EOF
link add v-$name type veth peer name eth0 netns $ns
link set v-$name master $bridge
link set v-$name up
EOF
  ip -n "$ns" -batch - <<EOF
link set lo up
link set eth0 address 52:54:00:00:00:$mac
link set eth0 up
addr add $addr/$prefix dev eth0
EOF
  if [ -n "$back" ]; then   # the client's leg on the back network
    $X -batch - <<EOF
link add vb-$name type veth peer name eth1 netns $ns
link set vb-$name master br1
link set vb-$name up
EOF
    ip -n "$ns" -batch - <<EOF
link set eth1 address 52:54:00:00:02:$mac
link set eth1 up
addr add $back/$BACK_PREFIX dev eth1
EOF
  fi
  ip netns exec "$ns" unshare --mount --uts --propagation slave bash "$LAB_SRC/ns-host.sh" "$name" "$web"
}

log "accelerator: $ACCEL; kernel $KVER"
vm_jobs=()
while read -r name kind addr mac port; do
  start_vm "$name" "$addr" "$mac" "$port" & vm_jobs+=("$!")
done < <(lab_hosts vm)
for j in "${vm_jobs[@]}"; do wait "$j" || die "a VM failed to start (see above)"; done
log "VMs started ($(elapsed)); setting up namespaces"
ns_jobs=()
while read -r name kind addr mac port; do
  start_ns "$name" "$addr" "$mac" & ns_jobs+=("$!")
done < <(lab_hosts ns)
for j in "${ns_jobs[@]}"; do wait "$j" || die "a namespace host failed to start (see above)"; done

# relay, outer half (root namespace, 127.0.0.1 only): TCP -> the host's unix socket
while read -r name kind addr mac port; do
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,nodelay" "UNIX-CONNECT:$LAB_DIR/sock/$name.sock" \
    </dev/null >>"$LAB_DIR/hosts/$name/relay.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/$name.relay-out"
done < <(lab_hosts)
log "namespaces and relays up ($(elapsed)); waiting for every sshd"

# ---- wait for every host (bounded) -------------------------------------------------------------
WAIT=${LVSPLAY_LAB_BOOT_TIMEOUT:-240}
jobs=()
while read -r name kind addr mac port; do
  # as soon as a host is up, in the same ssh connection, record its boot state (the baseline
  # reset.sh brings it back to: addresses, routes, sysctls, ...), while the others still boot
  H="$LAB_DIR/hosts/$name"
  bash "$LAB_SRC/reset.sh" --state-script "$name" > "$H/state.sh"
  { wait_host "$name" "$kind" "$port" "$WAIT" "$T0" "$H/state.sh" "$H/baseline.tmp" || exit 1
    [ -s "$H/baseline.tmp" ] || { log "$name: could not record its boot state"; exit 1; }
    sort "$H/baseline.tmp" > "$H/baseline" && rm -f "$H/baseline.tmp" "$H/state.sh"
  } & jobs+=("$!")
done < <(lab_hosts)
fail=0
for j in "${jobs[@]}"; do wait "$j" || fail=1; done
[ $fail = 0 ] || die "lab:up failed (lab left as is for inspection; lab:down or lab:up cleans it)"
echo up > "$LAB_DIR/state"
log "lab up ($(elapsed))"
