#!/usr/bin/env bash
# Make a fresh disk for one lab VM: $LAB_DIR/hosts/NAME/disk.img, an ext4 image whose u/ is the
# upper layer of the VM's root overlay (vm-init.sh) and w/ overlayfs's work dir. Run by lab-up.sh
# at every build, so each lab starts from clean hosts; the VM's reboots keep what it wrote there.
#   vm-disk.sh NAME ADDR MAC_SUFFIX
# vm-template.py writes what the upper layer starts with (see there); `mkfs.ext4 -d` copies that
# template into the image with its xattrs and device nodes, so nothing is mounted on the machine.
set -euo pipefail
. "$(dirname "$0")/common.sh"
NAME=$1 ADDR=$2 MAC_SUFFIX=$3
load_kernel_env || die "kernel cache missing: run test/lab/install.sh"
H="$LAB_DIR/hosts/$NAME"
T="$H/disk.tpl"
[ -f "$H/ssh_host_ed25519_key" ] && [ -f "$LAB_DIR/authorized_keys" ] || die "$NAME: host key or authorized_keys missing"

rm -rf "$T" "$H/disk.img"
mkdir -p "$T"
sshd_config /etc/ssh/ssh_host_ed25519_key .ssh/authorized_keys /run/sshd.pid > "$T.sshd_config"
web=no; case " $WEB_HOSTS " in *" $NAME "*) web=yes ;; esac
# One python process writes the whole template: done with a shell, it is ~120 programs run, 2-6 s
# per VM on a loaded 2-core machine, all before the VM can start. (/usr/bin/python3: a lab
# dependency; a `python3` found on PATH may be a slow version-manager shim.)
NAME=$NAME ADDR=$ADDR MAC_SUFFIX=$MAC_SUFFIX MGMT_GUEST=$MGMT_GUEST BACK_ADDR=$(lab_back_addr "$NAME") BACK_PREFIX=$BACK_PREFIX KVER=$KVER KMODDIR=$KMODDIR \
  WEB=$web VM_DISABLED_UNITS=$VM_DISABLED_UNITS SSHD_CONFIG="$T.sshd_config" \
  HOST_KEY="$H/ssh_host_ed25519_key" AUTHORIZED_KEYS="$LAB_DIR/authorized_keys" \
  UDP_NAME="$LAB_SRC/udp-name.py" \
  /usr/bin/python3 "$LAB_SRC/vm-template.py" "$T"
rm -f "$T.sshd_config"

# Sparse; -m 0: no blocks reserved for root; a small journal and lazy journal init (the file reads
# as zeros) keep mkfs from writing tens of MB.
truncate -s "$VM_DISK_SIZE" "$H/disk.img"
mkfs.ext4 -q -F -m 0 -J size=4 -E lazy_journal_init=1 -L "lab-$NAME" -d "$T" "$H/disk.img"
rm -rf "$T"
