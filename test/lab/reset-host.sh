# reset-host.sh: the part of reset.sh that runs ON a lab host, as root, over the lab's ssh.
# Not run on this machine: reset.sh sends it, with these variables in front:
#   MODE              state | reset
#   KIND              vm | ns
#   RESET_PATHS       globs of the files lvsplay writes (reset.sh says what they are)
#   VM_DISABLED_UNITS units a VM boots with disabled (common.sh)
#   BASELINE          this host's state at lab:up (MODE=reset): the output of MODE=state then
#   MACHINE_LIST      the machine's own version of RESET_PATHS, listed as step 0 below lists
#   MACHINE_TAR_B64   the same files: a tar archive (paths relative to /), base64
#
# MODE=state prints the host's state that reset restores, one fact a line:
#   addr DEV FAMILY CIDR [brd B] [scope S] [label L]   link DEV up|down   module NAME (VMs only)
#   route4 ROUTE, route6 ROUTE (every table but local)   sysctl /proc/sys/PATH:VALUE
#   ipvs-timeout TCP TCPFIN UDP
# MODE=reset brings the host back to its baseline and its files to the machine's version, prints
# one line per thing it changed, and checks the result: exit 1, naming what is still different,
# when the host is not back as it booted.
#
# Written to start few programs: under TCG on a busy 2-core machine each costs 50-100 ms, and a
# reset that finds nothing to do should cost little more than the ssh. So the state is read by a
# handful of commands, one awk program compares it with the baseline and prints the actions, and
# only a difference costs a command.
#
# On a namespace host (KIND=ns) this runs as root ON THE MACHINE, in the host's network, UTS and
# mount namespaces: only the host's own network state (addresses, routes and net.* sysctls are per
# network namespace) and its /etc and /var/lib (overlays, see ns-host.sh) may be touched;
# processes only when they live in this host's network and mount namespaces; no modules, no /run.
# Not -e (nor pipefail): a step that fails must not stop the others; the check at the end says
# whether the host is back.
set -u
export LC_ALL=C
d=$(mktemp -d /tmp/lab-reset.XXXXXX)
trap 'rm -rf "$d"' EXIT
is_vm() { [ "$KIND" = vm ]; }
has_ipvs() { [ -e /proc/net/ip_vs ]; }
SYSCTL_DIRS="/proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/vs"

# ---- the state --------------------------------------------------------------------------------------
# `ip -o -batch` output: an address line has inet/inet6 as its 3rd field, a link line "<FLAGS>";
# anything else is a route (of the family of that file).
STATE_AWK='
FILENAME ~ /ip[46]$/ && ($3 == "inet" || $3 == "inet6") {
  line = "addr " $2 " " $3 " " $4
  for (i = 5; i <= NF && $i != "valid_lft"; i++)
    if ($3 == "inet" && ($i == "brd" || $i == "scope")) line = line " " $i " " $(i + 1)
  # the label, when it is not the device name: the field before valid_lft, ending with the
  # backslash `ip -o` puts where a line break was ("scope global lo:vip\   valid_lft ...")
  l = $(i - 1); sub(/\\$/, "", l)
  if ($3 == "inet" && l ~ /:/) line = line " label " l
  print line; next }
FILENAME ~ /ip4$/ && $3 ~ /^</ { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print "link " n " " ($3 ~ /[<,]UP[,>]/ ? "up" : "down"); next }
FILENAME ~ /ip[46]$/ {
  if ($0 ~ / table local/ || $3 ~ /^</) next
  sub(/ expires [0-9]+sec/, "")   # a remaining lifetime counts down: not part of the route
  sub(/ +$/, "")
  print (FILENAME ~ /4$/ ? "route4 " : "route6 ") $0; next }
FILENAME ~ /sysctl$/ { print "sysctl " $0; next }
FILENAME ~ /ipvs$/ && /^Timeout/ { print "ipvs-timeout", $(NF-2), $(NF-1), $NF; next }
FILENAME == "/proc/modules" { print "module " $1 }'
state() { # -> file $1
  printf 'addr show\nlink show\nroute show table all\n' | ip -4 -o -batch - > "$d/ip4"
  printf 'addr show\nroute show table all\n' | ip -6 -o -batch - > "$d/ip6"
  # shellcheck disable=SC2086
  grep -rHs '' $SYSCTL_DIRS > "$d/sysctl"
  if has_ipvs; then ipvsadm -L --timeout > "$d/ipvs"; else : > "$d/ipvs"; fi
  local mods=; is_vm && mods=/proc/modules
  # shellcheck disable=SC2086
  awk "$STATE_AWK" "$d/ip4" "$d/ip6" "$d/sysctl" "$d/ipvs" $mods > "$1"
}

