#!/usr/bin/env bash
# lab:up — bring the lab up (idempotent).
#  * already up and healthy (every recorded PID alive, every sshd answers) -> returns at once;
#  * leftovers of a killed run (state dir, namespaces, relays) -> lab-down.sh first, then build.
# Ends only when every host's sshd answers with the host key in $LAB_DIR/known_hosts.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "lab:up must run as root"

with_lab_lock "$0" "$@"
T0=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - T0) / 1000000 )) ms"; }

SSH_OPTS=(-F /dev/null -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=yes
  -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o LogLevel=ERROR
  -i "$LAB_DIR/id_lab")
ssh_name() { timeout 40 ssh "${SSH_OPTS[@]}" -p "$2" root@127.0.0.1 hostname 2>/dev/null | grep -qx "$1"; }

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

sshd_config() { # hostkey authorized_keys pidfile
  cat <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $1
AuthorizedKeysFile $2
PidFile $3
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
MaxStartups 200:30:400
MaxSessions 64
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# ---- network: bridge namespace ---------------------------------------------------------------
X="ip netns exec $NS_LAB"
ip netns add "$NS_LAB"
$X ip link set lo up
$X ip link add br0 type bridge
$X ip link set br0 type bridge forward_delay 0 stp_state 0
$X ip link set br0 up

# ---- VMs: lb1, lb2 (directors), rs5 (TUN real server) ----------------------------------------
start_vm() { # name addr mac port
  local name=$1 addr=$2 mac=$3 port=$4 H="$LAB_DIR/hosts/$1" services="" extra=""
  mkdir -p "$H/vm/www"
  case $name in rs5) services=web; extra="ipip" ;; esac
  cp "$LAB_SRC/vm-stage2.sh" "$H/vm/stage2.sh"; chmod 755 "$H/vm/stage2.sh"
  cp "$LAB_SRC/udp-name.py" "$H/vm/udp-name.py"
  cp "$H/ssh_host_ed25519_key" "$LAB_DIR/authorized_keys" "$H/vm/"
  echo "$name" > "$H/vm/www/index.html"
  sshd_config /run/ssh/ssh_host_ed25519_key /run/lab/authorized_keys /run/ssh/sshd.pid > "$H/vm/sshd_config"
  cat > "$H/vm/vm.env" <<EOF
NAME=$name
ADDR=$addr
MAC=52:54:00:00:00:$mac
MGMT_MAC=52:54:00:00:01:$mac
MGMT_GUEST=$MGMT_GUEST
KVER=$KVER
KMODDIR=$KMODDIR
SERVICES="$services"
EXTRA_MODULES="$extra"
EOF
  $X ip tuntap add dev "tap-$name" mode tap
  $X ip link set "tap-$name" master br0
  $X ip link set "tap-$name" up
  : > "$H/console.log"
  nsenter --net="/run/netns/$NS_LAB" qemu-system-x86_64 -name "lvsplay-lab-$name" \
    -machine q35 -nodefaults -accel "$ACCEL" -m "$VM_MEM" -smp 1 -display none -monitor none -no-reboot \
    -serial "file:$H/console.log" -daemonize -pidfile "$H/qemu.pid" \
    -kernel "$KIMAGE" -initrd "$LAB_CACHE/initrd.gz" -append "console=ttyS0 quiet panic=-1 mitigations=off" \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
    -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$H/vm,mount_tag=lab,security_model=none" \
    -netdev "tap,id=lab,ifname=tap-$name,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=lab,mac=52:54:00:00:00:$mac,romfile=" \
    -netdev "user,id=mgmt,net=$MGMT_NET,host=$MGMT_HOST,dns=$MGMT_DNS,dhcpstart=$MGMT_DHCP,restrict=on,hostfwd=tcp:127.0.0.1:$port-$MGMT_GUEST:22" \
    -device "virtio-net-pci,netdev=mgmt,mac=52:54:00:00:01:$mac,romfile=" \
    >"$H/qemu.log" 2>&1 || { cat "$H/qemu.log" >&2; die "qemu for $name failed to start"; }
  cp "$H/qemu.pid" "$LAB_DIR/pids/$name.qemu"
  # relay, inner half: unix socket -> qemu's hostfwd (which listens in the lab namespace)
  nsenter --net="/run/netns/$NS_LAB" setsid socat \
    "UNIX-LISTEN:$LAB_DIR/sock/$name.sock,fork,mode=600,unlink-early" "TCP:127.0.0.1:$port" \
    </dev/null >>"$H/relay.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/$name.relay-in"
}

