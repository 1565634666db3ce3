# reset-host.sh: the part of reset.sh that runs ON a lab host, as root, over the lab's ssh.
# Not run on this machine: reset.sh sends it as the input of `bash -s` after these variables:
#   MODE              state | reset
#   KIND              vm | ns
#   RESET_PATHS       globs of the files lvsplay writes (reset.sh says what they are)
#   VM_DISABLED_UNITS units a VM boots with disabled (common.sh)
#   BASELINE_B64      this host's state at lab:up (MODE=reset), base64
#   MACHINE_TAR_B64   the machine's own version of RESET_PATHS, a tar archive, base64
#
# MODE=state prints the host's state that reset restores, one fact a line, sorted:
#   addr DEV FAMILY CIDR [brd B] [scope S] [label L]  link DEV up|down     module NAME
#   route4 ROUTE / route6 ROUTE (every table but local)  sysctl /proc/sys/PATH:VALUE
#   ipvs-timeout TCP TCPFIN UDP
# MODE=reset brings the host back to its baseline (that same output at lab:up) and to the
# machine's files, prints one line per thing it changed, then checks the result: exit 1 and the
# remaining differences when the host is not back as it booted.
#
# On a namespace host (KIND=ns) this runs as root ON THE MACHINE, in the host's network, UTS and
# mount namespaces: only the host's own network state (addresses, routes, net.* sysctls are per
# network namespace) and its /etc and /var/lib (overlays, see ns-host.sh) may be touched here;
# processes only when they live in this host's network and mount namespaces; no modules, no /run.
set -u
export LC_ALL=C
d=$(mktemp -d /tmp/lab-reset.XXXXXX)
trap 'rm -rf "$d"' EXIT
say() { echo "$*"; }
is_vm() { [ "$KIND" = vm ]; }
has_ipvs() { [ -e /proc/net/ip_vs ]; }

SYSCTL_DIRS="/proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/vs"

state() {
  ip -o addr show | awk '{
    line = "addr " $2 " " $3 " " $4
    if ($3 == "inet") for (i = 5; i < NF; i++) {
      if ($i == "brd" || $i == "scope") line = line " " $i " " $(i + 1)
      if ($i == "valid_lft") break
    }
    # the label, when it is not the device name itself: the field before valid_lft, with the
    # backslash `ip -o` puts at each line break ("scope global lo:vip\   valid_lft ...")
    for (i = 5; i <= NF; i++) if ($i == "valid_lft") { l = $(i - 1); sub(/\\$/, "", l); if ($3 == "inet" && l ~ /:/) line = line " label " l; break }
    print line }'
  ip -o link show | awk '{ n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print "link " n " " ($3 ~ /[<,]UP[,>]/ ? "up" : "down") }'
  # (a route's remaining lifetime, "expires 1670sec", counts down: not part of the route)
  ip -4 route show table all | grep -v ' table local' | sed 's/ expires [0-9]*sec//; s/^/route4 /'
  ip -6 route show table all | grep -v ' table local' | sed 's/ expires [0-9]*sec//; s/^/route6 /'
  # shellcheck disable=SC2086
  grep -rHs '' $SYSCTL_DIRS | sed 's/^/sysctl /'
  if has_ipvs; then ipvsadm -L --timeout | awk '/^Timeout/ { print "ipvs-timeout", $(NF-2), $(NF-1), $NF }'; fi
  if is_vm; then awk '{ print "module " $1 }' /proc/modules; fi
}

if [ "$MODE" = state ]; then state | sort; exit 0; fi

echo "$BASELINE_B64" | base64 -d | sort > "$d/base"
[ -s "$d/base" ] || { echo "reset: no baseline"; exit 1; }
section() { grep "^$1 " "$2" | cut -d' ' -f2- ; }   # the lines of one kind, without the kind

