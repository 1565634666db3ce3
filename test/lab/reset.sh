#!/usr/bin/env bash
# lab:reset — bring lab hosts back to the state they booted in, without a reboot, in parallel, over
# the lab's ssh (a few seconds). Tests call it (labReset() in lab.ts) before they start, so that
# none finds another's IPVS rules, VIPs, sysctls or config files.
#   reset.sh [HOST...]              reset the named hosts (default: every host)
#   reset.sh --snapshot [HOST...]   record each host's boot state again (lab-up.sh records it as
#                                   each host comes up; only for a host known to be as booted)
#   reset.sh --state HOST           print a host's current state, as recorded by --snapshot
#   reset.sh --state-script HOST    print the script that prints it (lab-up.sh runs it on each host
#                                   in the ssh connection that finds the host up)
# What "as booted" means, and what is restored (reset-host.sh does it, on the host):
#   * IPVS empty (ipvsadm -C), no sync daemon, IPVS timeouts as at boot;
#   * ldirectord and keepalived stopped (unit or by hand), and on the VMs not enabled; lvsplay-*
#     units stopped and removed;
#   * addresses, interfaces (up/down, added ones deleted), routes (every table but local), sysctls
#     under net.ipv4.conf.*, net.ipv6.conf.*, net.ipv4.ip_forward, net.ipv4.vs.*, and on the VMs
#     the loaded kernel modules: as in the --snapshot taken at lab:up;
#   * the files in RESET_PATHS below: the machine's own version, or none when the machine has none;
#     lvsplay's *.lvsplay-bak / *.lvsplay.* files anywhere under /etc removed;
#   * the lab's own web services (HTTP :80, UDP :53 on rs1-rs5) running.
# It checks the result and fails, naming what is still different, when a host is not back.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || die "reset.sh must run as root"

