#!/bin/busybox sh
# initramfs /init for the lab VMs (runs the initramfs's static busybox), on every boot of a VM.
# Root = overlayfs: the machine's / (9p, read-only) as the lower layer, under an upper layer on the
# VM's own disk (/dev/vda, ext4, made by vm-disk.sh), so whatever the VM writes (/etc, /var/lib,
# the journal, ...) stays on its disk across its reboots, and nothing reaches the machine.
# Then systemd becomes PID 1, as on a real Debian host; it mounts /run, /tmp and the rest itself.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# On failure: say why on the console, then power off, so that qemu exits and lab:up stops waiting.
fail() { echo "lab-init: FAILED: $*"; sleep 1; echo o > /proc/sysrq-trigger; sleep 5; }

while read -r m; do
  insmod "/modules/$m" || fail "insmod $m"
done < /modules/order

case " $(cat /proc/cmdline) " in
  *" lab.probe "*) echo "LAB-PROBE-USERSPACE"; echo o > /proc/sysrq-trigger; sleep 5 ;;
esac

mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose root /lower || fail "9p root"
# noatime: reads through the overlay would otherwise write atimes to the disk
mount -t ext4 -o noatime /dev/vda /disk || fail "ext4 on /dev/vda"
[ -d /disk/u ] && [ -d /disk/w ] || fail "/dev/vda has no u/ (upper) and w/ (work) directories"
# index/metacopy/redirect_dir/xino off: the lower (the machine's /) changes between boots, and
# overlayfs may only rely on file handles and redirects of an unchanging lower.
mount -t overlay overlay \
  -o lowerdir=/lower,upperdir=/disk/u,workdir=/disk/w,index=off,metacopy=off,redirect_dir=off,xino=off \
  /newroot || fail "overlay root"

mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /lib/systemd/systemd