if [ "$MODE" = state ]; then state "$d/now"; sort "$d/now"; exit 0; fi
[ -n "$BASELINE" ] || { echo "reset: no baseline"; exit 1; }

# ---- the plan: what differs from the baseline, as actions ---------------------------------------------
# Reads the baseline (from the environment) and the current state; prints one action a line, in
# the order they must run:
#   rmmod NAME... | modprobe NAME | reload-dev DEV | link-del DEV | link DEV up|down
#   addr-del DEV CIDR | addr-add DEV CIDR ARGS... | route-del 4|6 ROUTE | route-add 4|6 ROUTE
#   ipvs-timeout T1 T2 T3 | sysctl PATH<\037>VALUE<\037>WAS
# and writes every fact that differs at all to $d/diff ("< fact" at boot, "> fact" now).
# sysctls: ip_forward first (writing it resets every conf.*.forwarding), then conf.all, conf.default,
# then per interface; an interface the host did not have at boot gets the boot's conf.default value.
PLAN_AWK='
function kv(s) { s = substr(s, 8); i = index(s, ":"); K = substr(s, 1, i - 1); V = substr(s, i + 1) }
BEGIN {
  nb = split(ENVIRON["BASELINE"], bl, "\n")
  for (j = 1; j <= nb; j++) { $0 = bl[j]; if ($0 == "") continue
    base[$0] = 1
    if ($1 == "addr") baddr[$2 " " $3 " " $4] = $0
    else if ($1 == "link") blink[$2] = $3
    else if ($1 == "sysctl") { kv($0); bsys[K] = V }
    else if ($1 == "ipvs-timeout") bipvs = $2 " " $3 " " $4 }
}
{ now[$0] = 1
  if ($1 == "addr") naddr[$2 " " $3 " " $4] = 1
  else if ($1 == "link") nlink[$2] = $3
  else if ($1 == "sysctl") { kv($0); nsys[K] = V; order[++nk] = K }
  else if ($1 == "ipvs-timeout") nipvs = $2 " " $3 " " $4 }