# Every path lvsplay writes (or may write) on a host, as globs. THIS LIST MUST GROW WITH EVERY PATH
# LVSPLAY LEARNS TO WRITE: whatever is not here survives a reset and leaks from one test into the
# next. Each matching path (recursively) is restored to the machine's own version, or removed when
# the machine has none. Only /etc and /var/lib: on a namespace host those are the host's overlays
# (ns-host.sh); anything else there would be the machine's own.
RESET_PATHS='
/etc/lvsplay
/var/lib/lvsplay
/etc/systemd/system/lvsplay-*
/etc/systemd/system/*.wants/lvsplay-*
/etc/systemd/system/ldirectord.service.d
/etc/systemd/system/keepalived.service.d
/etc/sysctl.d/*lvsplay*
/etc/modules-load.d/*lvsplay*
/etc/modprobe.d/*lvsplay*
/etc/ha.d/ldirectord.cf
/etc/default/ldirectord
/etc/ipvsadm.rules
/etc/default/ipvsadm
/etc/keepalived
/etc/default/keepalived
/etc/rc[0-6S].d/[SK][0-9][0-9]@(ldirectord|keepalived|ipvsadm)
'
# (bash globs, with extglob: each one reads its directories once, which costs on a VM's 9p /etc)
shopt -s extglob
for g in $RESET_PATHS; do
  case "$g" in /etc/*|/var/lib/*) ;; *) die "RESET_PATHS: $g is outside /etc and /var/lib" ;; esac
done

MODE=reset
case "${1:-}" in
  --snapshot) MODE=snapshot; shift ;;
  --state) MODE=state; shift; [ $# = 1 ] || die "usage: reset.sh --state HOST" ;;
  --state-script) MODE=state-script; shift; [ $# = 1 ] || die "usage: reset.sh --state-script HOST" ;;
  -*) die "usage: reset.sh [--snapshot|--state] [HOST...]" ;;
esac
[ "$MODE" = state-script ] || [ -f "$LAB_DIR/id_lab" ] || die "no lab is up ($LAB_DIR/id_lab missing): npm run lab:up"
if [ $# = 0 ]; then mapfile -t names < <(lab_hosts | awk '{print $1}'); else names=("$@"); fi
for n in "${names[@]}"; do lab_host "$n" >/dev/null; done
T0=$(date +%s%N)

# The machine's version of RESET_PATHS: listed as reset-host.sh lists the host's (type, mode,
# owner, link target, and a sha256 per file), and as one archive (paths relative to /).
machine_list="" machine_tar=""
if [ "$MODE" = reset ]; then
  shopt -s nullglob
  abs=()
  # shellcheck disable=SC2086
  for p in $RESET_PATHS; do [ -e "$p" ] || [ -L "$p" ] && abs+=("$p"); done
  shopt -u nullglob
  if [ ${#abs[@]} -gt 0 ]; then
    machine_list=$(find "${abs[@]}" -printf 'L\t%p\t%y\t%m\t%U\t%G\t%l\n' -type f -exec sha256sum {} +)
    machine_tar=$(tar -C / -cf - --numeric-owner "${abs[@]#/}" | base64 -w0)
  fi
fi

# The host-side script (reset-host.sh) with its inputs in front. It goes to a file on the host
# first: `bash -s` reads a script from a pipe a byte at a time, ~1 s for these ~60 KB under TCG.
RUN_REMOTE='t=$(mktemp /tmp/lab-reset.XXXXXX.sh) && cat > "$t" && bash "$t"; r=$?; rm -f "$t"; exit $r'

host_script() { # name kind mode
  local base=""
  [ "$3" != reset ] || base=$(cat "$LAB_DIR/hosts/$1/baseline")
  printf 'MODE=%q KIND=%q\nRESET_PATHS=%q\nVM_DISABLED_UNITS=%q\n' "$3" "$2" "$RESET_PATHS" "$VM_DISABLED_UNITS"
  printf 'BASELINE=%q\nMACHINE_LIST=%q\nMACHINE_TAR_B64=%q\n' "$base" "$machine_list" "$machine_tar"
  cat "$LAB_SRC/reset-host.sh"
}

one() { # name: run this mode on one host; output in $tmp/NAME.out
  local name=$1 kind port out="$tmp/$1.out"
  read -r _ kind _ _ port < <(lab_host "$name")
  case $MODE in
    snapshot)
      host_script "$name" "$kind" state | lab_ssh "$port" "$RUN_REMOTE" > "$LAB_DIR/hosts/$name/baseline.tmp" 2> "$out" &&
        [ -s "$LAB_DIR/hosts/$name/baseline.tmp" ] &&
        mv "$LAB_DIR/hosts/$name/baseline.tmp" "$LAB_DIR/hosts/$name/baseline" ;;
    reset)
      [ -s "$LAB_DIR/hosts/$name/baseline" ] || { echo "no baseline (lab:up records it)" > "$out"; return 1; }
      local rc=0
      host_script "$name" "$kind" reset | lab_ssh "$port" "$RUN_REMOTE" > "$out" 2>&1 || rc=$?
      # a namespace real server's web services are processes of this machine, recorded in pids/
      if [ "$kind" = ns ] && [[ " $WEB_HOSTS " == *" $name "* ]]; then
        nsenter --target "$(cat "$LAB_DIR/pids/$name.sshd")" --net --mount --uts \
          bash "$LAB_SRC/ns-web.sh" "$name" >> "$out" 2>&1 || rc=1
      fi
      return $rc ;;
  esac
}

if [ "$MODE" = state ] || [ "$MODE" = state-script ]; then
  read -r _ kind _ _ port < <(lab_host "${names[0]}")
  if [ "$MODE" = state-script ]; then host_script "${names[0]}" "$kind" state; exit; fi
  host_script "${names[0]}" "$kind" state | lab_ssh "$port" "$RUN_REMOTE"
  exit
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jobs=()
for n in "${names[@]}"; do one "$n" & jobs+=("$!:$n"); done
fail=0
for j in "${jobs[@]}"; do
  n=${j#*:}
  if wait "${j%%:*}"; then st=ok; else st=FAILED; fail=1; fi
  if [ "$MODE" = reset ]; then
    if [ -s "$tmp/$n.out" ]; then sed "s/^/[reset $n] /" "$tmp/$n.out" >&2; fi
    [ $st = ok ] || log "reset $n: FAILED"
  elif [ $st != ok ]; then
    log "snapshot $n: FAILED: $(cat "$tmp/$n.out")"
  fi
done
[ $fail = 0 ] || die "$MODE failed (see above)"
log "$MODE of ${names[*]} done ($(( ($(date +%s%N) - T0) / 1000000 )) ms)"
