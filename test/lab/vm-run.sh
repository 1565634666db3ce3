#!/usr/bin/env bash
# The power supply of one lab VM: runs its qemu on its disk and, when the guest reboots, starts a
# fresh qemu on the same disk. Started (in its own session) by vm-start.sh, which records this
# script's PID as $LAB_DIR/pids/NAME.vm; this script records the current qemu as NAME.qemu.
#   vm-run.sh NAME          (ACCEL in the environment)
#
# Why a fresh qemu rather than letting qemu reset the guest in place (no -no-reboot): after an
# in-place reset, TCG must throw away the code it translated for the previous boot page by page as
# the new kernel overwrites that memory, and the new kernel then takes 7 s to 50 s (the more the
# previous boot ran, the longer) just to unpack its initramfs, against 0.2 s in a fresh qemu.
# Measured (test/lab/README.md): `systemctl reboot` in place 80 s, with a fresh qemu ~25 s.
# So qemu runs with -no-reboot (a guest reboot ends it) and this loop starts the next one.
#
# It tells a reboot from a power-off by what the guest kernel said on its console while this qemu
# ran ("reboot: Restarting system" / "reboot: Power down"); anything else ends the VM for good, as does
# qemu dying from a signal (lab:crash's kill -9, lab:down's SIGTERM). A kernel panic (panic=-1) is
# a reset without that line: the VM stays down, its console tells why, instead of a reboot loop.
set -euo pipefail
. "$(dirname "$0")/common.sh"
NAME=$1
read -r _ _ _ mac port < <(lab_host "$NAME")
# a director's second NIC on br1 (lab-up.sh made its tap)
back=()
[ -z "$(lab_back_addr "$NAME")" ] || back=(-netdev "tap,id=back,ifname=tapb-$NAME,script=no,downscript=no"
  -device "virtio-net-pci,netdev=back,mac=52:54:00:00:02:$mac,romfile=")
load_kernel_env || die "kernel cache missing: run test/lab/install.sh"
H="$LAB_DIR/hosts/$NAME"
P="$LAB_DIR/pids"

while :; do
  # what this qemu's guest says starts here in the console log
  since=$(( $(stat -c %s "$H/console.log" 2>/dev/null || echo 0) + 1 ))
  # systemd.getty_auto=0: no udev here, so no .device units; the serial getty generated from
  # console=ttyS0 would wait 90 s for dev-ttyS0.device. The console log is appended to across
  # reboots and restarts (append=on), so it holds every boot of this disk.
  # ipv6=off on the management NIC: else qemu's user-net sends router advertisements, and the VM
  # gets an IPv6 default route (and an address that expires) through it.
  # cache=unsafe: guest flushes do not fsync the image on the machine. What the guest wrote has
  # reached the machine's page cache when its write completed, so a kill -9 of qemu (lab:crash)
  # loses only what the guest had not written yet, as a power cut would; only a crash of the
  # machine itself (which ends the lab anyway) could lose more.
  nsenter --net="/run/netns/$NS_LAB" qemu-system-x86_64 -name "lvsplay-lab-$NAME" \
    -machine q35 -nodefaults -accel "$ACCEL" -m "$VM_MEM" -smp 1 -display none -monitor none -no-reboot \
    -chardev "file,id=console,path=$H/console.log,append=on" -serial chardev:console \
    -kernel "$KIMAGE" -initrd "$LAB_CACHE/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 mitigations=off systemd.getty_auto=0" \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
    -virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
    -drive "file=$H/disk.img,format=raw,if=virtio,cache=unsafe,discard=unmap" \
    -netdev "tap,id=lab,ifname=tap-$NAME,script=no,downscript=no" \
    -device "virtio-net-pci,netdev=lab,mac=52:54:00:00:00:$mac,romfile=" "${back[@]}" \
    -netdev "user,id=mgmt,ipv6=off,net=$MGMT_NET,host=$MGMT_HOST,dns=$MGMT_DNS,dhcpstart=$MGMT_DHCP,restrict=on,hostfwd=tcp:127.0.0.1:$port-$MGMT_GUEST:22" \
    -device "virtio-net-pci,netdev=mgmt,mac=52:54:00:00:01:$mac,romfile=" \
    </dev/null &
  qemu=$!
  echo "$qemu" > "$P/$NAME.qemu"
  rc=0
  wait "$qemu" || rc=$?
  last=$(tail -c "+$since" "$H/console.log" | grep -a 'reboot: ' | tail -n 1 || true)
  if [ "$rc" = 0 ] && [[ "$last" == *"reboot: Restarting system"* ]]; then
    echo "lab: $NAME rebooting: a fresh qemu on the same disk" >> "$H/console.log"
    log "$NAME: guest rebooted; starting a fresh qemu"
    continue
  fi
  log "$NAME: qemu $qemu ended (exit $rc; console: ${last:-nothing}); the VM is off"
  break
done
# off: forget the PIDs (they may be reused), unless lab:start already recorded new ones
if [ "$(cat "$P/$NAME.qemu" 2>/dev/null)" = "$qemu" ]; then rm -f "$P/$NAME.qemu"; fi
if [ "$(cat "$P/$NAME.vm" 2>/dev/null)" = "$$" ]; then rm -f "$P/$NAME.vm"; fi