END {
  for (l in base) if (!(l in now)) print "< " l > DIFF
  for (l in now) if (!(l in base)) print "> " l > DIFF
  # Never touched: mgmt0 (the lab'"'"'s ssh path to a VM) and the kernel'"'"'s own routes (they come and go
  # with their addresses). A difference there is still in $d/diff: the check at the end reports it.
  delete nlink["mgmt0"]
  for (k in naddr) if (k ~ /^mgmt0 /) delete naddr[k]
  for (k in baddr) if (k ~ /^mgmt0 /) delete baddr[k]
  mods = ""; for (l in now) if (l ~ /^module / && !(l in base)) mods = mods " " substr(l, 8)
  if (mods != "") print "rmmod" mods
  for (l in base) if (l ~ /^module / && !(l in now)) print "modprobe " substr(l, 8)
  # A device of the boot that now has sysctls it did not have (the first `ip link set tunl0 up`
  # gives it an IPv6 configuration): only a fresh device is as it was.
  for (k in nsys) if (!(k in bsys) && k ~ /\/conf\/[^\/]+\//) {
    dev = k; sub(/.*\/conf\//, "", dev); sub(/\/.*/, "", dev)
    if ((dev in blink) && dev != "all" && dev != "default" && !(dev in reload)) { reload[dev] = 1; print "reload-dev " dev }
  }
  for (n in nlink) if (!(n in blink)) print "link-del " n
  for (n in nlink) if ((n in blink) && nlink[n] != blink[n]) print "link " n " " blink[n]
  for (k in naddr) if (!(k in baddr)) { split(k, f, " "); print "addr-del " f[1] " " f[3] }
  for (k in baddr) if (!(k in naddr)) {
    nf = split(baddr[k], f, " "); if (f[3] != "inet") continue
    args = ""; for (j = 5; j <= nf; j++) args = args " " f[j]
    print "addr-add " f[2] " " f[4] args }
  for (l in now) if (l ~ /^route[46] / && !(l in base) && l !~ / proto kernel/) print "route-del " substr(l, 6, 1) " " substr(l, 8)
  for (l in base) if (l ~ /^route[46] / && !(l in now) && l !~ / proto kernel/) print "route-add " substr(l, 6, 1) " " substr(l, 8)
  if (bipvs != "" && nipvs != bipvs) print "ipvs-timeout " bipvs
  for (pass = 0; pass < 4; pass++) for (j = 1; j <= nk; j++) {
    k = order[j]
    c = (k ~ /ip_forward$/) ? 0 : (k ~ /\/conf\/all\//) ? 1 : (k ~ /\/conf\/default\//) ? 2 : 3
    if (c != pass) continue
    if (k in bsys) w = bsys[k]
    else { dk = k; if (!sub(/\/conf\/[^\/]+\//, "/conf/default/", dk) || !(dk in bsys)) continue; w = bsys[dk] }
    if (nsys[k] != w) print "sysctl " k "\037" w "\037" nsys[k]
  }
}'
plan() { state "$d/now" && : > "$d/diff" && BASELINE=$BASELINE awk -v DIFF="$d/diff" "$PLAN_AWK" "$d/now" > "$d/plan"; }

# Unload modules, in passes (one rmmod each): a module another one of the list uses goes in a later
# pass, and an IPVS scheduler is only released a moment after `ipvsadm -C`. Like modprobe -r, this
# takes out what they pulled in, and nothing the boot had.
loaded() { local l; while read -r l _; do echo "$l"; done < /proc/modules; }
unload() {
  local left=("$@") m now
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    rmmod "${left[@]}" 2>/dev/null
    now=" $(loaded | tr '\n' ' ') "
    local next=()
    for m in "${left[@]}"; do
      if [[ "$now" == *" $m "* ]]; then next+=("$m"); else echo "unloaded module $m"; fi
    done
    [ ${#next[@]} -gt 0 ] || return 0
    [ ${#next[@]} -lt ${#left[@]} ] || sleep 0.2
    left=("${next[@]}")
  done
  return 1
}
# Run a plan. Actions planned before a module went (and took its devices, addresses and sysctls
# with it) can be stale: each checks that its object still exists, and the next plan sees the rest.
apply() {
  local a x y m z args k w was
  while read -r a x y; do
    case "$a" in
      # shellcheck disable=SC2086
      rmmod) unload $x $y ;;
      modprobe) modprobe "$x" && echo "loaded module $x again" ;;
      reload-dev)   # a module's own fallback device: unload and load the module
        case "$x" in
          tunl0) m=ipip ;; sit0) m=sit ;; ip6tnl0) m=ip6_tunnel ;; gre0|gretap0|erspan0) m=ip_gre ;;
          ip6gre0) m=ip6_gre ;; ip_vti0) m=ip_vti ;; ip6_vti0) m=ip6_vti ;; *) m= ;;
        esac
        [ -n "$m" ] && unload "$m" && modprobe "$m" && echo "loaded module $m again (a fresh $x)" ;;
      # Only for a device that exists: naming a missing one (an ioctl by name) makes the kernel
      # load the module that provides it (netdev-tunl0 -> ipip), which unload just took out.
      link-del)   # a module's fallback device (tunl0 while ipip stays loaded) cannot go: set it down
        [ -e "/sys/class/net/$x" ] || continue
        if ip link del "$x" 2>/dev/null; then echo "deleted interface $x"
        else ip link set "$x" down && echo "set $x down"; fi ;;
      link) [ -e "/sys/class/net/$x" ] && ip link set "$x" "$y" && echo "set $x $y" ;;
      addr-del) [ -e "/sys/class/net/$x" ] && ip addr del "$y" dev "$x" 2>/dev/null && echo "removed address $y from $x" ;;
      # shellcheck disable=SC2086
      addr-add) read -r z args <<<"$y"; ip addr add "$z" $args dev "$x" && echo "added address $z back to $x" ;;
      # ($y: the route as `ip route show` prints it, less the flags it prints that `del` does not take)
      # shellcheck disable=SC2046
      route-del) ip -"$x" route del $(echo "$y" | sed 's/ linkdown//; s/ dead//; s/ offload//') 2>/dev/null && echo "removed IPv$x route $y" ;;
      # shellcheck disable=SC2086
      route-add) ip -"$x" route add $y && echo "added IPv$x route $y back" ;;
      # shellcheck disable=SC2086
      ipvs-timeout) ipvsadm --set $x $y && echo "IPVS timeouts back to $x $y" ;;
      sysctl)
        IFS=$'\037' read -r k w was <<<"$x${y:+ $y}"
        [ -e "$k" ] && printf '%s\n' "$w" > "$k" && echo "sysctl ${k#/proc/sys/} $was -> $w" ;;
    esac
  done < "$1"
}

