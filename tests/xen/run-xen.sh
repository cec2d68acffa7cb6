#!/bin/bash
# The `xen` suite: boot Debian's Xen 4.17 with a Debian dom0 and a PV domU
# under QEMU and run xvchan's programs across the two domains.
#
# usage: run-xen.sh [--timeout S] FILE...
#   FILE...  the built programs (and any other file) to put in /xv of both
#            guests; their shared libraries come along (libxvchan.so is
#            found through the build tree's RUNPATH).
# env: XVCHAN_XEN_CACHE  downloads and unpacked packages (/tmp/xvchan-xen)
#      XVCHAN_XEN_WORK   this run's scratch dir (a fresh mktemp dir, removed
#                        after a passing run; the last console is also
#                        kept as $XVCHAN_XEN_CACHE/last-console.log)
#      XVCHAN_XEN_ACCEL  tcg (default) or kvm
#      XVCHAN_XEN_TCG    TCG threading: single (default) or multi
#      XVCHAN_XEN_ONLY   run only these tests (names as in guest.sh)
#      XVCHAN_XEN_ARGS   more Xen command-line options
#      XVCHAN_XEN_CPU    QEMU -cpu model (qemu64)
#      XVCHAN_XEN_BENCH  quick: also run `xvchan-bench --xen --quick` in
#                        dom0 (many minutes; the default --timeout grows)
#      XVCHAN_XEN_REQUIRED  1: what would be a skip is a failure (CI sets
#                        it, .ci/run: a green run must include this suite)
#
# Exit status: 0 when every guest test passed, 1 on any failure, 77 (meson's
# SKIP) when QEMU is missing and apt cannot install it, unless
# XVCHAN_XEN_REQUIRED=1, which makes that 1 too.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${XVCHAN_XEN_CACHE:-/tmp/xvchan-xen}
ACCEL=${XVCHAN_XEN_ACCEL:-tcg}
TIMEOUT=900
BENCH=${XVCHAN_XEN_BENCH:-}
case "$BENCH" in
'') ;;
quick) TIMEOUT=2700;;
*) echo "run-xen.sh: XVCHAN_XEN_BENCH must be quick or empty" >&2; exit 2;;
esac
REQUIRED=${XVCHAN_XEN_REQUIRED:-}
case "$REQUIRED" in
''|0|1) ;;
*) echo "run-xen.sh: XVCHAN_XEN_REQUIRED must be 1, 0 or empty" >&2; exit 2;;
esac
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) TIMEOUT=$2; shift 2;;
	-h|--help) sed -n '2,25p' "$0"; exit 0;;
	--) shift; break;;
	-*) echo "run-xen.sh: unknown option $1" >&2; exit 2;;
	*) break;;
	esac
done
[ $# -gt 0 ] || { echo "run-xen.sh: no files for the guests" >&2; exit 2; }

T0=${EPOCHREALTIME/./}
log() { printf '[xen %4ds] %s\n' $(( (${EPOCHREALTIME/./} - T0) / 1000000 )) "$*"; }
# A developer's machine without QEMU skips; CI must not go green that way.
skip() {
	[ "$REQUIRED" != 1 ] ||
		die "$* (XVCHAN_XEN_REQUIRED=1: this suite may not be skipped)"
	echo "SKIP: $*"
	exit 77
}
die() { echo "FAIL: $*" >&2; exit 1; }

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# ---- host tools: QEMU and cpio are what a build machine may lack
need=
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
command -v cpio >/dev/null || need="$need cpio"
if [ -n "$need" ]; then
	command -v apt-get >/dev/null || skip "missing:$need, and no apt-get to install it"
	[ -z "$SUDO" ] || sudo -n true 2>/dev/null ||
		skip "missing:$need, and not root nor password-less sudo to install it"
	log "installing$need"
	$SUDO apt-get update -qq >/dev/null 2>&1 || true
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $need >/dev/null 2>&1 ||
		skip "apt-get could not install$need"
fi
for t in qemu-system-x86_64 cpio gzip dpkg-deb apt-get ldd; do
	command -v $t >/dev/null || skip "$t missing on the host"
done

# ---- guest packages: downloaded once into the cache, never installed
mkdir -p "$CACHE/debs"
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$KPKG" ] || die "apt-cache cannot resolve linux-image-amd64"
for p in xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils busybox-static "$KPKG"; do
	ls "$CACHE/debs/${p}"_*.deb >/dev/null 2>&1 && continue
	log "apt-get download $p"
	# _apt cannot read a root-only cache dir; apt then says so and works
	(cd "$CACHE/debs" && apt-get download -qq "$p" 2>&1 |
		grep -v 'unsandboxed' || true)
	ls "$CACHE/debs/${p}"_*.deb >/dev/null 2>&1 || die "cannot download $p"
done
X="$CACHE/root"
DEBS=$(cd "$CACHE/debs" && ls ./*.deb)
if [ "$(cat "$X/.debs" 2>/dev/null)" != "$DEBS" ]; then
	log "unpacking the guest packages"
	rm -rf "$X"; mkdir -p "$X"
	for d in "$CACHE"/debs/*.deb; do
		case "${d##*/}" in
		linux-image-*) # 450 MB unpacked: the kernel and its Xen drivers only
			dpkg-deb --fsys-tarfile "$d" | tar -x -C "$X" --wildcards \
				'./boot/vmlinuz-*' './lib/modules/*/kernel/drivers/xen/*';;
		*) dpkg -x "$d" "$X";;
		esac
	done
	echo "$DEBS" > "$X/.debs"
