#!/bin/sh
# The tests, each in two halves: dom0 runs its halves in order, the domU
# runs its own in the same order. The vchan rendezvous itself pairs the
# halves; every test uses its own xenstore path, so a failed one cannot
# confuse the next. The domU reports each half's exit status and last
# message in xenstore (its data/xv/NAME), and dom0 prints one verdict line
# per test on the serial console:  XV_TEST NAME PASS|FAIL details.
#
# usage: guest.sh dom0 | domu          run all halves of this domain
#        guest.sh gpeer                serve the domU from a second guest
#        guest.sh half NAME ROLE PEER  run one half (under timeout)
export PATH=/xv:/sbin:/bin:/usr/sbin:/usr/bin:/usr/lib/xen-4.17/bin

MIB1=1048576
MIB4=4194304
HALF_TIMEOUT=90

# limit NAME : seconds one half of NAME may take
limit() {
	case "$1" in
	xs_guest_view) echo 300;;	# 2000 xenstore requests
	xs_guest_release) echo 420;;	# two domains built
	guest_peer_death) echo 400;;	# a second guest built and booted
	bench_quick) echo 1800;;
	*) echo $HALF_TIMEOUT;;
	esac
}

up() { cut -d' ' -f1 /proc/uptime; }

# xswait PATH SECONDS : print the node's value once it exists. Seconds
# of uptime: a pass of this loop takes far longer than its 0.1 s sleep
# under TCG.
xswait() {
	local end
	end=$(awk -v t="$(up)" -v s="$2" 'BEGIN { print t + s }')
	while awk -v a="$(up)" -v b="$end" 'BEGIN { exit !(a + 0 < b + 0) }'; do
		xenstore-read "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stream SERVER_ROLE SIZE [SERVER-PROGRAM CLIENT-PROGRAM] : both
# directions at once, verified: 4 MiB each way, 1 MiB through rings under
# 64 KiB (an event every ring-full is slow under TCG). xvchan's server runs the
# non-blocking poll loop and its client blocking threads, unless SRV_ARGS
# or CLI_ARGS say otherwise (xenvchan-peer has only one mode).
stream() {
	local srv=$1 size=$2 sprog=${3:-xvchan-peer} cprog=${4:-xvchan-peer}
	local p=/local/domain/0/data/xv-$NAME n=$MIB4
	[ "$srv" = domu ] && p=/local/domain/$DOMU/data/xv-$NAME
	[ "$size" -lt 65536 ] && n=$MIB1
	if [ "$ROLE" = "$srv" ]; then
		$sprog --server --domid "$PEER" --path "$p" --read-size "$size" \
			--write-size "$size" --send $n --expect $n \
			--tx-seed 1 --rx-seed 2 --timeout 60 ${SRV_ARGS:-}
	else
		[ "$cprog" = xvchan-peer ] && CLI_ARGS=${CLI_ARGS---threads}
		$cprog --client --domid "$PEER" --path "$p" --send $n \
			--expect $n --tx-seed 2 --rx-seed 1 --timeout 60 \
			${CLI_ARGS:-}
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
# the same at 64 KiB with both ends in one mode, to tell the modes apart
t_ring_64k_both_poll() { CLI_ARGS= stream dom0 65536; }
t_ring_64k_both_threads() { SRV_ARGS=--threads stream dom0 65536; }

# dom0 alone: Xen's grant and event-channel semantics that the simulator
# copies, on the real drivers (tests/sim/test-sim-grants.c is the twin)
t_xen_grants() { XV_XEN_DOMU=$PEER test-xen-grants; }
t_xen_evtchn() { test-xen-evtchn; }
# the real C xenstored against the simulator's store (tests/xenstored/)
t_xen_xenstore() { XV_XEN_DOMU=$PEER test-xen-xenstore; }
# ... and as the domU sees it (the guest-side rules of tests/xenstored/);
# dom0 acts for its watch tests, in their order, when the domU is ready.
t_xs_guest_view() {
	if [ "$ROLE" = domu ]; then
		local rc
		CK_RUN_CASE=guest CK_VERBOSITY=verbose test-xen-xenstore-guest
		rc=$?
		# A failed quota test leaves up to 1000 nodes: the domU's own
		# reports would not fit beside them.
		xenstore-rm data/xv-x 2>/dev/null
		return $rc
	fi
	local s=/local/domain/0/data/xv-spy d=/local/domain/$DOMU/data
	xswait $d/xv-spy-ready 240 >/dev/null ||
		{ echo "the domU never set its spy watch"; return 1; }
	xenstore-write $s/p/private x &&
	xenstore-write $s/shared "" &&
	xenstore-chmod $s/shared n0 r$DOMU &&
	xenstore-write $s/shared/h "" &&
	xenstore-chmod $s/shared/h n0 &&
	xenstore-write $s/shared/h y &&
	xenstore-write $s/shared/end "" || return 1
	echo "spy steps done at $(up) s; judged in the domU"
}
# @releaseDomain as the domU hears it; needs xs_guest_view's nodes
t_xs_guest_release() {
	if [ "$ROLE" = domu ]; then
		CK_RUN_CASE=release CK_VERBOSITY=verbose test-xen-xenstore-guest
		return
	fi
	local s=/local/domain/0/data/xv-spy d=/local/domain/$DOMU/data
	# Every 10 s for 2 minutes, straight to the console: is xenstored
	# alive, where does it wait, does it answer; if a run stalls here
	# again (docs/xen.md), this tells whether xenstored is the cause.
	(
		i=0
		while [ $i -lt 12 ]; do
			sleep 10
			i=$((i + 1))
			x=$(pidof xenstored)
			a="does not answer"
			timeout 5 xenstore-read domid >/dev/null 2>&1 && a=answers
			echo "XV_DIAG $(up) s: xenstored ${x:-gone}" \
				"$(grep State /proc/$x/status 2>/dev/null)" \
				"wchan $(cat /proc/$x/wchan 2>/dev/null), $a" \
				> /dev/console
		done
	) &
	xswait $d/xv-release-ready 120 >/dev/null || {
		echo "xenstored: $(pidof xenstored || echo gone)," \
			"xenconsoled: $(pidof xenconsoled || echo gone)"
		echo "the domU never set its @releaseDomain watch"
		return 1
	}
	echo "the domU watches @releaseDomain; xenstored $(pidof xenstored)," \
		"xenconsoled $(pidof xenconsoled), at $(up) s"
	kill_a_domain && xenstore-write $s/shared/mark1 "" &&
	xenstore-chmod @releaseDomain n0 r$DOMU &&
	kill_a_domain && xenstore-write $s/shared/mark2 "" || return 1
	echo "@releaseDomain steps done at $(up) s; judged in the domU"
}

# Build a paused domain (128 MB: Debian's kernel alone needs 58) and
# destroy it; return once xenstored has fired
# @releaseDomain (dom0's own watch heard it), so that whatever the domU
# hears of it comes before dom0's next write.
kill_a_domain() {
	local w t0=$(up)
	echo "building a paused domain at $t0 s"
	timeout 200 xenstore-watch -n 2 @releaseDomain &
	w=$!
	cat > /tmp/tmp.cfg <<-EOF
	name = "xv-tmp"
	type = "pv"
	kernel = "/boot/vmlinuz"
	memory = 128
	vcpus = 1
	EOF
	xl create -p /tmp/tmp.cfg >/tmp/xl-tmp.out 2>&1 ||
		{ cat /tmp/xl-tmp.out; kill $w; echo "xl create -p failed"; return 1; }
	echo "built at $(up) s"
	xl destroy xv-tmp || { kill $w; return 1; }
	echo "destroyed at $(up) s"
	wait $w || { echo "dom0 heard no @releaseDomain"; return 1; }
	echo "a paused domain built and destroyed in $t0..$(up) s"
}

# xvchan-bench on the real drivers, both ends in dom0 (--xen): --smoke of
# the two vchan libraries in every run (all five transports took 57 s under
# TCG), so that the bench's Xen path is tested; --quick only on demand
# (XVCHAN_XEN_BENCH=quick), for the table in docs/performance.md.
t_bench_smoke() { xvchan-bench --xen --smoke --transports xvchan,libxenvchan; }
# Last, with the domU idle; dom0 alone (93 s on an idle host).
t_bench_quick() {
	[ "$ROLE" = domu ] && return 0
	xvchan-bench --xen --quick 2>&1
}

# libxenvchan at both ends: the control for the harness and the platform
t_lib_lib_dom0_srv() { stream dom0 4096 xenvchan-peer xenvchan-peer; }
t_lib_lib_64k_domu_srv() { stream domu 65536 xenvchan-peer xenvchan-peer; }
t_lib_lib_1m_dom0_srv() { stream dom0 1048576 xenvchan-peer xenvchan-peer; }
t_lib_lib_1m_domu_srv() { stream domu 1048576 xenvchan-peer xenvchan-peer; }
# xvchan against Debian's libxenvchan, each library in each role
t_xv_srv_dom0_lib_cli() { stream dom0 65536 xvchan-peer xenvchan-peer; }
t_lib_srv_dom0_xv_cli() { stream dom0 65536 xenvchan-peer xvchan-peer; }
t_xv_srv_domu_lib_cli() { stream domu 4096 xvchan-peer xenvchan-peer; }
t_lib_srv_domu_xv_cli() { stream domu 4096 xenvchan-peer xvchan-peer; }

# late SERVER_ROLE : the client has to wait for its server through a
# xenstore watch, the domU's on /dev/xen/xenbus, dom0's on xenstored's
# socket (xs/raw.c speaks the wire protocol on either). The client's half
# says it is starting; the server's half starts 3 s after it saw that. The
# client's time counts from before its connect, so it shows the wait.
late() {
	local flag=/local/domain/$DOMU/data/xv/$NAME-client rc t
	if [ "$ROLE" = "$1" ]; then
		xswait "$flag" 60 >/dev/null ||
			{ echo "the client's half never started"; return 1; }
		sleep 3
		stream "$1" 65536
		return
	fi
	xenstore-write "$flag" starting || return 1
	stream "$1" 65536 2>/tmp/late.err
	rc=$?
	cat /tmp/late.err
	[ "$rc" = 0 ] || return "$rc"
	t=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' /tmp/late.err | tail -n 1)
	awk -v t="${t:-0}" 'BEGIN { exit !(t >= 2.0) }' || {
		echo "the client found its server at once (in ${t:-?} s): it never waited"
		return 1
	}
	echo "the client waited for its server: connected and done in $t s"
}
t_late_dom0_srv() { late dom0; }
t_late_domu_srv() { late domu; }

# xvchan-demo: greeting, 4 MiB each way, half-close, read to the end, close
demo() {
	if [ "$ROLE" = "$1" ]; then
		xvchan-demo server "$PEER" 4
	else
		xvchan-demo client "$PEER" 4
	fi
}
t_demo_dom0_srv() { demo dom0; }
t_demo_domu_srv() { demo domu; }

# Blocking close: the writer closes as soon as its last write returns; its
# xvchan_close() must wait until the reader has every byte, and the reader
# must then see end of stream (wait-peer), not a broken connection.
close_wait() {
	local p=/local/domain/0/data/xv-$NAME
	[ "$1" = domu ] && p=/local/domain/$DOMU/data/xv-$NAME
	if [ "$ROLE" = "$1" ]; then
		xvchan-peer --server --domid "$PEER" --path "$p" --threads \
			--send 1048576 --tx-seed 3 --after close --timeout 60
	else
		xvchan-peer --client --domid "$PEER" --path "$p" --threads \
			--expect 1048576 --rx-seed 3 --after wait-peer --timeout 60
	fi
}
t_close_wait_dom0_srv() { close_wait dom0; }
t_close_wait_domu_srv() { close_wait domu; }

# xvchan-cat both ways at once over the MirageOS path: each side sends
# 1 MiB of random bytes, half-closes at the end of its input and copies
# the peer's bytes out; the checksums must cross over.
md5() { md5sum < "$1" | cut -d' ' -f1; }
xcat() {
	local port=cat-$1
	head -c 1048576 /dev/urandom > /tmp/cat-sent
	if [ "$ROLE" = "$1" ]; then
		xvchan-cat -l "$PEER" "$port" < /tmp/cat-sent > /tmp/cat-got || return
	else
		xvchan-cat -t 60000 "$PEER" "$port" < /tmp/cat-sent > /tmp/cat-got || return
	fi
	echo "$(md5 /tmp/cat-sent) $(md5 /tmp/cat-got)" > /tmp/cat-sums
	if [ "$ROLE" = domu ]; then
		xenstore-write "data/xv/$NAME-sums" "$(cat /tmp/cat-sums)"
		echo "sent $(wc -c < /tmp/cat-sent), got $(wc -c < /tmp/cat-got)"
		return
	fi
	local theirs mine
	theirs=$(xswait "/local/domain/$DOMU/data/xv/$NAME-sums" 60) ||
		{ echo "domU sent no checksums"; return 1; }
	mine=$(cat /tmp/cat-sums)
	# what one side sent is what the other got
	if [ "${mine%% *}" != "${theirs##* }" ] || [ "${mine##* }" != "${theirs%% *}" ]; then
		echo "checksums differ: dom0 sent/got $mine, domU sent/got $theirs"
		return 1
	fi
	echo "1 MiB each way, checksums match, got $(wc -c < /tmp/cat-got) bytes"
}
t_cat_dom0_srv() { xcat dom0; }
t_cat_domu_srv() { xcat domu; }

# A listening xvchan-cat whose client never comes, stopped by a signal:
# it must die of it, with its xenstore entry removed, which takes the
# cancel descriptor through the real event-channel wait. Each domain runs
# its own. SIGTERM: a background job of a script ignores SIGINT.
t_cat_stop() {
	local self entry pid rc
	self=$(xenstore-read domid) || { echo "no domid"; return 1; }
	entry=/local/domain/$self/data/vchan/$PEER/stop
	xvchan-cat -l "$PEER" stop < /dev/null &
	pid=$!
	xswait "$entry/event-channel" 30 >/dev/null ||
		{ echo "never published"; kill -9 $pid; return 1; }
	kill -TERM $pid
	wait $pid
	rc=$?
	[ $rc -eq 143 ] || { echo "exit status $rc, not 143 (SIGTERM)"; return 1; }
	if xenstore-read "$entry/ring-ref" >/dev/null 2>&1; then
		echo "its entry was left behind"
		return 1
	fi
	echo "died of SIGTERM, entry removed"
}

# Linux's gntalloc lends a domain xen_gntalloc.limit pages at once (1024
# by default), all its processes together; a server with two 1 MiB rings
# takes 513 (its page and 256 per ring). The server past the limit must
# fail with ENOSPC and say so in one line of its own: the Xen libraries
# print their errors on stderr unless given a logger, and the library
# gives them a silent one. Each domain runs its own.
t_grant_limit() {
	local self limit fit i pid pids= rc err
	self=$(xenstore-read domid) || { echo "no domid"; return 1; }
	limit=$(cat /sys/module/xen_gntalloc/parameters/limit) ||
		{ echo "no gntalloc limit"; return 1; }
	fit=$((limit / 513))
	i=0
	while [ $i -lt $fit ]; do
		i=$((i + 1))
		xvchan-cat -l -r 1M -w 1M "$PEER" gl$i < /dev/null &
		pid=$!
		pids="$pids $pid"
		xswait "/local/domain/$self/data/vchan/$PEER/gl$i/event-channel" 30 >/dev/null ||
			{ echo "server $i never published"; kill -9 $pids; return 1; }
	done
	xvchan-cat -t 0 -l -r 1M -w 1M "$PEER" gl-over < /dev/null 2> /tmp/gl.err
	rc=$?
	kill -TERM $pids
	wait
	err=$(cat /tmp/gl.err)
	[ $rc -eq 1 ] || { echo "server $((fit + 1)): status $rc, not 1: $err"; return 1; }
	[ "$err" = "xvchan-cat: cannot serve: out of grant or event-channel resources" ] ||
		{ echo "server $((fit + 1)) said: $err"; return 1; }
	echo "limit $limit pages: $fit server(s) with 1 MiB rings, the next refused with ENOSPC in one line"
}

# Last: the domU is destroyed while it streams; the dom0 server must see
# end of stream or -EPIPE within a second of the domain being gone. A
# libxenvchan pair streams beside it, for comparison only (its fate is
# reported, not judged).
t_peer_death() {
	local p=/local/domain/0/data/xv-$NAME G=1073741824
	if [ "$ROLE" = domu ]; then
		xenvchan-peer --client --domid 0 --path "$p-lib" --send $G \
			--expect $G --tx-seed 2 --rx-seed 1 --timeout 100 &
		xenstore-write data/xv/death-streaming 1
		exec xvchan-peer --client --domid 0 --path "$p" --tx-seed 2 \
			--rx-seed 1 --send $G --expect $G --timeout 100
	fi
	xenvchan-peer --server --domid "$PEER" --path "$p-lib" --read-size 65536 \
		--write-size 65536 --send $G --expect $G --timeout 60 \
		2>/tmp/death-lib.err &
	local lib=$!
	xvchan-peer --server --domid "$PEER" --path "$p" --read-size 65536 \
		--write-size 65536 --send $G --expect $G --timeout 60 \
		2>/tmp/death.err &
	local pid=$! t0 t1 t2 rc seen
	xswait "/local/domain/$DOMU/data/xv/death-streaming" 60 >/dev/null ||
		{ echo "domU never started streaming"; kill $pid $lib; return 1; }
	sleep 2
	kill -0 $pid 2>/dev/null ||
		{ cat /tmp/death.err; echo "dom0 side ended before the destroy"; return 1; }
	t0=$(up)
	xl destroy "$PEER" 2>/dev/null
	t1=$(up)
	# The end must be seen within 1 s of the destroy; the process may
	# take longer to exit (its close removes its xenstore entries from a
	# xenstored still busy with the destroy): give it 10 s of uptime (a
	# count of sleeps stretches under TCG).
	while kill -0 $pid 2>/dev/null &&
		awk -v a="$t1" -v b="$(up)" 'BEGIN { exit !(b - a < 10) }'; do
		sleep 0.02
	done
	t2=$(up)
	if kill -0 $lib 2>/dev/null; then
		echo "libxenvchan beside it: still waiting at $t2 s"
		kill $lib
	else
		echo "libxenvchan beside it: $(cat /tmp/death-lib.err | tail -n 1)"
	fi
	kill -0 $pid 2>/dev/null && { kill $pid; echo "xvchan: still running at $t2 s"; }
	wait $pid
	rc=$?
	cat /tmp/death.err
	# xvchan-peer stamps its first failure with /proc/uptime's clock
	seen=$(sed -n 's/.*failed at uptime \([0-9.]*\) s.*/\1/p' /tmp/death.err | head -n 1)
	echo "xl destroy ran $t0..$t1 s; xvchan's dom0 side saw the end at ${seen:-?} s, exited rc $rc at $t2 s"
	[ "$rc" = 1 ] || return 1
	grep -qE 'end of stream|peer closed' /tmp/death.err ||
		{ echo "dom0 side did not report the peer gone"; return 1; }
	[ -n "$seen" ] || { echo "no time stamp from the dom0 side"; return 1; }
	awk -v a="$t0" -v s="$seen" 'BEGIN { exit !(s >= a) }' ||
		{ echo "the end was seen before the destroy began"; return 1; }
	awk -v a="$t1" -v s="$seen" 'BEGIN { exit !(s - a <= 1.0) }' ||
		{ echo "the peer was seen gone later than 1 s after the destroy"; return 1; }
	echo "peer gone seen $(awk -v a="$t1" -v s="$seen" 'BEGIN { print s - a }') s after xl destroy returned"
}

# A guest cannot watch xenstore for its peer domain (XSA-115): the domU's
# client of a server in a second guest, xv-gpeer (built here, serving
# from `guest.sh gpeer`), must learn of that guest's destroy from its own
# event-channel port, left unbound by Xen, which it asks about twice a
# second. Judged by dom0's clock: the domU's report of the end must reach
# dom0 within 3 s of the destroy (the half second, the client's exit and
# a xenstore write under TCG); without the port's status the client
# would wait out its 300 s.
t_guest_peer_death() {
	local G=1073741824 d=/local/domain/$DOMU/data/xv p2 t0 t1 t2 rc
	if [ "$ROLE" = domu ]; then
		p2=$(xswait $d/gpeer-domid 300) ||
			{ echo "dom0 never named the second guest"; return 1; }
		xenstore-write $d/gpeer-streaming 1
		xvchan-peer --client --domid "$p2" \
			--path "/local/domain/$p2/data/xv-gpeer" --tx-seed 2 \
			--rx-seed 1 --send $G --expect $G --timeout 300 \
			2>/tmp/gpeer.err
		rc=$?
		xenstore-write $d/gpeer-end "$rc"
		cat /tmp/gpeer.err
		[ "$rc" = 1 ] || { echo "client exit status $rc, not 1"; return 1; }
		grep -qE 'end of stream|peer closed' /tmp/gpeer.err ||
			{ echo "the client did not report the peer gone"; return 1; }
		echo "the client saw its guest peer go: $(grep -m1 -oE 'end of stream|peer closed' /tmp/gpeer.err)"
		return 0
	fi
	cat > /tmp/gpeer.cfg <<-EOF
	name = "xv-gpeer"
	type = "pv"
	kernel = "/boot/vmlinuz"
	ramdisk = "/boot/domu.cpio.gz"
	extra = "console=hvc0 quiet xv_role=gpeer xv_gpeer_of=$DOMU"
	memory = 256
	vcpus = 1
	on_poweroff = "destroy"
	on_crash = "destroy"
	EOF
	xl create /tmp/gpeer.cfg >/tmp/xl-gpeer.out 2>&1 ||
		{ cat /tmp/xl-gpeer.out; echo "xl create xv-gpeer failed"; return 1; }
	p2=$(xl domid xv-gpeer)
	echo "xv-gpeer is domain $p2, built at $(up) s"
	xswait /local/domain/$p2/data/xv-gpeer/ring-ref 240 >/dev/null || {
		sed 's/^/gpeer| /' /var/log/xen/console/guest-xv-gpeer.log
		xl destroy xv-gpeer; echo "xv-gpeer never served"; return 1
	}
	echo "xv-gpeer serves at $(up) s"
	xenstore-write $d/gpeer-domid "$p2"
	xswait $d/gpeer-streaming 120 >/dev/null ||
		{ xl destroy xv-gpeer; echo "the domU never started its client"; return 1; }
	# Time to connect, under TCG; a client not yet connected at the
	# destroy would wait out its timeout and fail, not pass.
	sleep 8
	if rc=$(xenstore-read $d/gpeer-end 2>/dev/null); then
		xl destroy xv-gpeer
		echo "the domU's client ended before the destroy (status $rc)"
		return 1
	fi
	t0=$(up)
	xl destroy xv-gpeer
	t1=$(up)
	xswait $d/gpeer-end 60 >/dev/null ||
		{ echo "the domU's client still ran 60 s after the destroy"; return 1; }
	t2=$(up)
	echo "xl destroy ran $t0..$t1 s; the domU's client had ended by $t2 s"
	awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b - a <= 3.0) }' ||
		{ echo "the end reached dom0 later than 3 s after the destroy"; return 1; }
	echo "the domU's client ended within $(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }') s of xl destroy returning"
}