# ---- namespace hosts: rs1..rs4 (web), client --------------------------------------------------
start_ns() { # name addr mac
  local name=$1 addr=$2 mac=$3 H="$LAB_DIR/hosts/$1" ns; ns=$(ns_name "$1")
  local web=web; [ "$name" = client ] && web=none
  mkdir -p "$H/www"
  echo "$name" > "$H/www/index.html"
  sshd_config "$H/ssh_host_ed25519_key" "$LAB_DIR/authorized_keys" "$H/sshd.pid" > "$H/sshd_config"
  ip netns add "$ns"
  $X ip link add "v-$name" type veth peer name eth0 netns "$ns"
  $X ip link set "v-$name" master br0
  $X ip link set "v-$name" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set eth0 address "52:54:00:00:00:$mac"
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip addr add "$addr/24" dev eth0
  ip netns exec "$ns" unshare --mount --uts --propagation slave bash "$LAB_SRC/ns-host.sh" "$name" "$web"
}

log "accelerator: $ACCEL; kernel $KVER"
while read -r name kind addr mac port; do start_vm "$name" "$addr" "$mac" "$port"; done < <(lab_hosts vm)
log "VMs started ($(elapsed)); setting up namespaces"
while read -r name kind addr mac port; do start_ns "$name" "$addr" "$mac"; done < <(lab_hosts ns)

# relay, outer half (root namespace, 127.0.0.1 only): TCP -> the host's unix socket
while read -r name kind addr mac port; do
  setsid socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$LAB_DIR/sock/$name.sock" \
    </dev/null >>"$LAB_DIR/hosts/$name/relay.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/$name.relay-out"
done < <(lab_hosts)
log "namespaces and relays up ($(elapsed)); waiting for every sshd"

# ---- wait for every sshd (bounded) --------------------------------------------------------------
WAIT=${LVSPLAY_LAB_BOOT_TIMEOUT:-240}
# cheap check first: does an sshd send its banner through the relay? (a full ssh attempt at a VM that
# is still booting can hang until its timeout, wasting seconds)
banner() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; head -c 8 <&3" 2>/dev/null | grep -q "^SSH-2.0"; }
wait_host() { # name kind port
  local deadline=$(( $(date +%s) + WAIT ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if banner "$3" && ssh_name "$1" "$3"; then log "$1 answers ssh ($(elapsed))"; return 0; fi
    if [ "$2" = vm ] && ! pid_alive "$(cat "$LAB_DIR/pids/$1.qemu")"; then
      log "$1: qemu exited"; break
    fi
    sleep 0.5
  done
  log "$1 did NOT come up within ${WAIT}s"
  if [ "$2" = vm ]; then
    echo "---- $1 console ($LAB_DIR/hosts/$1/console.log), last 40 lines ----" >&2
    tail -n 40 "$LAB_DIR/hosts/$1/console.log" >&2 || true
  else
    tail -n 20 "$LAB_DIR/hosts/$1/sshd.log" >&2 || true
  fi
  return 1
}
jobs=()
while read -r name kind addr mac port; do
  wait_host "$name" "$kind" "$port" & jobs+=("$!")
done < <(lab_hosts)
fail=0
for j in "${jobs[@]}"; do wait "$j" || fail=1; done
[ $fail = 0 ] || die "lab:up failed (lab left as is for inspection; lab:down or lab:up cleans it)"
echo up > "$LAB_DIR/state"
log "lab up ($(elapsed))"
