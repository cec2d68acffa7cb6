#!/bin/sh
# The tests, each in two halves: dom0 runs its halves in order, the domU
# runs its own in the same order. The vchan rendezvous itself pairs the
# halves; every test uses its own xenstore path, so a failed one cannot
# confuse the next. The domU reports each half's exit status and last
# message in xenstore (its data/xv/NAME), and dom0 prints one verdict line
# per test on the serial console:  XV_TEST NAME PASS|FAIL details.
#
# usage: guest.sh dom0 | domu          run all halves of this domain
#        guest.sh half NAME ROLE PEER  run one half (under timeout)
export PATH=/xv:/sbin:/bin:/usr/sbin:/usr/bin:/usr/lib/xen-4.17/bin

MIB4=4194304
HALF_TIMEOUT=120

up() { cut -d' ' -f1 /proc/uptime; }

# xswait PATH SECONDS : print the node's value once it exists
xswait() {
	local i=0
	while [ $i -lt $(($2 * 10)) ]; do
		xenstore-read "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# stream SERVER_ROLE SIZE [PEER-PROGRAMS] : both directions at once, 4 MiB
# each way, verified; the client uses blocking threads, the server the
# non-blocking poll loop, so both of xvchan's modes meet a real peer.
stream() {
	local srv=$1 size=$2 sprog=${3:-xvchan-peer} cprog=${4:-xvchan-peer}
	local p
	if [ "$srv" = dom0 ]; then
		p=/local/domain/0/data/xv-$NAME
	else
		p=/local/domain/$DOMU/data/xv-$NAME
	fi
	if [ "$ROLE" = "$srv" ]; then
		$sprog --server --domid "$PEER" --path "$p" --read-size "$size" \
			--write-size "$size" --send $MIB4 --expect $MIB4 \
			--tx-seed 1 --rx-seed 2 --timeout 100
	else
		$cprog --client --domid "$PEER" --path "$p" --send $MIB4 \
			--expect $MIB4 --tx-seed 2 --rx-seed 1 --timeout 100 \
			$([ "$cprog" = xvchan-peer ] && echo --threads)
	fi
}

# ---- the tests: t_NAME runs this domain's half of NAME
t_ring_1k_dom0_srv() { stream dom0 1024; }
t_ring_1k_domu_srv() { stream domu 1024; }
t_ring_4k_dom0_srv() { stream dom0 4096; }
t_ring_4k_domu_srv() { stream domu 4096; }
t_ring_64k_dom0_srv() { stream dom0 65536; }
t_ring_64k_domu_srv() { stream domu 65536; }
t_ring_1m_dom0_srv() { stream dom0 1048576; }
t_ring_1m_domu_srv() { stream domu 1048576; }

TESTS="ring_1k_dom0_srv ring_1k_domu_srv ring_4k_dom0_srv ring_4k_domu_srv
ring_64k_dom0_srv ring_64k_domu_srv ring_1m_dom0_srv ring_1m_domu_srv"

# ---- the drivers
if [ "$1" = half ]; then
	NAME=$2 ROLE=$3 PEER=$4
	DOMU=$PEER
	[ "$ROLE" = domu ] && DOMU=$(xenstore-read domid)
	"t_$NAME"
	exit $?
fi

ROLE=$1
if [ "$ROLE" = domu ]; then
	SELF=$(xenstore-read domid)
	echo "XV_STAGE domu $SELF up at $(up)"
	for NAME in $TESTS; do
		timeout $HALF_TIMEOUT /xv/guest.sh half "$NAME" domu 0 \
			>/tmp/out 2>&1
		rc=$?
		# The last line is the program's own summary or complaint.
		msg=$(tail -n 1 /tmp/out | cut -c1-200)
		sed "s/^/XV_MSG $NAME: /" /tmp/out
		xenstore-write "data/xv/$NAME" "$rc $msg"
	done
	exit 0
fi

count=0
for NAME in $TESTS; do count=$((count + 1)); done
echo "XV_PLAN $count"
cat > /tmp/domu.cfg <<EOF
name = "xv-domu"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 quiet xv_role=domu"
memory = 256
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
EOF
echo "XV_STAGE xl create at $(up)"
xl create /tmp/domu.cfg >/tmp/xl.out 2>&1 || { cat /tmp/xl.out; echo "XV_WARN xl create failed"; }
DOMU=$(xl domid xv-domu)
echo "XV_STAGE domU $DOMU created at $(up)"

for NAME in $TESTS; do
	t=$(up)
	timeout $HALF_TIMEOUT /xv/guest.sh half "$NAME" dom0 "$DOMU" >/tmp/out 2>&1
	rc=$?
	msg=$(tail -n 1 /tmp/out | cut -c1-200)
	sed "s/^/XV_MSG $NAME: /" /tmp/out
	peer=$(xswait "/local/domain/$DOMU/data/xv/$NAME" $HALF_TIMEOUT) ||
		peer="- domU never reported"
	prc=${peer%% *}
	if [ "$rc" = 0 ] && [ "$prc" = 0 ]; then v=PASS; else v=FAIL; fi
	echo "XV_TEST $NAME $v dom0=[$rc $msg] domU=[$peer] ($t..$(up) s)"
done

echo "---- domU console ----"
sed 's/^/domU| /' /var/log/xen/console/guest-xv-domu.log
echo "---- end of domU console ----"
