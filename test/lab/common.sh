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
rs1    ns 192.0.2.21 21 $((PORT_BASE + 21))
rs2    ns 192.0.2.22 22 $((PORT_BASE + 22))
rs3    ns 198.51.100.23 23 $((PORT_BASE + 23))
rs4    ns 198.51.100.24 24 $((PORT_BASE + 24))
client ns 192.0.2.50 50 $((PORT_BASE + 50))
"

# The VMs' management NIC (qemu user-net, restrict=on): a /28 that the lab never uses on br0.
MGMT_NET=203.0.113.240/28
MGMT_HOST=203.0.113.241
MGMT_DNS=203.0.113.243
MGMT_DHCP=203.0.113.248
MGMT_GUEST=203.0.113.246

VM_MEM=${LVSPLAY_LAB_VM_MEM:-1024}

REQUIRED_PKGS="qemu-system-x86 ipvsadm openssh-server openssh-client iproute2 kmod busybox-static arping ldirectord curl cpio socat sudo python3-minimal"

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

# Kernel facts written by install.sh
load_kernel_env() {
  [ -f "$LAB_CACHE/kernel.env" ] || return 1
  # shellcheck disable=SC1091
  . "$LAB_CACHE/kernel.env"
  [ -f "$KIMAGE" ] && [ -d "$KMODDIR" ] && [ -f "$LAB_CACHE/initrd.gz" ]
}

# Serialise lab:up / lab:down: re-exec the calling script under `flock -o`, which holds the lock in
# the flock process and closes it for the script, so the daemons the script starts never inherit it.
with_lab_lock() { # "$0" "$@"
  if [ -z "${LVSPLAY_LAB_LOCKED:-}" ]; then
    mkdir -p "$(dirname "$LAB_LOCK")"
    LVSPLAY_LAB_LOCKED=1 exec flock -o -w 900 "$LAB_LOCK" bash "$@"
  fi
}
