#!/bin/sh
# /init of every domain (busybox sh). dom0 brings up the Xen tools, starts
# the domU and runs the tests' dom0 halves; the domU (xv_role=domu on its
# kernel command line) runs the domU halves; a second guest that one test
# builds (xv_role=gpeer) serves the domU and is destroyed. Everything goes
# to hvc0: Xen's serial console for dom0, xenconsoled's logs for guests.
export PATH=/xv:/sbin:/bin:/usr/sbin:/usr/bin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /run /tmp /var
mount -t devpts devpts /dev/pts
for d in /run /tmp /var; do mount -t tmpfs tmpfs $d; done
ln -s /run /var/run
mkdir -p /run/xen /run/xenstored /var/lib/xenstored /var/lib/xen \
	/var/log/xen/console /var/lock

ROLE=dom0
grep -q 'xv_role=domu' /proc/cmdline && ROLE=domu
grep -q 'xv_role=gpeer' /proc/cmdline && ROLE=gpeer

M=/lib/modules/$(uname -r)/kernel/drivers/xen
# Linux's privcmd refuses a domU's hypercalls unless told otherwise: the
# domU lets them through, so that its vchan ends can ask their ports'
# status (guest_peer_death); xv-gpeer keeps the default refusal, and its
# server must go on without.
PRIVCMD_ARGS=
[ "$ROLE" = domu ] && PRIVCMD_ARGS=unrestricted=1
# xenfs needs xen-privcmd first; nothing else depends on anything
insmod $M/xen-privcmd.ko $PRIVCMD_ARGS || echo "XV_WARN insmod xen-privcmd failed"
for m in xenfs/xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	insmod $M/$m.ko || echo "XV_WARN insmod $m failed"
done
mount -t xenfs xenfs /proc/xen

if [ "$ROLE" != dom0 ]; then
	/xv/guest.sh $ROLE
	echo "XV_DOMU_EXIT $?"
	# dom0 destroys this domain (the domU in its last test); until then
	# stay quiet
	while :; do sleep 1000; done
fi

# The C xenstored needs only libc; xen-init-dom0 then writes
# /local/domain/0/domid, which vchan servers read for node permissions.
xenstored --pid-file /run/xen/xenstored.pid || echo "XV_WARN xenstored failed"
i=0
while [ ! -f /run/xen/xenstored.pid ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
xen-init-dom0 >/dev/null || echo "XV_WARN xen-init-dom0 failed"
xenconsoled --log=guest --log-dir=/var/log/xen/console \
	--pid-file=/run/xen/xenconsoled.pid || echo "XV_WARN xenconsoled failed"

/xv/guest.sh dom0
echo "XV_DONE $?"
sync
# Xen resets the machine and QEMU, started with -no-reboot, exits
reboot -f
sleep 100
