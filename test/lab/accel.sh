#!/usr/bin/env bash
# Print the qemu accelerator to use: "kvm" only if a KVM guest really reaches userspace within a few
# seconds (here /dev/kvm exists but KVM guests hang), else "tcg". LVSPLAY_LAB_ACCEL=kvm|tcg forces it.
# The result is cached in $LAB_CACHE/accel, keyed by qemu + kernel version; LVSPLAY_LAB_REPROBE=1 redoes it.
set -euo pipefail
. "$(dirname "$0")/common.sh"
if [ -n "${LVSPLAY_LAB_ACCEL:-}" ]; then echo "$LVSPLAY_LAB_ACCEL"; exit 0; fi
load_kernel_env || die "kernel cache missing: run test/lab/install.sh"
key="$(qemu-system-x86_64 --version | head -1) / $KVER"
if [ -z "${LVSPLAY_LAB_REPROBE:-}" ] && [ -f "$LAB_CACHE/accel" ] && [ "$(sed -n 1p "$LAB_CACHE/accel")" = "$key" ]; then
  sed -n 2p "$LAB_CACHE/accel"; exit 0
fi
result=tcg
why="no usable /dev/kvm"
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  plog="$LAB_CACHE/accel-probe.log"; : > "$plog"
  t0=$(date +%s%N)
  qemu-system-x86_64 -accel kvm -m 256 -smp 1 -display none -monitor none -no-reboot \
    -serial "file:$plog" -nic none -kernel "$KIMAGE" -initrd "$LAB_CACHE/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 lab.probe" </dev/null >>"$plog.qemu" 2>&1 &
  qpid=$!
  deadline=$(( $(date +%s) + ${LVSPLAY_LAB_KVM_PROBE_SECS:-8} ))
  while kill -0 "$qpid" 2>/dev/null && ! grep -q LAB-PROBE-USERSPACE "$plog" && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
  done
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if grep -q LAB-PROBE-USERSPACE "$plog"; then
    result=kvm; why="KVM guest reached userspace in ${ms} ms"
  else
    why="KVM guest did not reach userspace within ${ms} ms"
  fi
  if kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$qpid" 2>/dev/null || true
  fi
  for _ in $(seq 30); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$qpid" 2>/dev/null; then
    log "WARNING: KVM probe qemu (pid $qpid) survived SIGKILL; left behind"
  else
    wait "$qpid" 2>/dev/null || true
  fi
fi
log "accelerator: $result ($why)"
printf '%s\n%s\n%s\n' "$key" "$result" "$why" > "$LAB_CACHE/accel"
echo "$result"