# run first, while the domU boots
LOCAL="xen_grants xen_evtchn xen_xenstore bench_smoke"
TESTS="xs_guest_view ring_1k_dom0_srv ring_1k_domu_srv ring_4k_dom0_srv ring_4k_domu_srv
ring_64k_dom0_srv ring_64k_domu_srv ring_1m_dom0_srv ring_1m_domu_srv
ring_64k_both_poll ring_64k_both_threads late_dom0_srv late_domu_srv
lib_lib_dom0_srv lib_lib_64k_domu_srv lib_lib_1m_dom0_srv lib_lib_1m_domu_srv
xv_srv_dom0_lib_cli lib_srv_dom0_xv_cli xv_srv_domu_lib_cli
lib_srv_domu_xv_cli demo_dom0_srv demo_domu_srv close_wait_dom0_srv
close_wait_domu_srv cat_dom0_srv cat_domu_srv cat_stop grant_limit
guest_peer_death"
# Run only when named (XVCHAN_XEN_ONLY), in this order:
# - xs_guest_release, bench_quick: minutes under TCG (bench_quick also
#   with xv_bench=quick on the command line, XVCHAN_XEN_BENCH=quick on the
#   host).
OPEN_TESTS="xs_guest_release bench_quick"
# Always last: it destroys the domU.
LAST="peer_death"
# judged by dom0 alone: the domU does not live to report, or has no part
DOM0_ONLY=" peer_death bench_quick "
grep -q 'xv_bench=quick' /proc/cmdline && TESTS="$TESTS bench_quick"