fi
KVER=$(basename "$(ls -d "$X"/lib/modules/*/ | head -1)")
VMLINUZ="$X/boot/vmlinuz-$KVER"
XEN="$CACHE/xen-4.17.elf"
# QEMU's multiboot loader takes the gunzipped image as it is (an ELF32)
[ -s "$XEN" ] || gunzip -c "$X"/boot/xen-4.17-amd64.gz > "$XEN"

# ---- the two initramfs images
WORK=${XVCHAN_XEN_WORK:-$(mktemp -d /tmp/xvchan-xen-run.XXXXXX)}
mkdir -p "$WORK"
log "scratch dir $WORK"
GUESTLIBS="$X/usr/lib/x86_64-linux-gnu:$X/usr/lib/xen-4.17/lib"

copy_libs() { # ROOT ELF... : the ELFs' shared libraries into ROOT
	local root=$1 lib dst
	shift
	# the loader line has no "=>"; [[:space:]] because mawk has no \s
	LD_LIBRARY_PATH=$GUESTLIBS ldd "$@" 2>/dev/null |
		awk '/=> \// { print $3 } /^[[:space:]]*\/lib/ { print $1 }' | sort -u |
	while read -r lib; do
		dst="$root/lib/x86_64-linux-gnu"
		case "$lib" in /lib64/*) dst="$root/lib64";; esac
		mkdir -p "$dst"
		cp -L "$lib" "$dst/"
	done
	# dlopen()ed by glibc for pthread_cancel: ldd cannot list it
	cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$root/lib/x86_64-linux-gnu/"
}

mkroot() { # DIR : what both guests have
	local r=$1 a f m
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,lib64,proc,sys,dev,run,tmp,var,etc,boot,xv}
	cp "$X/bin/busybox" "$r/bin/"
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	install -m 755 "$HERE/init.sh" "$r/init"
	install -m 755 "$HERE/guest.sh" "$r/xv/guest.sh"
	for f in "${FILES[@]}"; do cp -L "$f" "$r/xv/"; done
	# xenstore-utils is one multi-call binary named by argv[0]
	cp -L "$X/usr/bin/xenstore" "$r/usr/bin/xenstore"
	for a in read write ls rm chmod exists list watch; do
		ln -sf xenstore "$r/usr/bin/xenstore-$a"
	done
	m="$r/lib/modules/$KVER/kernel/drivers/xen"
	mkdir -p "$m/xenfs"
	for f in xen-privcmd xen-evtchn xen-gntdev xen-gntalloc xenfs/xenfs; do
		cp "$X/lib/modules/$KVER/kernel/drivers/xen/$f.ko" "$m/$f.ko"
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"
	# ldd on the originals: their RUNPATH finds libxvchan.so in the build tree
	copy_libs "$r" $(elfs "${FILES[@]}") "$r/usr/bin/xenstore"
}
elfs() { # FILE... : those that are ELF files
	local f
	for f in "$@"; do
		[ "$(head -c4 "$f" | tail -c3)" = ELF ] && echo "$f"
	done
	return 0
}
pack() { (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) > "$2"; }

FILES=("$@")
mkroot "$WORK/domu"
pack "$WORK/domu" "$WORK/domu.cpio.gz"
R="$WORK/dom0"
mkroot "$R"
mkdir -p "$R/usr/lib/xen-4.17/bin" "$R/etc/xen"
for b in xl xenstored xenconsoled xen-init-dom0; do
	cp -L "$X/usr/lib/xen-4.17/bin/$b" "$R/usr/lib/xen-4.17/bin/"
done
copy_libs "$R" "$R"/usr/lib/xen-4.17/bin/*
cp "$VMLINUZ" "$R/boot/vmlinuz"
cp "$WORK/domu.cpio.gz" "$R/boot/domu.cpio.gz"
pack "$R" "$WORK/dom0.cpio.gz"
log "initramfs: dom0 $(du -h "$WORK/dom0.cpio.gz" | cut -f1), domU $(du -h "$WORK/domu.cpio.gz" | cut -f1)"

# ---- boot, and read the serial console until dom0 says it is done
SERIAL="$WORK/serial.log"
ACC="tcg,thread=${XVCHAN_XEN_TCG:-single},tb-size=512"
# qemu64, not max: with max (even without SMAP, which kills dom0 at
# once, and without PCID) processes in both domains crashed at random and
# vchan data went wrong under TCG, libxenvchan's too; see docs/xen.md.
CPU=${XVCHAN_XEN_CPU:-qemu64}
[ "$ACCEL" = kvm ] && { ACC=kvm; CPU=host; }
# xpti=false: Xen's Meltdown page-table isolation for PV guests made
# things worse under TCG with -cpu max (docs/xen.md); nothing here needs it.
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 loglvl=all guest_loglvl=all xpti=false ${XVCHAN_XEN_ARGS:-}"
ONLY_ARG=
[ -z "${XVCHAN_XEN_ONLY:-}" ] || ONLY_ARG=" xv_only=$(echo $XVCHAN_XEN_ONLY | tr ' ' +)"
[ -z "$BENCH" ] || ONLY_ARG="$ONLY_ARG xv_bench=$BENCH"
log "booting Xen under QEMU ($ACCEL), console in $SERIAL"
qemu-system-x86_64 -accel "$ACC" -cpu "$CPU" -smp 2 -m 2048 \
	-display none -monitor none -serial "file:$SERIAL" -no-reboot \
	-kernel "$XEN" -append "$XEN_ARGS" \
	-initrd "$VMLINUZ console=hvc0 earlyprintk=xen$ONLY_ARG,$WORK/dom0.cpio.gz" \
	</dev/null >"$WORK/qemu.out" 2>&1 &
QEMU=$!
trap 'kill $QEMU 2>/dev/null || true' EXIT
waited=0
while kill -0 $QEMU 2>/dev/null; do
	grep -q '^XV_DONE' "$SERIAL" 2>/dev/null && break
	if [ $waited -ge "$TIMEOUT" ]; then
		log "timed out after ${TIMEOUT}s"
		break
	fi
	sleep 1
	waited=$((waited + 1))
done
# dom0 reboots the machine after XV_DONE; give it a moment to get there
for _ in 1 2 3 4 5; do kill -0 $QEMU 2>/dev/null || break; sleep 1; done
kill $QEMU 2>/dev/null || true
wait $QEMU 2>/dev/null || true
tr -d '\r' < "$SERIAL" > "$WORK/console.log"
C="$WORK/console.log"
cp "$C" "$CACHE/last-console.log"
# the images are 100+ MB unpacked; the logs are what a failure needs
rm -rf "$WORK/dom0" "$WORK/domu" "$WORK"/*.cpio.gz

# ---- verdict: every planned test reported, and all of them passed
plan=$(sed -n 's/^XV_PLAN \([0-9]*\)$/\1/p' "$C" | head -1)
pass=$(grep -c '^XV_TEST .* PASS' "$C" || true)
fail=$(grep -c '^XV_TEST .* FAIL' "$C" || true)
grep '^XV_TEST' "$C" || true
rc=0
if ! grep -q '^XV_DONE' "$C"; then
	echo "FAIL: dom0 never finished; the console's last lines:"
	tail -60 "$C"
	[ ! -s "$WORK/qemu.out" ] || { echo "QEMU said:"; cat "$WORK/qemu.out"; }
	rc=1
elif [ "$plan" = 0 ]; then
	# XVCHAN_XEN_ONLY named no test: a run of nothing proves nothing
	echo "FAIL: no test planned (XVCHAN_XEN_ONLY='${XVCHAN_XEN_ONLY:-}' names none of guest.sh's)"
	rc=1
elif [ -z "$plan" ] || [ "$pass" != "$plan" ] || [ "$fail" != 0 ]; then
	echo "FAIL: planned ${plan:-?}, passed $pass, failed $fail; failures and guest messages:"
	grep -E '^(XV_TEST .* FAIL|XV_MSG|XV_WARN|domU\| )' "$C" || true
	rc=1
fi
if [ $rc = 0 ] && [ -z "${XVCHAN_XEN_WORK:-}" ]; then
	rm -rf "$WORK"
	C="$CACHE/last-console.log"
fi
log "xen: planned ${plan:-?}, $pass passed, $fail failed; console $C"
exit $rc
