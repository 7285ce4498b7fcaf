#!/usr/bin/env bash
# Prepares everything the QEMU end-to-end tests (tests/Integration.Tests/Qemu) need:
#   - a Debian trixie chroot with QEMU 11.1 from trixie-backports (the first QEMU whose generic
#     vhost-user device forwards a backend's SHMEM region, see shared spec VHOST-USER.md §1);
#   - the host's QEMU 10.0.x from bookworm-backports (/usr/bin/qemu-system-x86_64), for the
#     vhost-user-gpu-pci run under 10.0.2;
#   - a Debian 6.12 guest kernel (vmlinuz + the virtio-gpu module chain) from bookworm-backports;
#   - busybox-static and the static guest client, packed into an initramfs.
# Idempotent: reuses whatever already exists under the cache dir. Fails loudly on any error; CI never
# skips these tests, so a missing piece here must stop the run.
#
# Environment:
#   VHSAKMT_QEMU_CACHE   cache dir (default: <repo>/.cache/qemu, git-ignored)
#   VHSAKMT_APT_ARCHIVE  Debian archive URI (default: the one in this machine's apt sources)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${VHSAKMT_QEMU_CACHE:-$REPO/.cache/qemu}"
CHROOT="$CACHE/trixie"
KDIR="$CACHE/kernel"
START=$(date +%s)
mkdir -p "$CACHE"

log() { printf '[setup-qemu] %s\n' "$*" >&2; }
die() { printf '[setup-qemu] ERROR: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, apt)"

# --- the Debian archive this machine can reach (only the configured one is reachable) ---------------
archive_uri() {
    if [ -n "${VHSAKMT_APT_ARCHIVE:-}" ]; then echo "$VHSAKMT_APT_ARCHIVE"; return; fi
    local f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # one-line format: deb [opts] URI bookworm main
        uri=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) ~ /^(bookworm|trixie)$/) { print $i; exit } } }' "$f")
        # deb822 format: a stanza with "Suites: bookworm ..." and "URIs: ..."
        [ -n "$uri" ] || uri=$(awk 'BEGIN{RS="";FS="\n"} /Suites:[^\n]*(bookworm|trixie)( |$|\n)/ && !/security/ { for (i=1;i<=NF;i++) if ($i ~ /^URIs:/) { split($i,a," "); print a[2]; exit } }' "$f")
        if [ -n "$uri" ]; then echo "${uri%/}"; return; fi
    done
    die "no Debian archive found in the apt sources; set VHSAKMT_APT_ARCHIVE"
}
ARCHIVE="$(archive_uri)"
log "Debian archive: $ARCHIVE"

# --- host packages ---------------------------------------------------------------------------------
APT_UPDATED=0
apt_update_once() { if [ $APT_UPDATED = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi; }
need_host_pkgs=()
for p in debootstrap busybox-static cpio gzip xz-utils kmod gcc libc6-dev linux-libc-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_host_pkgs+=("$p")
done
if [ ${#need_host_pkgs[@]} -gt 0 ]; then
    log "installing host packages: ${need_host_pkgs[*]}"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_host_pkgs[@]}" >/dev/null
fi
[ -x /bin/busybox ] || die "busybox-static did not provide /bin/busybox"

# --- (a) trixie chroot with QEMU 11.1 --------------------------------------------------------------
chroot_qemu_version() { chroot "$CHROOT" qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p'; }
if [ -x "$CHROOT/usr/bin/qemu-system-x86_64" ] && [ -f "$CHROOT/.vhsakmt-ready" ]; then
    log "reusing chroot $CHROOT (QEMU $(chroot_qemu_version))"
else
    t0=$(date +%s)
    if [ ! -x "$CHROOT/usr/bin/apt-get" ] || [ ! -f "$CHROOT/.vhsakmt-debootstrap-done" ]; then
        rm -rf "$CHROOT"
        log "debootstrap trixie into $CHROOT"
        debootstrap --variant=minbase trixie "$CHROOT" "$ARCHIVE" >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
        touch "$CHROOT/.vhsakmt-debootstrap-done"
    fi
    cat >"$CHROOT/etc/apt/sources.list" <<EOF
deb $ARCHIVE trixie main
deb $ARCHIVE trixie-backports main
EOF
    # dpkg maintainer scripts want /proc; unmount it again whatever happens.
    mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
    trap 'umount "$CHROOT/proc" 2>/dev/null || true' EXIT
    log "installing qemu-system-x86 from trixie-backports in the chroot"
    chroot "$CHROOT" apt-get update -qq
    chroot "$CHROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie-backports \
        --no-install-recommends qemu-system-x86 >"$CACHE/qemu-install.log" 2>&1 \
        || { tail -n 30 "$CACHE/qemu-install.log" >&2; die "QEMU install in the chroot failed"; }
    chroot "$CHROOT" apt-get clean
    umount "$CHROOT/proc"; trap - EXIT
    touch "$CHROOT/.vhsakmt-ready"
    log "chroot built in $(( $(date +%s) - t0 )) s"
fi
QV="$(chroot_qemu_version)"
case "$QV" in
    11.[1-9]*|1[2-9].*) ;;
    *) die "QEMU in the chroot is '$QV'; need >= 11.1 (the generic vhost-user device with SHMEM)";;
esac
chroot "$CHROOT" qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vhost-user-test-device-pci"' \
    || die "QEMU $QV in the chroot has no vhost-user-test-device-pci"

# --- (a2) host QEMU 10.0.x from bookworm-backports (issue 10: the vhost-user-gpu-pci run under 10.0.2) ---
host_qemu_version() { /usr/bin/qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p'; }
HQV="$(host_qemu_version)"
case "$HQV" in
    10.0.*) log "reusing host QEMU $HQV";;
    *)
        if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
            log "adding bookworm-backports to apt sources"
            echo "deb $ARCHIVE bookworm-backports main" >/etc/apt/sources.list.d/vhsakmt-bookworm-backports.list
            APT_UPDATED=0
        fi
        apt_update_once
        log "installing qemu-system-x86 10.0.x from bookworm-backports on the host"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports --no-install-recommends \
            qemu-system-x86 >"$CACHE/host-qemu-install.log" 2>&1 \
            || { tail -n 30 "$CACHE/host-qemu-install.log" >&2; die "host QEMU install from bookworm-backports failed"; }
        HQV="$(host_qemu_version)"
        case "$HQV" in
            10.0.*) ;;
            *) die "host QEMU is '$HQV' after the install; need 10.0.x from bookworm-backports";;
        esac;;