# ---- 1. daemons lvsplay may have started: ldirectord, keepalived, lvsplay-* units ----------------
if is_vm; then
  units=$(systemctl list-units --state=active,activating,reloading --no-legend --plain \
            'lvsplay-*' $VM_DISABLED_UNITS 2>/dev/null | awk '{print $1}')
  if [ -n "$units" ]; then
    # shellcheck disable=SC2086
    systemctl stop $units && say "stopped unit(s): $(echo $units)"
  fi
fi
# Started by hand (`ldirectord CONFIG start`, `keepalived -D`): by process name, but only processes
# in this host's own network and mount namespaces (on a namespace host every process of the
# machine is visible here).
own() { [ "$(readlink "/proc/$1/ns/net")" = "$(readlink /proc/self/ns/net)" ] &&
        [ "$(readlink "/proc/$1/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]; }
daemons() {
  local p c
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    read -r c 2>/dev/null < "/proc/$p/comm" || continue   # (read, not cat: no fork per process)
    case "$c" in ldirectord|keepalived) own "$p" 2>/dev/null && echo "$p" ;; esac
  done
}
pids=$(daemons)
if [ -n "$pids" ]; then
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 30); do [ -z "$(daemons)" ] && break; sleep 0.1; done
  left=$(daemons)
  # shellcheck disable=SC2086
  [ -z "$left" ] || kill -KILL $left 2>/dev/null
  say "ended ldirectord/keepalived process(es): $(echo $pids)${left:+ (SIGKILL: $(echo $left))}"
fi
if is_vm; then   # their pid files, which a kill -9 leaves behind (a namespace host's /run is the machine's)
  rm -f /run/ldirectord.*.pid /run/keepalived.pid /run/vrrp.pid /run/checkers.pid /run/lock/subsys/ldirectord
fi

# ---- 2. IPVS: services, sync daemons, timeouts ---------------------------------------------------
if has_ipvs; then
  if [ -n "$(ipvsadm -S -n)" ]; then ipvsadm -C && say "flushed IPVS (ipvsadm -C)"; fi
  daemon=$(ipvsadm -L -n --daemon)
  for role in master backup; do
    case "$daemon" in *"$role sync daemon"*) ipvsadm --stop-daemon "$role" && say "stopped the IPVS $role sync daemon" ;; esac
  done
  want=$(section ipvs-timeout "$d/base")
  now=$(state | awk '/^ipvs-timeout / { print $2, $3, $4 }')
  if [ -n "$want" ] && [ "$want" != "$now" ]; then
    # shellcheck disable=SC2086
    ipvsadm --set $want && say "IPVS timeouts $now -> $want"
  fi
fi