# ---- the drivers
# xv_only=A+B on the kernel command line (XVCHAN_XEN_ONLY on the host)
# runs just those tests, in the order above.
ONLY=$(sed -n 's/.*xv_only=\([^ ]*\).*/\1/p' /proc/cmdline | tr + ' ')
if [ -n "$ONLY" ]; then
	pick() {
		local n o out=
		for n in $1; do
			case "$out " in *" $n "*) continue;; esac
			for o in $ONLY; do [ "$n" = "$o" ] && out="$out $n"; done
		done
		echo "$out"
	}
	LOCAL=$(pick "$LOCAL")
	TESTS=$(pick "$TESTS $OPEN_TESTS $LAST")
else
	TESTS="$TESTS $LAST"
fi

if [ "$1" = half ]; then
	NAME=$2 ROLE=$3 PEER=$4
	DOMU=$PEER
	[ "$ROLE" = domu ] && DOMU=$(xenstore-read domid)
	"t_$NAME"
	exit $?
fi

ROLE=$1
if [ "$ROLE" = gpeer ]; then
	SELF=$(xenstore-read domid)
	OF=$(sed -n 's/.*xv_gpeer_of=\([0-9]*\).*/\1/p' /proc/cmdline)
	echo "XV_STAGE gpeer $SELF up at $(up), serving domain $OF"
	exec xvchan-peer --server --domid "$OF" \
		--path "/local/domain/$SELF/data/xv-gpeer" --read-size 65536 \
		--write-size 65536 --send 1073741824 --expect 1073741824 \
		--tx-seed 1 --rx-seed 2 --timeout 600