esac
/usr/bin/qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vhost-user-gpu-pci"' \
    || die "host QEMU $HQV has no vhost-user-gpu-pci"

# --- (b) guest kernel 6.12 and the virtio-gpu module chain -----------------------------------------
MODULES="drm drm_kms_helper drm_shmem_helper virtio_dma_buf virtio-gpu"
if [ -f "$KDIR/vmlinuz" ] && [ -f "$KDIR/modules.order" ]; then
    log "reusing kernel $(cat "$KDIR/version")"
else
    t0=$(date +%s)
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        log "adding bookworm-backports to apt sources"
        echo "deb $ARCHIVE bookworm-backports main" >/etc/apt/sources.list.d/vhsakmt-bookworm-backports.list
        APT_UPDATED=0
    fi
    apt_update_once
    PKG=$(apt-cache pkgnames linux-image-6.12 | grep -E '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' | sort -V | tail -n 1)
    [ -n "$PKG" ] || die "no linux-image-6.12*-amd64-unsigned package in the apt sources"
    log "guest kernel package: $PKG"
    rm -rf "$KDIR"; mkdir -p "$KDIR/deb" "$KDIR/modules"
    (cd "$KDIR/deb" && apt-get -o APT::Sandbox::User=root download -qq "$PKG") || die "apt-get download $PKG failed"
    dpkg-deb -x "$KDIR"/deb/*.deb "$KDIR/root"
    KVER=$(ls "$KDIR/root/lib/modules" | head -n 1)
    cp "$KDIR/root/boot/vmlinuz-$KVER" "$KDIR/vmlinuz"
    # Resolve each module's dependencies (modinfo depends) so they load first, in order.
    declare -A seen=()
    order=()
    add_module() {
        local name="$1" path dep
        name="${name//-/_}"
        [ -n "${seen[$name]:-}" ] && return
        seen[$name]=1
        path=$(find "$KDIR/root/lib/modules/$KVER" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -n 1)
        [ -n "$path" ] || die "module $name not found in $PKG"
        for dep in $(modinfo -F depends "$path" | tr ',' ' '); do add_module "$dep"; done
        cp "$path" "$KDIR/modules/"
        order+=("$(basename "$path")")
    }
    for m in $MODULES; do add_module "$m"; done
    printf '%s\n' "${order[@]}" >"$KDIR/modules.order"
    echo "$KVER" >"$KDIR/version"
    rm -rf "$KDIR/root" "$KDIR/deb"
    log "kernel $KVER extracted in $(( $(date +%s) - t0 )) s; modules: ${order[*]}"
fi

# --- kernel uapi headers 6.12 (drm/virtgpu_drm.h with blob, context-init and ring-index ioctls) -----
# Debian's bookworm linux-libc-dev (6.1) ships no drm/ headers; bookworm-backports' 6.12 one does. It is
# unpacked into the cache, not installed, so the host's own headers stay as they are.
UAPI="$CACHE/uapi"
if [ -f "$UAPI/usr/include/drm/virtgpu_drm.h" ]; then
    log "reusing uapi headers $(cat "$UAPI/version")"
else
    apt_update_once
    rm -rf "$UAPI"; mkdir -p "$UAPI/deb"
    (cd "$UAPI/deb" && apt-get -o APT::Sandbox::User=root download -qq linux-libc-dev/bookworm-backports) \
        || die "apt-get download linux-libc-dev/bookworm-backports failed"
    dpkg-deb -x "$UAPI"/deb/*.deb "$UAPI"
    dpkg-deb -f "$UAPI"/deb/*.deb Version >"$UAPI/version"
    rm -rf "$UAPI/deb"
    grep -q VIRTGPU_EXECBUF_RING_IDX "$UAPI/usr/include/drm/virtgpu_drm.h" \
        || die "linux-libc-dev $(cat "$UAPI/version") has no ring-index execbuffer"
    log "uapi headers $(cat "$UAPI/version") unpacked"
fi

# --- (c) static guest client + initramfs -----------------------------------------------------------
"$REPO/tests/qemu-guest/build.sh" "$CACHE/guest" "$KDIR" "$UAPI/usr/include"

log "ready in $(( $(date +%s) - START )) s:"
log "  QEMU      $QV  ($CHROOT)"
log "  host QEMU $HQV  (/usr/bin/qemu-system-x86_64)"
log "  kernel    $(cat "$KDIR/version")  ($KDIR/vmlinuz)"
log "  modules   $(tr '\n' ' ' <"$KDIR/modules.order")"
log "  initramfs $CACHE/guest/initramfs.cpio.gz ($(stat -c %s "$CACHE/guest/initramfs.cpio.gz") bytes)"
