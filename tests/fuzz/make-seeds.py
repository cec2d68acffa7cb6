#!/usr/bin/env python3
"""Write the small seed corpora of the fuzz targets (corpus/<target>/).

Run from anywhere; the seeds are committed, this only documents how they
were made. Each seed is a plausible input the target's format describes
(see the comment at the top of each fuzz-*.c), for libFuzzer to mutate.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


# ring: [left order-10] [right order-10] [flags: 1 server, 2 initial
# indices] then ops: op byte % 16 (0-4 peer writes: u32 value, u8 mode;
# 5 recv u32 len; 6 send u32 len u8; 7 sendv; 8 peek+consume u32;
# 9 reserve+commit u32; 10/11 readable/writable (with 0x10: flush
# consumed / room wanted); 12 arm; 13 flags u8;
# 14 consume u32; 15 commit u32)
def ring_seeds():
    # Server, 1024/2048 in-page: send, peer consumes, recv after the
    # peer produced, wrap-around.
    ops = b"\x06" + u32(1500) + b"\x41"          # send 1500 (fits 2048)
    ops += b"\x01" + u32(0) + b"\x00"            # peer: tx cons = prod
    ops += b"\x00" + u32(700) + b"\x00"          # peer: rx prod = cons+700
    ops += b"\x05" + u32(500)                    # recv 500
    ops += b"\x08" + u32(200)                    # peek, consume 200
    ops += b"\x06" + u32(2048) + b"\x42"         # send across the wrap
    ops += b"\x0c\x1c"                           # arm both ways
    put("ring", "server-inpage", b"\x00\x01\x01" + ops)
    # Client, 4096/4096 granted, indices already in the page.
    init = u32(0xFFFFFF00) + u32(0xFFFFFF00) + u32(0xFFFFFFF0) + u32(8)
    ops = b"\x05" + u32(64) + b"\x07\x02" + struct.pack("<H", 100) + b"a" \
        + struct.pack("<H", 4000) + b"b"
    ops += b"\x09" + u32(10) + b"\x0d\xc0" + b"\x0e" + u32(1) + b"\x0f" + u32(5)
    put("ring", "client-granted-wrap", b"\x02\x02\x02" + init + ops)
    # Server, 1 MiB left: the peer lies (prod beyond the ring), then every
    # call must say -EPROTO.
    ops = b"\x00" + u32(0x100001) + b"\x01" + b"\x05" + u32(16) + b"\x06" \
        + u32(16) + b"\x00" + b"\x0a\x0b\x08" + u32(0)
    put("ring", "server-lie", b"\x0a\x01\x01" + ops)
    # Client: the peer scribbles on our own indices and the page.
    ops = b"\x02" + u32(12345) + b"\x01" + b"\x02" + u32(999) + b"\x00" \
        + b"\x03" + u32(22) + b"\x03" + b"\x04" + u32(5) + b"\x01" \
        + b"\x06" + u32(300) + b"\x10" + b"\x05" + u32(300)
    put("ring", "client-scribble", b"\x03\x01\x00" + ops)


# layout: a control page (zero-padded to 4096), optionally followed by
# two 32-bit words tried as orders.
def page(lo, ro, grants=(), idx=(0, 0, 0, 0), live=(2, 1), notify=(1, 0)):
    p = struct.pack("<IIIIHHBBBB", idx[0], idx[1], idx[2], idx[3], lo, ro,
                    live[0], live[1], notify[0], notify[1])
    p += b"".join(u32(g) for g in grants)
    return p


def layout_seeds():
    put("layout", "inpage-10-11", page(10, 11, idx=(5, 9, 3, 3)))
    put("layout", "granted-12-13", page(12, 13, grants=(8, 9, 10)))
    put("layout", "overlap-10-20",
        page(10, 20, grants=range(1, 257)).ljust(4096, b"\0")
        + u32(11) + u32(20))
    put("layout", "huge-orders", page(0xFFFF, 9, idx=(0, 0x80000000, 0, 1)))
    put("layout", "same-slot", page(11, 11).ljust(4096, b"\xff")
        + u32(12) + u32(20))


# xenstored: [bit 0: dom0 or dom1; bit 1: framed] then raw client bytes,
# or framed records [u8 type][u8 tx_id][body] separated by FE FF.
def msg(type_, body, req=1, tx=0):
    return struct.pack("<IIII", type_, req, tx, len(body)) + body


def rec(type_, body, tx=0):
    return struct.pack("<BB", type_, tx) + body + b"\xfe\xff"


XS_DIRECTORY, XS_READ, XS_GET_PERMS, XS_WATCH, XS_UNWATCH = 1, 2, 3, 4, 5
XS_TRANSACTION_START, XS_TRANSACTION_END = 6, 7
XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS = 11, 12, 13, 14


def xenstored_seeds():
    base = "/local/domain/1/data/vchan/0/p"
    s = msg(XS_WRITE, (base + "/ring-ref\0" + "8").encode())
    s += msg(XS_SET_PERMS, (base + "\0n1\0r0\0").encode(), req=2)
    s += msg(XS_READ, (base + "/ring-ref\0").encode(), req=3)
    s += msg(XS_DIRECTORY, (base + "\0").encode(), req=4)
    s += msg(XS_GET_PERMS, (base + "\0").encode(), req=5)
    s += msg(XS_RM, b"data/vchan\0", req=6)
    put("xenstored", "dom1-publish", b"\x01" + s)
    s = msg(XS_WATCH, b"/local\0tok\0")
    s += msg(XS_TRANSACTION_START, b"\0", req=2)
    s += msg(XS_MKDIR, b"/local/domain/1/x\0", req=3, tx=1)
    s += msg(XS_TRANSACTION_END, b"T\0", req=4, tx=1)
    s += msg(XS_UNWATCH, b"/local\0tok\0", req=5)
    put("xenstored", "dom0-watch-txn", b"\x00" + s)
    # A permission change inside a transaction, list as long as before.
    s = msg(XS_WRITE, b"data/k\0v")
    s += msg(XS_TRANSACTION_START, b"\0", req=2)
    s += msg(XS_SET_PERMS, b"data/k\0n1\0", req=3, tx=1)
    s += msg(XS_TRANSACTION_END, b"T\0", req=4, tx=1)
    put("xenstored", "dom1-txn-perms", b"\x01" + s)
    s = rec(XS_WRITE, b"data/k\0v") + rec(XS_TRANSACTION_START, b"\0") \
        + rec(XS_SET_PERMS, b"data/k\0n1\0", tx=1) \
        + rec(XS_TRANSACTION_END, b"T\0", tx=1)
    put("xenstored", "framed-dom1-txn-perms", b"\x03" + s)
    s = rec(XS_WATCH, b"/local\0t\0") + rec(XS_WRITE, b"/local/domain/1/x\0v") \
        + rec(XS_SET_PERMS, b"/local/domain/1/x\0n1\0r0\0") \
        + rec(XS_DIRECTORY, b"/local/domain\0") + rec(XS_RM, b"/local/domain/1/x\0")
    put("xenstored", "framed-dom0-watch-perms", b"\x02" + s)
    s = msg(XS_READ, b"domid\0") + msg(0xFFFF, b"junk") \
        + struct.pack("<IIII", XS_WRITE, 9, 0, 5) + b"/a"
    put("xenstored", "dom1-bad", b"\x01" + s)


ring_seeds()
layout_seeds()
xenstored_seeds()
