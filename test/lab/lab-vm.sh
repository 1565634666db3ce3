#!/usr/bin/env bash
# lab:reboot / lab:crash / lab:start — the life of one lab VM (lb1, lb2, rs5) on its own disk.
#   lab-vm.sh reboot HOST   `systemctl reboot` inside the VM; the same qemu process restarts the
#                           kernel (no -no-reboot); returns when the host answers a key-verified ssh
#                           again with a new boot id and systemd has finished booting.
#   lab-vm.sh crash HOST    kill -9 of the VM's qemu: a power cut. Nothing else is touched (the tap,
#                           the relays, the disk stay); the dead PID leaves $LAB_DIR/pids.
#   lab-vm.sh start HOST    start the VM's qemu again on its existing disk (after a crash or a
#                           poweroff), record the new PID in $LAB_DIR/pids, wait for ssh as above.
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
H="$LAB_DIR/hosts/$NAME"
PIDF="$LAB_DIR/pids/$NAME.qemu"
WAIT=${LVSPLAY_LAB_BOOT_TIMEOUT:-240}
qemu_pid() { [ -f "$PIDF" ] && cat "$PIDF"; }
boot_id() { timeout 30 ssh "${LAB_SSH_OPTS[@]}" -p "$port" root@127.0.0.1 cat /proc/sys/kernel/random/boot_id; }

case "$ACTION" in
  reboot)
    pid=$(qemu_pid) && pid_alive "$pid" || die "$NAME is not running (lab:start $NAME)"
    old=$(boot_id) || die "$NAME does not answer ssh"
    log "$NAME: systemctl reboot (boot $old)"
    # the ssh session ends with sshd; systemctl returns once the reboot job is queued
    timeout 30 ssh "${LAB_SSH_OPTS[@]}" -p "$port" root@127.0.0.1 systemctl reboot || true
    deadline=$(( $(date +%s) + WAIT ))
    # until sshd of the old boot is gone (it answers for a moment after the reboot starts)
    while [ "$(boot_id 2>/dev/null || true)" = "$old" ]; do
      [ "$(date +%s)" -lt "$deadline" ] || die "$NAME: still boot $old after ${WAIT}s"
      sleep 0.5
    done
    log "$NAME: shutting down ($(ms))"
    wait_host "$NAME" vm "$port" $(( deadline - $(date +%s) )) "$T0" || die "$NAME did not come back"
    new=$(boot_id) && [ "$new" != "$old" ] || die "$NAME: no new boot id after the reboot"
    [ "$(qemu_pid)" = "$pid" ] && pid_alive "$pid" || die "$NAME: qemu $pid is gone"
    log "$NAME rebooted: boot $new, same qemu $pid ($(ms))"
    ;;
  crash)
    pid=$(qemu_pid) || die "$NAME has no recorded qemu"
    pid_alive "$pid" || die "$NAME's qemu ($pid) is not running"
    kill -KILL "$pid"
    for _ in $(seq 100); do pid_alive "$pid" || break; sleep 0.05; done
    pid_alive "$pid" && die "$NAME's qemu ($pid) survived SIGKILL"
    # a dead PID stays out of pids/: nothing must ever signal it again (it may be reused)
    rm -f "$PIDF"
    log "$NAME: qemu $pid killed (power cut) ($(ms))"
    ;;
  start)
    if pid=$(qemu_pid) && pid_alive "$pid"; then die "$NAME is already running (qemu $pid)"; fi
    ip netns exec "$NS_LAB" ip link show "tap-$NAME" >/dev/null 2>&1 || die "tap-$NAME is gone: lab:down + lab:up"
    bash "$LAB_SRC/vm-start.sh" "$NAME"
    log "$NAME: qemu $(qemu_pid) started on its disk; waiting for ssh"
    wait_host "$NAME" vm "$port" "$WAIT" "$T0" || die "$NAME did not come up"
    log "$NAME started ($(ms))"
    ;;
esac
