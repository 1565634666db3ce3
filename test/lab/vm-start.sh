#!/usr/bin/env bash
# Start one lab VM on its existing disk ($LAB_DIR/hosts/NAME/disk.img, see vm-disk.sh): its power
# supply vm-run.sh (recorded as $LAB_DIR/pids/NAME.vm), which runs qemu (NAME.qemu) and restarts
# it when the guest reboots. lab:down ends both; lab:up's health check watches both.
# Returns once qemu runs; it does not wait for the VM to boot.
#   vm-start.sh NAME          (ACCEL in the environment, else accel.sh decides)
# Used by lab-up.sh for every VM and by `lab:start` (lab-vm.sh) after a crash or a power-off. The
# tap (tap-NAME on br0) outlives qemu, so a new qemu simply opens it again; the ssh relays connect
# to qemu's port forward per connection, so they carry on too.
set -euo pipefail
. "$(dirname "$0")/common.sh"
NAME=$1
read -r _ kind _ _ _ < <(lab_host "$NAME")
[ "$kind" = vm ] || die "$NAME is not a VM"
H="$LAB_DIR/hosts/$NAME"
P="$LAB_DIR/pids"
[ -f "$H/disk.img" ] || die "$NAME has no disk ($H/disk.img): lab:up makes it"
export ACCEL=${ACCEL:-$(bash "$LAB_SRC/accel.sh")}

rm -f "$P/$NAME.qemu"
setsid bash "$LAB_SRC/vm-run.sh" "$NAME" </dev/null >>"$H/qemu.log" 2>&1 &
echo $! > "$P/$NAME.vm"
for _ in $(seq 100); do
  [ -s "$P/$NAME.qemu" ] && pid_alive "$(cat "$P/$NAME.qemu")" && exit 0
  pid_alive "$(cat "$P/$NAME.vm")" || break
  sleep 0.05
done
tail -n 20 "$H/qemu.log" >&2
die "qemu for $NAME did not start"
