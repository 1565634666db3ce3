#!/usr/bin/env bash
# Install what the lab needs. Idempotent, and fast when everything is already there.
#  1. Debian packages (apt), skipped when all are installed.
#  2. Debian's kernel (linux-image-amd64 -> linux-image-6.1.0-NN-amd64), `apt-get download`ed and
#     unpacked into $LVSPLAY_LAB_CACHE (default /var/cache/lvsplay-lab), depmod'ed there.
#  3. The initramfs (static busybox + vm-init.sh as /init + the virtio/9p/overlay/ext4 modules).
#  4. The qemu accelerator probe (KVM if it really boots, else TCG), cached.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || die "install.sh must run as root"
export DEBIAN_FRONTEND=noninteractive

# ---- 1. packages -------------------------------------------------------------------------------
missing=""
for p in $REQUIRED_PKGS; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done
if [ -n "$missing" ]; then
  log "installing:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $REQUIRED_PKGS
else
  log "packages: all present"
fi

# ---- 2. kernel ---------------------------------------------------------------------------------
mkdir -p "$LAB_CACHE"
resolve_kpkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1=="Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ {print $2; exit}'
}
KPKG=$(resolve_kpkg || true)
if [ -z "$KPKG" ]; then
  log "linux-image-amd64 not in the apt lists; apt-get update"
  apt-get update -qq
  KPKG=$(resolve_kpkg)
fi
[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a versioned kernel package"
KVER=${KPKG#linux-image-}
KROOT="$LAB_CACHE/kernel/$KPKG"

if [ -f "$KROOT/.done" ]; then
  log "kernel: $KPKG already unpacked"
else
  log "kernel: downloading $KPKG"
  rm -rf "$KROOT" "$LAB_CACHE/dl"
  mkdir -p "$LAB_CACHE/dl" "$KROOT"
  (cd "$LAB_CACHE/dl" && apt-get download -qq "$KPKG" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  deb=$(ls "$LAB_CACHE"/dl/"$KPKG"_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || die "apt-get download $KPKG produced no .deb"
  dpkg-deb -x "$deb" "$KROOT"
  rm -rf "$LAB_CACHE/dl"
  depmod -b "$KROOT" "$KVER"
  touch "$KROOT/.done"
fi
# Older kernels (linux-image-amd64 moved on): drop them, unless a lab is running (its VMs load
# modules from their kernel's tree).
if [ ! -e "$LAB_DIR/state" ]; then
  for old in "$LAB_CACHE"/kernel/*; do
    [ -d "$old" ] && [ "$old" != "$KROOT" ] && { log "kernel: removing old $(basename "$old")"; rm -rf "$old"; }
  done
fi
KIMAGE="$KROOT/boot/vmlinuz-$KVER"
KMODDIR="$KROOT/lib/modules/$KVER"
[ -f "$KIMAGE" ] || die "no kernel image at $KIMAGE"
[ -f "$KMODDIR/modules.dep" ] || depmod -b "$KROOT" "$KVER"
for m in ip_vs ip_vs_rr ipip virtio_net virtio_blk overlay 9p ext4; do
  modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" >/dev/null || die "kernel $KVER lacks module $m"
done

# ---- 3. initramfs -------------------------------------------------------------------------------
# Module load order comes from modprobe --show-depends (dependencies first), so no hand-kept list.
# virtio_blk + ext4: the VM's own disk (the upper layer of its root). crc32c_generic: ext4's
# checksums; the CPU-specific crc32c-intel that --show-depends also lists fails under TCG's CPU
# model (no SSE4.2), so it is left out (INITRD_SKIP).
INITRD_MODS="virtio_pci virtio_net virtio_rng virtio_blk 9pnet_virtio 9p overlay crc32c_generic ext4"
INITRD_SKIP="crc32c-intel.ko"
want_sum=$( { cat "$LAB_SRC/vm-init.sh" /bin/busybox; echo "$KVER $INITRD_MODS / $INITRD_SKIP"; } | sha256sum | cut -d' ' -f1)
if [ -f "$LAB_CACHE/initrd.gz" ] && [ "$(cat "$LAB_CACHE/initrd.sum" 2>/dev/null)" = "$want_sum" ]; then
  log "initramfs: up to date"
else
  log "initramfs: building"
  t=$(mktemp -d "$LAB_CACHE/initrd.XXXXXX")
  mkdir -p "$t"/{bin,dev,proc,sys,newroot,lower,disk,modules}
  cp /bin/busybox "$t/bin/busybox"
  cp "$LAB_SRC/vm-init.sh" "$t/init"
  chmod 755 "$t/init"
  : > "$t/modules/order"
  for m in $INITRD_MODS; do
    modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}' |
    while read -r ko; do
      b=$(basename "$ko")
      case " $INITRD_SKIP " in *" ${b%.xz} "*|*" ${b%.zst} "*) continue ;; esac
      grep -qx "$b" "$t/modules/order" && continue
      case "$ko" in
        *.ko) cp "$ko" "$t/modules/$b" ;;
        *.ko.xz) xz -dc "$ko" > "$t/modules/${b%.xz}"; b=${b%.xz} ;;
        *.ko.zst) zstd -qdc "$ko" > "$t/modules/${b%.zst}"; b=${b%.zst} ;;
        *) die "unexpected module file $ko" ;;
      esac
      grep -qx "$b" "$t/modules/order" || echo "$b" >> "$t/modules/order"
    done
  done
  (cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) > "$LAB_CACHE/initrd.gz.tmp"
  mv "$LAB_CACHE/initrd.gz.tmp" "$LAB_CACHE/initrd.gz"
  echo "$want_sum" > "$LAB_CACHE/initrd.sum"
  log "initramfs: modules $(tr '\n' ' ' < "$t/modules/order")"
  rm -rf "$t"
fi

cat > "$LAB_CACHE/kernel.env.tmp" <<EOF
KPKG=$KPKG
KVER=$KVER
KIMAGE=$KIMAGE
KMODDIR=$KMODDIR
EOF
mv "$LAB_CACHE/kernel.env.tmp" "$LAB_CACHE/kernel.env"

# ---- 4. accelerator ----------------------------------------------------------------------------
accel=$(bash "$LAB_SRC/accel.sh")
log "ready: kernel $KVER, accelerator $accel, cache $LAB_CACHE"