fi
if [ "$ROLE" = domu ]; then
	SELF=$(xenstore-read domid)
	echo "XV_STAGE domu $SELF up at $(up)"
	for NAME in $TESTS; do
		# on the console as it comes: dom0 forwards it to its own
		{ timeout "$(limit "$NAME")" /xv/guest.sh half "$NAME" domu 0
		  echo $? > /tmp/rc; } 2>&1 | tee /tmp/out |
			sed "s/^/XV_MSG $NAME: /"
		rc=$(cat /tmp/rc)
		# The last line is the program's own summary or complaint.
		msg=$(tail -n 1 /tmp/out | cut -c1-200)
		xenstore-write "data/xv/$NAME" "$rc $msg"
	done
	exit 0
fi

count=0
for NAME in $LOCAL $TESTS; do count=$((count + 1)); done
echo "XV_PLAN $count"
cat > /tmp/domu.cfg <<EOF
name = "xv-domu"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 quiet xv_role=domu${ONLY:+ xv_only=$(echo $ONLY | tr ' ' +)}"
memory = 256
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
EOF
echo "XV_STAGE xl create at $(up)"
xl create /tmp/domu.cfg >/tmp/xl.out 2>&1 || { cat /tmp/xl.out; echo "XV_WARN xl create failed"; }
DOMU=$(xl domid xv-domu)
echo "XV_STAGE domU $DOMU created at $(up)"
# The domU's console, live: if a run is cut short, what the domU said is
# on the serial console all the same.
DLOG=/var/log/xen/console/guest-xv-domu.log
(
	while [ ! -f $DLOG ]; do sleep 0.5; done
	exec tail -n +1 -f $DLOG
) | sed 's/^/domU| /' &
FWD=$!

