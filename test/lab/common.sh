# Shared settings for the lab scripts (sourced, not run).
# Everything generated lives outside the repo: the kernel/initramfs cache and the lab state dir.

LAB_CACHE=${LVSPLAY_LAB_CACHE:-/var/cache/lvsplay-lab}
LAB_DIR=${LVSPLAY_LAB_DIR:-/run/lvsplay-lab}
LAB_LOCK="${LAB_DIR}.lock"          # flock: lab:up / lab:down never run concurrently
LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NS_PREFIX=lvsplay-
NS_LAB=lvsplay-lab                  # holds br0 and the VM taps; nothing else
NS_CLIENT=lvsplay-client

# Forwarded SSH ports on 127.0.0.1 (base overridable; offsets are fixed).
PORT_BASE=${LVSPLAY_LAB_PORT_BASE:-22100}

# name kind address mac-suffix port
# kind: vm = qemu VM (director or TUN real server), ns = network namespace
LAB_HOSTS="
lb1    vm 192.0.2.5  05 $((PORT_BASE + 1))
lb2    vm 192.0.2.6  06 $((PORT_BASE + 2))
rs5    vm 192.0.2.25 25 $((PORT_BASE + 25))
rs6    ns 203.0.113.26 26 $((PORT_BASE + 26))
rs1    ns 192.0.2.21 21 $((PORT_BASE + 21))
rs2    ns 192.0.2.22 22 $((PORT_BASE + 22))
rs3    ns 198.51.100.23 23 $((PORT_BASE + 23))
rs4    ns 198.51.100.24 24 $((PORT_BASE + 24))
client ns 192.0.2.50 50 $((PORT_BASE + 50))
"

# The back network (directors with two NICs, issue 12): a second bridge, br1, carrying 203.0.113.0/25:
# the directors' eth1 (MAC 52:54:00:00:02:xx), rs6 (a real server behind it, its only NIC) and the
# client's eth1. br0's hosts have their /24 there; br1's a /25 (the /28 of mgmt0 is above it).
BACK_PREFIX=25
lab_back_addr() { # host -> its address on br1, if it has one besides its own network
  case $1 in lb1) echo 203.0.113.5 ;; lb2) echo 203.0.113.6 ;; client) echo 203.0.113.50 ;; esac
}
lab_segment() { # a namespace host's address -> "bridge prefix" of its eth0
  case $1 in 203.0.113.*) echo "br1 $BACK_PREFIX" ;; *) echo "br0 24" ;; esac
}

# The VMs' management NIC (qemu user-net, restrict=on): a /28 that the lab never uses on br0.
MGMT_NET=203.0.113.240/28
MGMT_HOST=203.0.113.241
MGMT_DNS=203.0.113.243
MGMT_DHCP=203.0.113.248
MGMT_GUEST=203.0.113.246

VM_MEM=${LVSPLAY_LAB_VM_MEM:-1024}
# Each VM's disk (ext4, the upper layer of its root overlay): sparse, so only what is written costs space.
VM_DISK_SIZE=2G

# Installed in the VMs (they are the machine's packages) but neither enabled nor running at boot, so
# lvsplay starts from a director that does not run them yet. vm-disk.sh hides their wants links;
# reset.sh removes those links again when something enabled them.
VM_DISABLED_UNITS="ldirectord.service keepalived.service"

# Hosts that run the lab's web services (HTTP :80 and UDP :53 answering their name).
WEB_HOSTS="rs1 rs2 rs3 rs4 rs5 rs6"

# ssh to a lab host as root: the lab key, host keys checked against the lab's known_hosts only.
# ConnectTimeout covers the banner too: a VM's sshd on a loaded machine took more than 5 s to send it.
LAB_SSH_OPTS=(-F /dev/null -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=yes
  -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile="$LAB_DIR/known_hosts" -o LogLevel=ERROR
  -o ServerAliveInterval=5 -o ServerAliveCountMax=3 -i "$LAB_DIR/id_lab")
lab_ssh() { # port command...
  local port=$1; shift
  ssh "${LAB_SSH_OPTS[@]}" -p "$port" root@127.0.0.1 "$@"
}
# Does the host answer a key-verified ssh as the right host? (name port [timeout s])
ssh_name() { timeout "${3:-40}" ssh "${LAB_SSH_OPTS[@]}" -p "$2" root@127.0.0.1 hostname 2>/dev/null | grep -qx "$1"; }
# Cheap first check: does an sshd send its banner on the port? (a full ssh attempt at a VM that is
# still booting can hang until its timeout, wasting seconds)
ssh_banner() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; head -c 8 <&3" 2>/dev/null | grep -q "^SSH-2.0"; }