# ---- 3. files ------------------------------------------------------------------------------------
# The machine's version of each path (its tar archive): what a host has where the machine has
# nothing goes; what differs from the machine's (content, link target, mode, owner) is restored.
mkdir -p "$d/m"
if [ -n "$MACHINE_TAR_B64" ]; then echo "$MACHINE_TAR_B64" | base64 -d | tar -C "$d/m" -xf - --numeric-owner; fi
units_changed=0
gone() { # path: remove it, say so
  rm -rf -- "$1" && say "removed $1"
  case "$1" in /etc/systemd/system/*) units_changed=1 ;; esac
}
shopt -s nullglob
for g in $RESET_PATHS; do
  for p in $g; do
    while IFS= read -r f; do
      if [ ! -e "$d/m$f" ] && [ ! -L "$d/m$f" ] && { [ -e "$f" ] || [ -L "$f" ]; }; then gone "$f"; fi
    done < <(find "$p" 2>/dev/null)
  done
done
same() { # machine-copy host-path: same type, mode, owner, and content or link target?
  [ -e "$2" ] || [ -L "$2" ] || return 1
  [ "$(stat -c '%F %a %u %g' -- "$1")" = "$(stat -c '%F %a %u %g' -- "$2")" ] || return 1
  if [ -L "$1" ]; then [ "$(readlink -- "$1")" = "$(readlink -- "$2")" ]
  elif [ -f "$1" ]; then cmp -s -- "$1" "$2"
  fi
}
# (the archive's own member list, not a walk of its extraction: the parent directories tar creates
# on the way, /etc itself among them, are not the machine's and must not be "restored")
while IFS= read -r rel; do
  f=${rel#.}
  same "$d/m$f" "$f" && continue
  if [ -d "$d/m$f" ] && [ ! -L "$d/m$f" ]; then
    [ -d "$f" ] && [ ! -L "$f" ] || rm -rf -- "$f"
    mkdir -p -- "$f" && chmod --reference="$d/m$f" -- "$f" && chown --reference="$d/m$f" -- "$f"
  else
    rm -rf -- "$f"; cp -a -- "$d/m$f" "$f"
  fi
  say "restored $f (the machine's version)"
  case "$f" in /etc/systemd/system/*) units_changed=1 ;; esac
done < <([ -z "$MACHINE_TAR_B64" ] || echo "$MACHINE_TAR_B64" | base64 -d | tar -tf - | sed 's|/$||; s|^|./|')
# lvsplay's backups and temp files, anywhere under /etc
while IFS= read -r f; do gone "$f"; done < <(find /etc \( -name '*.lvsplay-bak' -o -name '*.lvsplay.*' \) 2>/dev/null)
if is_vm; then
  for u in $VM_DISABLED_UNITS; do
    for l in /etc/systemd/system/*.wants/"$u"; do gone "$l"; done   # `systemctl enable` made it
  done
  if [ "$units_changed" = 1 ]; then systemctl daemon-reload && say "systemctl daemon-reload"; fi
  if [ "$(systemctl is-system-running 2>/dev/null)" = degraded ]; then
    systemctl reset-failed && say "systemctl reset-failed (was degraded)"
  fi
fi

# ---- 4. kernel modules loaded since boot (VMs: their own kernel), interfaces -----------------------
if is_vm; then
  # rmmod, not modprobe -r (which would also take out the boot's own modules they depend on);
  # a scheduler module is released shortly after `ipvsadm -C`: a few passes
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    extra=$(awk '{print $1}' /proc/modules | grep -vxF -f <(section module "$d/base"))
    [ -n "$extra" ] || break
    for m in $extra; do rmmod "$m" 2>/dev/null && say "unloaded module $m"; done
    sleep 0.2
  done
fi
state > "$d/now"
while read -r dev st; do
  if ! grep -qx "$dev [a-z]*" <(section link "$d/base"); then
    # a device the host did not have at boot: delete it; a module's fallback device (tunl0 of
    # ipip while ipip stays loaded) cannot be: set it down
    if ip link del "$dev" 2>/dev/null; then say "deleted interface $dev"
    elif [ "$st" = up ]; then ip link set "$dev" down && say "set $dev down"; fi
  fi
done < <(section link "$d/now")
while read -r dev st; do
  if grep -qx "$dev [a-z]*" <(section link "$d/now") && ! grep -qx "$dev $st" <(section link "$d/now"); then
    ip link set "$dev" "$st" && say "set $dev $st"
  fi
done < <(section link "$d/base")

# ---- 5. addresses ----------------------------------------------------------------------------------
state > "$d/now"
key() { awk '{ print $1, $2, $3 }'; }   # dev family cidr
while read -r dev fam cidr; do
  ip addr del "$cidr" dev "$dev" 2>/dev/null && say "removed address $cidr from $dev"
done < <(comm -13 <(section addr "$d/base" | key | sort) <(section addr "$d/now" | key | sort))
section addr "$d/now" | key > "$d/now.addr"
while read -r dev fam cidr rest; do   # one of the boot's own IPv4 addresses was deleted: add it back
  [ "$fam" = inet ] && ! grep -qxF "$dev $fam $cidr" "$d/now.addr" || continue
  # shellcheck disable=SC2086
  ip addr add "$cidr" $rest dev "$dev" && say "added address $cidr back to $dev"
done < <(section addr "$d/base")

# ---- 6. routes --------------------------------------------------------------------------------------
for v in 4 6; do
  state > "$d/now"
  while IFS= read -r r; do
    # `ip route show` flags that `ip route del` does not take
    # shellcheck disable=SC2086
    ip -$v route del $(echo "$r" | sed 's/ linkdown//; s/ dead//; s/ offload//') 2>/dev/null && say "removed IPv$v route $r"
  done < <(comm -13 <(section route$v "$d/base" | sort) <(section route$v "$d/now" | sort))
  while IFS= read -r r; do
    case "$r" in *" proto kernel"*) continue ;; esac   # the kernel's own come with their addresses
    # shellcheck disable=SC2086
    ip -$v route add $r 2>/dev/null && say "added IPv$v route $r back"
  done < <(comm -23 <(section route$v "$d/base" | sort) <(section route$v "$d/now" | sort))
done
ip neigh flush dev eth0 2>/dev/null   # no stale neighbour (e.g. a VIP's old director MAC)

# ---- 7. sysctls -----------------------------------------------------------------------------------
# Each key back to its boot value. ip_forward first (writing it resets every conf.*.forwarding),
# then conf.all and conf.default, then per interface. An interface that did not exist at boot gets
# what a new one would have had: the boot's conf.default value.
sysctl_fix() {
  state > "$d/now"
  awk -v want="$d/base" '
    function kv(s) { s = substr(s, 8); i = index(s, ":"); K = substr(s, 1, i - 1); V = substr(s, i + 1) }
    BEGIN { while ((getline l < want) > 0) if (l ~ /^sysctl /) { kv(l); base[K] = V } }
    /^sysctl / {
      kv($0); k = K; v = V
      if (k in base) w = base[k]
      else {
        dk = k; if (!sub(/\/conf\/[^\/]+\//, "/conf/default/", dk) || !(dk in base)) next
        w = base[dk]
      }
      if (v == w) next
      o = (k ~ /ip_forward$/) ? 0 : (k ~ /\/conf\/all\//) ? 1 : (k ~ /\/conf\/default\//) ? 2 : 3
      print o "\037" k "\037" w "\037" v   # (\037: some values hold tabs)
    }' "$d/now" | sort -n -k1,1 -s | while IFS=$'\037' read -r _ k w v; do
      printf '%s\n' "$w" > "$k" 2>/dev/null && say "sysctl ${k#/proc/sys/} $v -> $w"
    done
}
sysctl_fix
sysctl_fix   # a second pass for what the first one's ip_forward write changed again

# ---- 8. the lab's own services (a VM's enabled lab-* units) -------------------------------------
if is_vm; then
  for u in /etc/systemd/system/multi-user.target.wants/lab-*.service; do   # (nullglob is on)
    u=${u##*/}
    systemctl is-active -q "$u" || { systemctl start "$u" && say "started $u"; }
  done
fi

# ---- 9. check: the host is as it booted ------------------------------------------------------------
state > "$d/now"
bad=0
check() { # what kind: the lines of that kind must be equal in baseline and now
  local diffs
  diffs=$(diff <(section "$1" "$d/base" | $2 | sort) <(section "$1" "$d/now" | $2 | sort) | grep '^[<>]')
  [ -z "$diffs" ] || { echo "reset: STILL DIFFERENT ($1; < boot, > now):"; echo "$diffs"; bad=1; }
}
check addr key
check link cat
check route4 cat
check route6 cat
check sysctl cat
check ipvs-timeout cat
check module cat
if has_ipvs && [ -n "$(ipvsadm -S -n)" ]; then echo "reset: STILL DIFFERENT: IPVS is not empty"; bad=1; fi
if [ -n "$(daemons)" ]; then echo "reset: STILL RUNNING: ldirectord/keepalived $(daemons | tr '\n' ' ')"; bad=1; fi
exit $bad