# ---- 0. list the files now, in the background ---------------------------------------------------------
# (walking /etc over 9p on a VM takes about a second; nothing below changes these files before
# step 3 reads the list)
# Each path matching RESET_PATHS is listed (type, mode, owner, link target, and a sha256 per file)
# as reset.sh lists the machine's, then lvsplay's backups and temp files anywhere under /etc.
shopt -s extglob
{
  shopt -s nullglob
  host_paths=()
  # shellcheck disable=SC2086
  for p in $RESET_PATHS; do host_paths+=("$p"); done
  shopt -u nullglob
  [ ${#host_paths[@]} = 0 ] ||
    find "${host_paths[@]}" -printf 'L\t%p\t%y\t%m\t%U\t%G\t%l\n' -type f -exec sha256sum {} + 2>/dev/null
  find /etc \( -name '*.lvsplay-bak' -o -name '*.lvsplay.*' \) -printf 'X\t%p\n' 2>/dev/null
} > "$d/host.list" &
listing=$!

# ---- 1. daemons lvsplay may have started --------------------------------------------------------------
# ldirectord and keepalived, whether started as units or by hand (`ldirectord CONFIG start`,
# `keepalived -D`), lvsplay-* units, and the IPVS sync daemon's kernel threads: found by name in
# /proc (the shell's own `read`: no program per process), but only in this host's own network and
# mount namespaces (on a namespace host every process of the machine is visible here).
daemons() {
  local p c
  for p in /proc/[0-9]*; do
    read -r c 2>/dev/null < "$p/comm" || continue
    case "$c" in
      ldirectord|keepalived|ipvs-[mb]:*)
        [ "$(readlink "$p/ns/net")" = "$(readlink /proc/self/ns/net)" ] &&
          [ "$(readlink "$p/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] && echo "$c ${p#/proc/}" ;;
    esac
  done
}
if is_vm; then
  shopt -s nullglob
  # an active unit has a cgroup (a oneshot that stays active does not: its file is reason enough)
  cg=(/sys/fs/cgroup/system.slice/lvsplay-* /etc/systemd/system/lvsplay-*)
  for u in $VM_DISABLED_UNITS; do [ ! -d "/sys/fs/cgroup/system.slice/$u" ] || cg+=("$u"); done
  shopt -u nullglob
  if [ ${#cg[@]} -gt 0 ]; then
    # shellcheck disable=SC2086
    units=$(systemctl list-units --state=active,activating,reloading --no-legend --plain 'lvsplay-*' $VM_DISABLED_UNITS | awk '{print $1}')
    # shellcheck disable=SC2086
    [ -z "$units" ] || { systemctl stop $units && echo "stopped unit(s):" $units; }
  fi
fi
found=$(daemons)
if [ -n "$found" ]; then
  case "$found" in *ipvs-m:*) ipvsadm --stop-daemon master && echo "stopped the IPVS master sync daemon" ;; esac
  case "$found" in *ipvs-b:*) ipvsadm --stop-daemon backup && echo "stopped the IPVS backup sync daemon" ;; esac
  # SIGKILL, not a polite stop: ldirectord takes seconds of perl under TCG to stop, and what a
  # stop would clean (its IPVS services, keepalived's VIPs) is cleaned below anyway
  pids=$(echo "$found" | awk '$1 !~ /^ipvs-/ {print $2}')
  # shellcheck disable=SC2086
  [ -z "$pids" ] || { kill -KILL $pids 2>/dev/null; echo "killed ldirectord/keepalived process(es):" $pids; }
fi
if is_vm; then   # the pid files a kill -9 leaves (a namespace host's /run is the machine's: not there)
  stale=()
  for f in /run/ldirectord.*.pid /run/keepalived.pid /run/vrrp.pid /run/checkers.pid /run/lock/subsys/ldirectord; do
    [ ! -e "$f" ] || stale+=("$f")
  done
  [ ${#stale[@]} = 0 ] || rm -f "${stale[@]}"
fi

# ---- 2. IPVS: no services (the table in /proc has 3 header lines) --------------------------------------
if has_ipvs; then
  mapfile -t -n 4 ipvs < /proc/net/ip_vs
  [ ${#ipvs[@]} -le 3 ] || { ipvsadm -C && echo "flushed IPVS (ipvsadm -C)"; }
fi

# nftables: no ruleset (the hosts boot with none; lvsplay's marks task loads a table of its own).
# Only when the module is loaded: listing would load it.
if [ -d /sys/module/nf_tables ] && command -v nft >/dev/null 2>&1 && [ -n "$(nft list tables)" ]; then
  nft flush ruleset && echo "flushed the nftables ruleset"
fi

# the first plan, in the background while the files are done (step 3 does not touch the network)
plan & planning=$!

# ---- 3. files: the machine's version, or none ----------------------------------------------------------
# What the machine lacks goes; what differs is extracted from the machine's archive (--no-recursion:
# a directory's own attributes; its files are in the list themselves).
wait $listing
# "rm - PATH" for a host path the machine lacks (or a backup), "restore dir|replace PATH" for a
# machine path the host lacks or has otherwise. (find's lines start with L or X and a tab,
# sha256sum's with the hash.)
MACHINE_LIST=$MACHINE_LIST awk '
  function add(line, into, types,   f, p) {
    if (line ~ /^L\t/) { split(line, f, "\t"); into[f[2]] = into[f[2]] "|" f[3] " " f[4] " " f[5] " " f[6] " " f[7]; types[f[2]] = f[3] }
    else if (line ~ /^X\t/) { bak[substr(line, 3)] = 1 }
    else if (line != "") { p = substr(line, 67); into[p] = into[p] "|" substr(line, 1, 64) }
  }
  { add($0, h, htype) }
  END {
    n = split(ENVIRON["MACHINE_LIST"], ml, "\n"); for (j = 1; j <= n; j++) add(ml[j], m, mtype)
    for (p in h) if (!(p in m)) print "rm\t-\t" p
    for (p in bak) if (!(p in h)) print "rm\t-\t" p
    for (p in m) if (!(p in h) || h[p] != m[p]) print "restore\t" (mtype[p] == "d" && htype[p] == "d" ? "dir" : "replace") "\t" p
  }' "$d/host.list" > "$d/files.plan"
units_changed=0
if [ -s "$d/files.plan" ]; then
  restore=()
  while IFS=$'\t' read -r a how p; do   # (sorted: a directory before what is in it)
    case "$p" in /etc/systemd/system/*) units_changed=1 ;; esac
    if [ "$a" = rm ]; then
      if [ -e "$p" ] || [ -L "$p" ]; then rm -rf -- "$p" && echo "removed $p"; fi
    else
      # tar sets a directory's attributes in place; anything else is replaced
      [ "$how" = dir ] || rm -rf -- "$p"
      restore+=("${p#/}")
      echo "restored $p (the machine's version)"
    fi
  done < <(sort -t$'\t' -k3 "$d/files.plan")
  if [ ${#restore[@]} -gt 0 ]; then
    echo "$MACHINE_TAR_B64" | base64 -d | tar -C / -xf - --numeric-owner --no-recursion "${restore[@]}"
  fi
fi
if is_vm; then
  shopt -s nullglob
  for u in $VM_DISABLED_UNITS; do
    for l in /etc/systemd/system/*.wants/"$u"; do   # `systemctl enable` made it
      rm -f -- "$l" && echo "removed $l" && units_changed=1
    done
  done
  shopt -u nullglob
  [ "$units_changed" = 0 ] || { systemctl daemon-reload && echo "systemctl daemon-reload"; }
fi

# ---- 4. modules, interfaces, addresses, routes, sysctls: back to the baseline ---------------------------
# Apply the plan, plan again; a third plan only says what is left (reported below).
wait $planning
for round in 1 2 3; do
  [ "$round" = 1 ] || plan
  [ -s "$d/plan" ] && [ "$round" != 3 ] || break
  apply "$d/plan"
done
ip neigh flush dev eth0 2>/dev/null   # no stale neighbour (a VIP's old director MAC)
ip neigh flush dev eth1 2>/dev/null   # the back network's (directors, client)

# ---- 5. the lab's own services (a VM's enabled lab-* units), a clean systemd state ----------------------
if is_vm; then
  stopped=()
  for u in /etc/systemd/system/multi-user.target.wants/lab-*.service; do
    [ -e "$u" ] && [ ! -d "/sys/fs/cgroup/system.slice/${u##*/}" ] && stopped+=("${u##*/}")
  done
  [ ${#stopped[@]} = 0 ] || { systemctl start "${stopped[@]}" && echo "started ${stopped[*]}"; }
  if [ "$(systemctl is-system-running)" = degraded ]; then   # a unit a test made fail
    systemctl reset-failed && echo "systemctl reset-failed (systemd was degraded)"
  fi
fi

# ---- 6. check: the host is as it booted --------------------------------------------------------------
# ($d/diff is from the last plan: nothing since changed the network state)
bad=0
if [ -s "$d/diff" ]; then echo "reset: STILL DIFFERENT from the boot state (< boot, > now):"; sort -k2 "$d/diff"; bad=1; fi
if [ -n "$(daemons)" ]; then echo "reset: STILL RUNNING:" $(daemons); bad=1; fi
if has_ipvs; then
  mapfile -t -n 4 ipvs < /proc/net/ip_vs
  [ ${#ipvs[@]} -le 3 ] || { echo "reset: STILL DIFFERENT: IPVS is not empty"; bad=1; }
fi
exit $bad