# sshd_config for a lab host: root with the lab key only (args: hostkey authorized_keys pidfile)
sshd_config() {
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

# nftables: the marking rules of fwmark services (the marks task), run by the directors (the VMs see these packages)
REQUIRED_PKGS="qemu-system-x86 ipvsadm openssh-server openssh-client iproute2 kmod busybox-static arping ldirectord curl cpio socat sudo python3-minimal keepalived e2fsprogs nftables ansible-core"

log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

ns_name() { # host name -> namespace name (ns hosts only)
  echo "${NS_PREFIX}$1"
}

# Iterate hosts: lab_hosts [kind] -> lines "name kind addr mac port"
lab_hosts() {
  echo "$LAB_HOSTS" | awk -v k="${1:-}" 'NF==5 && (k=="" || $2==k)'
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# host name -> "name kind addr mac port"; dies for a name that is not a lab host
lab_host() {
  local line; line=$(lab_hosts | awk -v n="$1" '$1==n')
  [ -n "$line" ] || die "no lab host named '$1' (hosts: $(lab_hosts | awk '{printf "%s ", $1}'))"
  echo "$line"
}

# Kernel facts written by install.sh
load_kernel_env() {
  [ -f "$LAB_CACHE/kernel.env" ] || return 1
  # shellcheck disable=SC1091
  . "$LAB_CACHE/kernel.env"
  [ -f "$KIMAGE" ] && [ -d "$KMODDIR" ] && [ -f "$LAB_CACHE/initrd.gz" ]
}

# Wait until a host answers a key-verified ssh as itself; on a VM, also until systemd has finished
# booting (`systemctl is-system-running --wait`: "running"). On failure, show why (console tail).
# With SCRIPT and OUT, the same ssh connection (each costs ~1 s of TCG crypto on a VM) then runs
# SCRIPT on the host and writes its output to OUT (lab:up records the boot state so).
#   wait_host NAME KIND PORT TIMEOUT_S [T0_NS (for the log's elapsed time) [SCRIPT OUT]]
wait_host() {
  local name=$1 kind=$2 port=$3 t0=${5:-$(date +%s%N)} script=${6:-/dev/null} out=${7:-/dev/null}
  local deadline=$(( $(date +%s) + $4 )) reply first ready check
  # the remote side: "NAME STATE", a marker line, then SCRIPT's output (a VM that is not running
  # instead lists its failed units and does not run SCRIPT)
  if [ "$kind" = vm ]; then
    check='s=$(systemctl is-system-running --wait); echo "$(hostname) $s"; [ "$s" = running ] || { systemctl --failed --no-legend --plain; exit 1; }'
  else
    check='echo "$(hostname) running"'
  fi
  check+='; echo @@lab-ready'
  [ "$script" = /dev/null ] || check+='; t=$(mktemp); cat > "$t"; bash "$t"; r=$?; rm -f "$t"; exit $r'
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if ssh_banner "$port"; then
      reply=$(timeout $(( deadline - $(date +%s) + 1 )) ssh "${LAB_SSH_OPTS[@]}" -p "$port" root@127.0.0.1 "$check" \
        < "$script" 2>/dev/null)
      ready=$?
      first=${reply%%$'\n'*}
      case "$first" in
        "$name running")
          if [ $ready = 0 ]; then
            [ "$out" = /dev/null ] || printf '%s\n' "${reply#*@@lab-ready$'\n'}" > "$out"
            log "$name answers ssh$([ "$kind" != vm ] || echo ', systemd running') ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
            return 0
          fi
          log "$name: the script after ssh failed (exit $ready)"; return 1 ;;
        "$name "*)
          log "$name: systemd is '${first#"$name "}', not running; failed units: ${reply#*$'\n'}"; return 1 ;;
      esac
    fi
    # (the VM's power supply, vm-run.sh: qemu itself is replaced at each reboot)
    if [ "$kind" = vm ] && ! pid_alive "$(cat "$LAB_DIR/pids/$name.vm" 2>/dev/null)"; then
      log "$name: the VM is off (qemu ended; see $LAB_DIR/hosts/$name/qemu.log)"; break
    fi
    sleep 0.5
  done
  log "$name did NOT come up within $4 s"
  if [ "$kind" = vm ]; then
    echo "---- $name console ($LAB_DIR/hosts/$name/console.log), last 40 lines ----" >&2
    tail -n 40 "$LAB_DIR/hosts/$name/console.log" >&2 || true
  else
    tail -n 20 "$LAB_DIR/hosts/$name/sshd.log" >&2 || true
  fi
  return 1
}

# Serialise lab:up / lab:down: re-exec the calling script under `flock -o`, which holds the lock in
# the flock process and closes it for the script, so the daemons the script starts never inherit it.
with_lab_lock() { # "$0" "$@"
  if [ -z "${LVSPLAY_LAB_LOCKED:-}" ]; then
    mkdir -p "$(dirname "$LAB_LOCK")"
    LVSPLAY_LAB_LOCKED=1 exec flock -o -w 900 "$LAB_LOCK" bash "$@"
  fi
}
