#!/bin/sh
# Stage 2 of a lab VM: busybox init runs this (host's /bin/sh) as sysinit. /run/lab is the per-VM
# lab dir shared by the host (9p): vm.env, sshd_config, host key, authorized_keys, www/.
set -u
. /run/lab/vm.env   # NAME ADDR MAC MGMT_MAC MGMT_GUEST KVER KMODDIR SERVICES
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "lab-stage2[$NAME @$(up)s]: $*"; }
say "start"

# a clean root home: the machine's /root (a .bashrc that runs pyenv init, ...) must not run in
# every lab ssh session
mount -t tmpfs -o mode=700 roothome /root
hostname "$NAME"
echo "$NAME" > /etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$NAME" > /etc/hosts
ip link set lo up   # without lo, ipvsadm -a fails with "address not unicast"

# Modules by name: the kernel's module tree appears at the usual place, so plain `modprobe X`
# and the kernel's autoload (request_module -> /sbin/modprobe) both work.
mkdir -p "/usr/lib/modules/$KVER"
mount --bind "$KMODDIR" "/usr/lib/modules/$KVER"
echo /sbin/modprobe > /proc/sys/kernel/modprobe
modprobe ip_vs || say "modprobe ip_vs FAILED"
modprobe ip_vs_rr || true
say "modules loaded"
for m in $EXTRA_MODULES; do modprobe "$m" || say "modprobe $m FAILED"; done

# NICs by MAC: the lab NIC becomes eth0, the management (user-net) NIC mgmt0.
lab= mgmt=
for d in /sys/class/net/*; do
  n=${d##*/}
  case "$(cat "$d/address")" in
    "$MAC") lab=$n ;;
    "$MGMT_MAC") mgmt=$n ;;
  esac
done
[ -n "$lab" ] && [ -n "$mgmt" ] || say "NIC not found (lab=$lab mgmt=$mgmt)"
ip link set "$lab" name lab-tmp0
ip link set "$mgmt" name mgmt0
ip link set lab-tmp0 name eth0
ip link set eth0 up
ip addr add "$ADDR/24" dev eth0
ip link set mgmt0 up
ip addr add "$MGMT_GUEST/28" dev mgmt0
say "network up"

# /var/lock -> /run/lock (and /var/run -> /run): recreate what the fresh /run lacks
mkdir -p /run/lock/subsys /run/user; chmod 1777 /run/lock

# syslog for ldirectord & co (/dev/log), kept in the VM's /var/log/messages
busybox syslogd -O /var/log/messages

mkdir -p /run/sshd /run/ssh
cp /run/lab/ssh_host_ed25519_key /run/ssh/
chmod 600 /run/ssh/ssh_host_ed25519_key
/usr/sbin/sshd -f /run/lab/sshd_config -E /var/log/sshd.log || say "sshd FAILED"

case " $SERVICES " in *" web "*)
  # the same services the namespace real servers run: HTTP :80 and UDP :53 answering the name
  setsid busybox httpd -f -p 80 -h /run/lab/www &
  setsid python3 /run/lab/udp-name.py "$NAME" &
esac
say "LAB-READY"
