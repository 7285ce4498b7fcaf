#!/bin/sh
# /init of the end-to-end guest: mounts the kernel filesystems, loads the virtio-gpu module chain in
# order, runs N guest clients at once (each its own DRM file = its own virtio-gpu context), prints
# the kernel's virtio-gpu lines for diagnosis, then powers off. Parameters on the kernel command line:
#   vhsakmt.vm=<name>       tag prefix of the clients' report lines (default vm)
#   vhsakmt.clients=<n>     clients started at once (default 1)
#   vhsakmt.hold=<seconds>  how long each client keeps its objects after its last step (default 3)
#   vhsakmt.crash=<step>    every client SIGKILLs itself right after that step (default: none)
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
exec </dev/console >/dev/console 2>&1

vm=vm; clients=1; hold=3; crash=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        vhsakmt.vm=*) vm="${arg#*=}";;
        vhsakmt.clients=*) clients="${arg#*=}";;
        vhsakmt.hold=*) hold="${arg#*=}";;
        vhsakmt.crash=*) crash="${arg#*=}";;
    esac
done
echo "@@vhsakmt $vm-init BOOT kernel=$(uname -r) clients=$clients"

for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m" || echo "@@vhsakmt $vm-init FAIL insmod $m"
done

# The driver probes asynchronously (GET_CAPSET_INFO alone may take seconds under TCG): wait for the
# render node, but only if a virtio-gpu PCI function (1af4:1050) exists at all.
has_gpu=0
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1050 ] && has_gpu=1
done
echo "@@vhsakmt $vm-init INFO virtio_gpu_pci=$has_gpu"
i=0
while [ $has_gpu = 1 ] && [ ! -e /dev/dri/renderD128 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done

pids=""
n=1
while [ $n -le "$clients" ]; do
    /vhsakmt-guest "$vm-c$n" "$hold" "$crash" &
    pids="$pids $!"
    n=$((n + 1))
done
for p in $pids; do wait "$p"; done
# Give the guest kernel's deferred release work (CTX_DETACH/UNREF/CTX_DESTROY of exited clients) time to
# reach the host before the VM goes away.
sleep 1

dmesg | grep -i -E 'virtio|drm|\[drm\]' | sed 's/^/@@dmesg /'
echo "@@vhsakmt $vm-init DONE"
poweroff -f
