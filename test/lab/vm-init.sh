#!/bin/busybox sh
# initramfs /init for the lab VMs (runs the initramfs's static busybox).
# Root = overlayfs: the host's / (9p, read-only) under a tmpfs upper layer, so everything in the VM
# is writable (/etc, /var/lib, /root, ...) and nothing reaches the host. Fresh tmpfs on /run, /tmp,
# /var/log, /var/tmp. The per-VM lab dir (9p tag "lab", read-write) is mounted at /run/lab.
# Then busybox init (host's /bin/busybox) runs /run/lab/stage2.sh as sysinit and reaps orphans.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() { echo "lab-init: FAILED: $*"; sleep 1; echo o > /proc/sysrq-trigger; sleep 5; }

while read -r m; do
  insmod "/modules/$m" || fail "insmod $m"
done < /modules/order

case " $(cat /proc/cmdline) " in
  *" lab.probe "*) echo "LAB-PROBE-USERSPACE"; echo o > /proc/sysrq-trigger; sleep 5 ;;
esac

O9P="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "ro,$O9P,cache=loose" root /lower || fail "9p root"
mount -t tmpfs -o mode=755,size=75% upper /upper || fail "tmpfs upper"
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot ||
  fail "overlay root"

R=/newroot
mount -t tmpfs -o mode=755,nosuid,nodev run $R/run || fail "tmpfs /run"
mkdir -p $R/run/lab
mount -t 9p -o "$O9P,cache=none" lab $R/run/lab || fail "9p lab"
for d in tmp var/tmp; do mount -t tmpfs -o mode=1777,nosuid,nodev tmp $R/$d; done
mount -t tmpfs -o mode=755 log $R/var/log
mount --move /dev $R/dev
mount --move /proc $R/proc
mount --move /sys $R/sys
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 shm $R/dev/shm

cat > $R/etc/inittab <<'EOF'
::sysinit:/run/lab/stage2.sh
EOF
exec switch_root $R /bin/busybox init