for NAME in $LOCAL; do
	t=$(up)
	timeout "$(limit "$NAME")" /xv/guest.sh half "$NAME" dom0 "$DOMU" >/tmp/out 2>&1
	rc=$?
	sed "s/^/XV_MSG $NAME: /" /tmp/out
	if [ "$rc" = 0 ]; then v=PASS; else v=FAIL; fi
	echo "XV_TEST $NAME $v dom0=[$rc $(tail -n 1 /tmp/out | cut -c1-200)] ($t..$(up) s)"
done

lost=
for NAME in $TESTS; do
	t=$(up)
	# Once the domU stops answering, the rest would each wait out their
	# timeouts: fail them at once, so a broken domU costs one timeout.
	if [ -n "$lost" ]; then
		echo "XV_TEST $NAME FAIL not run: $lost"
		continue
	fi
	timeout "$(limit "$NAME")" /xv/guest.sh half "$NAME" dom0 "$DOMU" >/tmp/out 2>&1
	rc=$?
	msg=$(tail -n 1 /tmp/out | cut -c1-200)
	sed "s/^/XV_MSG $NAME: /" /tmp/out
	case "$DOM0_ONLY" in
	*" $NAME "*) peer="0 (not asked)";;
	*) peer=$(xswait "/local/domain/$DOMU/data/xv/$NAME" "$(limit "$NAME")") || {
		peer="- domU never reported"
		lost="the domU stopped reporting at $NAME"
	};;
	esac
	prc=${peer%% *}
	if [ "$rc" = 0 ] && [ "$prc" = 0 ]; then v=PASS; else v=FAIL failed=1; fi
	echo "XV_TEST $NAME $v dom0=[$rc $msg] domU=[$peer] ($t..$(up) s)"
done

# The forwarder can lag behind the log by tens of seconds: after a
# failure, the whole console once more.
sleep 2
kill $FWD 2>/dev/null
if [ -n "${failed:-}" ]; then
	echo "---- the domU's whole console ----"
	sed 's/^/domU| /' $DLOG
fi
echo "---- end of domU console ----"
