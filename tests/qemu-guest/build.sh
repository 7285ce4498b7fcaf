#!/usr/bin/env bash
# Builds the end-to-end guest: the static client (gcc -static against the 6.12 kernel uapi headers)
# and an initramfs (cpio newc + gzip) with busybox-static, the virtio-gpu module chain (decompressed,
# so busybox insmod needs no xz support) and init.sh as /init.
# usage: build.sh OUT_DIR KERNEL_DIR UAPI_INCLUDE_DIR
#   KERNEL_DIR holds modules/*.ko.xz and modules.order (from .ci/setup-qemu.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:?out dir}"; KDIR="${2:?kernel dir}"; UAPI="${3:?uapi include dir}"
mkdir -p "$OUT"
[ -f "$UAPI/drm/virtgpu_drm.h" ] || { echo "build.sh: $UAPI/drm/virtgpu_drm.h missing" >&2; exit 1; }

gcc -static -O2 -Wall -Wextra -Werror -std=gnu11 -I"$UAPI" -o "$OUT/vhsakmt-guest" "$HERE/vhsakmt-guest.c"

ROOT="$OUT/root"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
install -m 0755 "$HERE/init.sh" "$ROOT/init"
install -m 0755 "$OUT/vhsakmt-guest" "$ROOT/vhsakmt-guest"
: >"$ROOT/lib/modules/order"
while read -r m; do
    [ -n "$m" ] || continue
    xz -dc "$KDIR/modules/$m" >"$ROOT/lib/modules/${m%.xz}"
    echo "${m%.xz}" >>"$ROOT/lib/modules/order"
done <"$KDIR/modules.order"
(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$OUT/initramfs.cpio.gz.tmp"
mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
rm -rf "$ROOT"
echo "build.sh: $OUT/initramfs.cpio.gz ($(stat -c %s "$OUT/initramfs.cpio.gz") bytes)" >&2
