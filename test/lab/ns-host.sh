#!/usr/bin/env bash
# Start one namespace host's services. Run by lab-up.sh as
#   ip netns exec lvsplay-NAME unshare --mount --uts --propagation slave bash ns-host.sh NAME WEB
# so the host gets its own network, hostname and mount namespace. In that mount namespace /etc,
# /var/lib and /var/log are overlays (host files below, a per-host upper dir in the state dir
# above): writes there (sysctl.d, ipvsadm.rules, ...) stay with this host and never reach the
# machine's real /etc. Everything is started with setsid so lab-down.sh can end each by group.
set -euo pipefail
. "$(dirname "$0")/common.sh"
NAME=$1 WEB=$2
H="$LAB_DIR/hosts/$NAME"
P="$LAB_DIR/pids"

hostname "$NAME"
for d in etc var/lib var/log; do
  o="$H/ovl/${d//\//-}"
  mkdir -p "$o/u" "$o/w"
  mount -t overlay "lvsplay-$NAME" -o "lowerdir=/$d,upperdir=$o/u,workdir=$o/w" "/$d"
done
# its own /run/lock (lvsplay's per-host run lock): the rest of /run is shared, the lab lives there
mount -t tmpfs -o mode=1777 "lvsplay-$NAME-lock" /run/lock
# a clean root home: the machine's /root (.bashrc running pyenv init, ...) stays out of lab sessions
mount -t tmpfs -o mode=700 "lvsplay-$NAME-root" /root
echo "$NAME" > /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$NAME" > /etc/hosts

mkdir -p /run/sshd
/usr/sbin/sshd -f "$H/sshd_config" -E "$H/sshd.log"
for _ in $(seq 50); do [ -s "$H/sshd.pid" ] && break; sleep 0.05; done
[ -s "$H/sshd.pid" ] || die "$NAME: sshd wrote no pid file (see $H/sshd.log)"
cp "$H/sshd.pid" "$P/$NAME.sshd"

if [ "$WEB" = web ]; then bash "$LAB_SRC/ns-web.sh" "$NAME" >/dev/null; fi

# inner half of the SSH relay: unix socket (filesystem is shared) -> this namespace's sshd
setsid socat "UNIX-LISTEN:$LAB_DIR/sock/$NAME.sock,fork,mode=600,unlink-early" TCP:127.0.0.1:22,nodelay \
  </dev/null >>"$H/relay.log" 2>&1 &
echo $! > "$P/$NAME.relay-in"
