#!/usr/bin/env bash
# Start one lab VM's qemu on its existing disk ($LAB_DIR/hosts/NAME/disk.img, see vm-disk.sh) and
# record its PID in $LAB_DIR/pids/NAME.qemu (lab:down ends it, lab:up's health check watches it).
# Returns once qemu runs (it daemonises); it does not wait for the VM to boot.
#   vm-start.sh NAME          (ACCEL in the environment, else accel.sh decides)
# Used by lab-up.sh for every VM and by `lab:start` (lab-vm.sh) after a crash or stop. The tap
# (tap-NAME on br0) outlives qemu, so a new qemu simply opens it again; the ssh relays connect to
# qemu's port forward per connection, so they carry on too.
#
# No -no-reboot: a reboot inside the VM (`systemctl reboot`) restarts the kernel in the same qemu
# process, so the PID, tap, port forward and console file stay. A kernel panic then reboots too
# (panic=-1); a failing initramfs powers off instead (vm-init.sh), which does end qemu.
set -euo pipefail
. "$(dirname "$0")/common.sh"
NAME=$1
read -r _ kind _ mac port < <(lab_host "$NAME")
[ "$kind" = vm ] || die "$NAME is not a VM"
load_kernel_env || die "kernel cache missing: run test/lab/install.sh"
ACCEL=${ACCEL:-$(bash "$LAB_SRC/accel.sh")}
H="$LAB_DIR/hosts/$NAME"
[ -f "$H/disk.img" ] || die "$NAME has no disk ($H/disk.img): lab:up makes it"

rm -f "$H/qemu.pid"
# systemd.getty_auto=0: no udev here, so no .device units; the serial getty generated from
# console=ttyS0 would wait 90 s for dev-ttyS0.device. The console log is appended to across
# reboots and restarts (append=on), so it holds every boot of this disk.
# ipv6=off on the management NIC: else qemu's user-net sends router advertisements, and the VM
# gets an IPv6 default route (and an address that expires) through it.
# cache=unsafe: guest flushes do not fsync the image on the machine. What the guest wrote has still
# reached the machine's page cache when a write completes, so a kill -9 of qemu (lab:crash) loses
# only what the guest had not written yet, as a power cut would; only a crash of the machine itself
# (which ends the lab anyway) could lose more.
nsenter --net="/run/netns/$NS_LAB" qemu-system-x86_64 -name "lvsplay-lab-$NAME" \
  -machine q35 -nodefaults -accel "$ACCEL" -m "$VM_MEM" -smp 1 -display none -monitor none \
  -chardev "file,id=console,path=$H/console.log,append=on" -serial chardev:console \
  -daemonize -pidfile "$H/qemu.pid" \
  -kernel "$KIMAGE" -initrd "$LAB_CACHE/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 mitigations=off systemd.getty_auto=0" \
  -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
  -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
  -drive "file=$H/disk.img,format=raw,if=virtio,cache=unsafe,discard=unmap" \
  -netdev "tap,id=lab,ifname=tap-$NAME,script=no,downscript=no" \
  -device "virtio-net-pci,netdev=lab,mac=52:54:00:00:00:$mac,romfile=" \
  -netdev "user,id=mgmt,ipv6=off,net=$MGMT_NET,host=$MGMT_HOST,dns=$MGMT_DNS,dhcpstart=$MGMT_DHCP,restrict=on,hostfwd=tcp:127.0.0.1:$port-$MGMT_GUEST:22" \
  -device "virtio-net-pci,netdev=mgmt,mac=52:54:00:00:01:$mac,romfile=" \
  >>"$H/qemu.log" 2>&1 || { tail -n 20 "$H/qemu.log" >&2; die "qemu for $NAME failed to start"; }
cp "$H/qemu.pid" "$LAB_DIR/pids/$NAME.qemu"
