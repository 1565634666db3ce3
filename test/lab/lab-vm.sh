#!/usr/bin/env bash
# lab:reboot / lab:crash / lab:start — the life of one lab VM (lb1, lb2, rs5) on its own disk.
#   lab-vm.sh reboot HOST   `systemctl reboot` inside the VM; its power supply (vm-run.sh) starts a
#                           fresh qemu on the same disk; returns when the host answers a key-verified
#                           ssh again with a new boot id and systemd has finished booting.
#   lab-vm.sh crash HOST    kill -9 of the VM's qemu: a power cut. Nothing else is touched (the tap,
#                           the relays, the disk stay); vm-run.sh sees qemu die by a signal and ends
#                           too, taking the dead PIDs out of $LAB_DIR/pids.
#   lab-vm.sh start HOST    start the VM again on its existing disk (after a crash or a power-off),
#                           record the new PIDs in $LAB_DIR/pids, wait for ssh as above.
# Runs under the lab lock, so never beside lab:up or lab:down.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "lab-vm.sh must run as root"
usage() { die "usage: lab-vm.sh reboot|crash|start HOST (HOST: $(lab_hosts vm | awk '{printf "%s ", $1}'))"; }
[ $# = 2 ] || usage
ACTION=$1 NAME=$2
case "$ACTION" in reboot|crash|start) ;; *) usage ;; esac
read -r _ kind _ _ port < <(lab_host "$NAME")
[ "$kind" = vm ] || die "$NAME is a namespace host, not a VM: it cannot $ACTION"
with_lab_lock "$0" "$@"
T0=$(date +%s%N)
ms() { echo "$(( ($(date +%s%N) - T0) / 1000000 )) ms"; }
[ -f "$LAB_DIR/state" ] && grep -qx up "$LAB_DIR/state" || die "the lab is not up (npm run lab:up)"
P="$LAB_DIR/pids"
WAIT=${LVSPLAY_LAB_BOOT_TIMEOUT:-240}
pid_of() { cat "$P/$NAME.$1" 2>/dev/null; }   # vm (the power supply) | qemu
running() { pid_alive "$(pid_of vm)"; }
boot_id() { timeout 30 ssh "${LAB_SSH_OPTS[@]}" -p "$port" root@127.0.0.1 cat /proc/sys/kernel/random/boot_id; }

case "$ACTION" in
  reboot)
    running || die "$NAME is not running (lab:start $NAME)"
    old=$(boot_id) || die "$NAME does not answer ssh"
    qemu=$(pid_of qemu)
    log "$NAME: systemctl reboot (boot $old, qemu $qemu)"
    # the ssh session ends with sshd; systemctl returns once the reboot job is queued
    timeout 30 ssh "${LAB_SSH_OPTS[@]}" -p "$port" root@127.0.0.1 systemctl reboot || true
    deadline=$(( $(date +%s) + WAIT ))
    while pid_alive "$qemu"; do   # the guest shuts down, then its qemu ends (-no-reboot)
      [ "$(date +%s)" -lt "$deadline" ] || die "$NAME: qemu $qemu still running ${WAIT}s after systemctl reboot"
      sleep 0.2
    done
    log "$NAME: shut down ($(ms))"
    wait_host "$NAME" vm "$port" $(( deadline - $(date +%s) )) "$T0" || die "$NAME did not come back"
    new=$(boot_id) && [ "$new" != "$old" ] || die "$NAME: no new boot id after the reboot"
    log "$NAME rebooted: boot $new, qemu $(pid_of qemu) ($(ms))"
    ;;
  crash)
    running || die "$NAME is not running"
    qemu=$(pid_of qemu) vm=$(pid_of vm)
    kill -KILL "$qemu"
    for _ in $(seq 200); do pid_alive "$qemu" || pid_alive "$vm" || break; sleep 0.05; done
    ! pid_alive "$qemu" || die "$NAME's qemu ($qemu) survived SIGKILL"
    ! pid_alive "$vm" || die "$NAME's power supply (vm-run.sh, $vm) did not end after its qemu"
    log "$NAME: qemu $qemu killed (power cut) ($(ms))"
    ;;
  start)
    ! running || die "$NAME is already running (qemu $(pid_of qemu))"
    ip -n "$NS_LAB" link show "tap-$NAME" >/dev/null 2>&1 || die "tap-$NAME is gone: lab:down + lab:up"
    bash "$LAB_SRC/vm-start.sh" "$NAME"
    log "$NAME: qemu $(pid_of qemu) started on its disk; waiting for ssh"
    wait_host "$NAME" vm "$port" "$WAIT" "$T0" || die "$NAME did not come up"
    log "$NAME started ($(ms))"
    ;;
esac
