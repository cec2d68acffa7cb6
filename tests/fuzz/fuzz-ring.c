/*
 * libFuzzer target: ring/ring.c's consumer and producer against a peer
 * that rewrites the shared page between any two calls.
 *
 * The input picks the layout (order_from()), the role and the indices already in the
 * page, then drives a sequence of operations: peer writes to its index
 * words, to ours, to any byte of the page or of the ring data, interleaved
 * with every xv_ring_* call. A reference model of the ring predicts every
 * return value exactly (bytes moved, -EPROTO, -EINVAL), the bytes copied,
 * the index we publish and when (cons goes out in batches: ring/ring.h),
 * and the kick decision; the data areas are
 * allocated at their exact size, so ASan catches any access outside them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ring.h"

/* What the ring must believe, kept independently of it. */
struct model {
	bool broken;
	uint32_t rx_cons, rx_seen, rx_size;	/* rx_seen: last prod accepted */
	uint32_t rx_pub;			/* the cons last stored */
	uint32_t tx_prod, tx_seen, tx_size;	/* tx_seen: last cons accepted */
	uint32_t *rx_peer, *rx_own, *tx_peer, *tx_own;
	uint8_t *rx_data, *tx_data;
	uint8_t *kick_byte, *arm_byte;
};

/* Bytes readable per the model, or -EPROTO for an impossible prod. */
static int64_t model_avail(const struct model *m)
{
	uint32_t avail = *m->rx_peer - m->rx_cons;

	if (m->broken)
		return -EPROTO;
	if (avail > m->rx_size || avail < m->rx_seen - m->rx_cons)
		return -EPROTO;
	return avail;
}

static int64_t model_space(const struct model *m)
{
	uint32_t used = m->tx_prod - *m->tx_peer;

	if (m->broken)
		return -EPROTO;
	if (used > m->tx_size || used > m->tx_prod - m->tx_seen)
		return -EPROTO;
	return m->tx_size - used;
}

/*
 * A recv / send whose request (capped at the ring size) the last accepted
 * index already covers is served from it without looking at the page: a
 * lie written since is only seen by the next call that needs the index.
 */
static int64_t model_avail_for(const struct model *m, size_t len,
			       bool *cached)
{
	uint32_t need = len < m->rx_size ? (uint32_t)len : m->rx_size;

	*cached = !m->broken && need && m->rx_seen - m->rx_cons >= need;
	return *cached ? m->rx_seen - m->rx_cons : model_avail(m);
}

static int64_t model_space_for(const struct model *m, size_t len,
			       bool *cached)
{
	uint32_t need = len < m->tx_size ? (uint32_t)len : m->tx_size;
	uint32_t known = m->tx_size - (m->tx_prod - m->tx_seen);

	*cached = !m->broken && need && known >= need;
	return *cached ? known : model_space(m);
}

/* After a call that checked the peer's index: same verdict as the model. */
static void seen_rx(struct model *m, struct xv_ring_endpoint *ep, int64_t want)
{
	if (want < 0) {
		m->broken = true;
		FZ_CHECK(ep->broken == -EPROTO);
		return;
	}
	m->rx_seen = *m->rx_peer;
}

static void seen_tx(struct model *m, struct xv_ring_endpoint *ep, int64_t want)
{
	if (want < 0) {
		m->broken = true;
		FZ_CHECK(ep->broken == -EPROTO);
		return;
	}
	m->tx_seen = *m->tx_peer;
}

/* The segments must lie inside the area and start at the model's index. */
static void check_segs(const struct xv_ring_segs *s, const uint8_t *data,
		       uint32_t size, uint32_t from, int64_t total)
{
	uint32_t off = from & (size - 1);
	volatile uint8_t sink = 0;
	uint32_t i;

	FZ_CHECK((int64_t)s->len[0] + s->len[1] == total);
	if (total == 0)
		return;
	FZ_CHECK(s->ptr[0] == data + off);
	FZ_CHECK(s->len[0] <= size - off);
	FZ_CHECK(s->len[1] == 0 || s->ptr[1] == data);
	/* Touch every byte: ASan reports any outside the area. */
	for (i = 0; i < s->len[0]; i++)
		sink ^= s->ptr[0][i];
	for (i = 0; i < s->len[1]; i++)
		sink ^= s->ptr[1][i];
	(void)sink;
}

/* N2: the kick is taken iff the peer had asked, and only its bit goes. */
static void check_kick(const struct model *m, uint8_t before, uint8_t bit,
		       bool kick, bool published)
{
	if (!published) {
		FZ_CHECK(!kick);
		FZ_CHECK(*m->kick_byte == before);
		return;
	}
	FZ_CHECK(kick == ((before & bit) != 0));
	FZ_CHECK(*m->kick_byte == (uint8_t)(before & ~bit));
}

/*
 * After a call that may publish cons: @flush says whether it had to (an
 * empty ring, an arm, an explicit flush), else a batch pending does: a
 * quarter ring, at most 16 KiB. A cons that is not published leaves our index word as it was
 * (@own_before: the peer may have scribbled on it, and we never read it
 * back), and the peer's request byte untouched.
 */
static void check_cons(struct model *m, uint32_t own_before, uint8_t before,
		       bool kick, bool flush)
{
	bool published = m->rx_cons != m->rx_pub &&
			 (flush || m->rx_cons - m->rx_pub >=
				   (m->rx_size / 4 < 16384 ? m->rx_size / 4 :
							    16384));

	if (published) {
		m->rx_pub = m->rx_cons;
		FZ_CHECK(*m->rx_own == m->rx_cons);
	} else {
		FZ_CHECK(*m->rx_own == own_before);
	}
	check_kick(m, before, XV_WIRE_NOTIFY_READ, kick, published);
}

static void op_recv(struct model *m, struct xv_ring_endpoint *ep,
		    struct fz_input *in)
{
	size_t len = fz_u32(in) % (2 * (size_t)m->rx_size + 2);
	uint8_t *buf = malloc(len ? len : 1);
	bool cached;
	int64_t want = model_avail_for(m, len, &cached), rc;
	uint8_t before = *m->kick_byte;
	uint32_t own_before = *m->rx_own;
	bool kick = true;

	FZ_CHECK(buf);
	if (want > 0 && (size_t)want > len)
		want = (int64_t)len;
	rc = xv_ring_recv(ep, buf, len, &kick);
	FZ_CHECK(rc == want);
	if (!cached)
		seen_rx(m, ep, want);
	if (rc > 0) {
		for (int64_t i = 0; i < rc; i++)
			FZ_CHECK(buf[i] == m->rx_data[(m->rx_cons + (uint32_t)i) &
						      (m->rx_size - 1)]);
		m->rx_cons += (uint32_t)rc;
	}
	if (rc >= 0) {
		/* A ring found empty publishes what was held back if the
		 * writer asked for room. */
		check_cons(m, own_before, before, kick,
			   rc == 0 && len && (before & XV_WIRE_NOTIFY_READ));
	} else {
		FZ_CHECK(!kick);
		FZ_CHECK(*m->rx_own == own_before);
	}
	free(buf);
}

/* Fill @buf from the input, then a counter: reproducible bytes. */
static void fill(struct fz_input *in, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 131u + 7u);
	if (len)
		buf[0] = fz_u8(in);
}

static void check_sent(const struct model *m, const uint8_t *src,
		       uint32_t at, size_t n)
{
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(m->tx_data[(at + (uint32_t)i) & (m->tx_size - 1)] ==
			 src[i]);
}

static void op_send(struct model *m, struct xv_ring_endpoint *ep,
		    struct fz_input *in)
{
	size_t len = fz_u32(in) % (2 * (size_t)m->tx_size + 2);
	uint8_t *src = malloc(len ? len : 1);
	bool cached;
	int64_t want = model_space_for(m, len, &cached), rc;
	uint8_t before = *m->kick_byte;
	bool kick = true;

	FZ_CHECK(src);
	fill(in, src, len);
	if (want > 0 && (size_t)want > len)
		want = (int64_t)len;
	rc = xv_ring_send(ep, src, len, &kick);
	FZ_CHECK(rc == want);
	if (!cached)
		seen_tx(m, ep, want);
	if (rc > 0) {
		check_sent(m, src, m->tx_prod, (size_t)rc);
		m->tx_prod += (uint32_t)rc;
		FZ_CHECK(*m->tx_own == m->tx_prod);
	}
	check_kick(m, before, XV_WIRE_NOTIFY_WRITE, kick, rc > 0);
	free(src);
}

static void op_sendv(struct model *m, struct xv_ring_endpoint *ep,
		     struct fz_input *in)
{
	struct xv_ring_iov iov[3];
	uint8_t *flat;
	unsigned int cnt = fz_u8(in) % 4, i;
	size_t total = 0, off = 0;
	int64_t want, rc;
	uint8_t before = *m->kick_byte;
	bool kick = true, cached;

	for (i = 0; i < cnt; i++) {
		size_t len = fz_u16(in) % (m->tx_size + 2);
		uint8_t *b = malloc(len ? len : 1);

		FZ_CHECK(b);
		fill(in, b, len);
		iov[i] = (struct xv_ring_iov){ .base = b, .len = len };
		total += len;
	}
	flat = malloc(total ? total : 1);
	FZ_CHECK(flat);
	for (i = 0; i < cnt; i++) {
		memcpy(flat + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	want = model_space_for(m, total, &cached);
	if (want > 0 && (size_t)want > total)
		want = (int64_t)total;
	rc = xv_ring_sendv(ep, iov, cnt, &kick);
	FZ_CHECK(rc == want);
	if (!cached)
		seen_tx(m, ep, want);
	if (rc > 0) {
		check_sent(m, flat, m->tx_prod, (size_t)rc);
		m->tx_prod += (uint32_t)rc;
		FZ_CHECK(*m->tx_own == m->tx_prod);
	}
	check_kick(m, before, XV_WIRE_NOTIFY_WRITE, kick, rc > 0);
	for (i = 0; i < cnt; i++)
		free((void *)iov[i].base);
	free(flat);
}

static void do_consume(struct model *m, struct xv_ring_endpoint *ep,
		       uint32_t n)
{
	uint8_t before = *m->kick_byte;
	uint32_t own_before = *m->rx_own;
	bool kick = true;
	int want, rc;

	if (m->broken)
		want = -EPROTO;
	else if (n > m->rx_seen - m->rx_cons)
		want = -EINVAL;
	else
		want = 0;
	rc = xv_ring_consume(ep, n, &kick);
	FZ_CHECK(rc == want);
	if (rc == 0) {
		m->rx_cons += n;
		check_cons(m, own_before, before, kick, false);
	} else {
		check_kick(m, before, XV_WIRE_NOTIFY_READ, kick, false);
		FZ_CHECK(*m->rx_own == own_before);
	}
}

static void do_commit(struct model *m, struct xv_ring_endpoint *ep,
		      uint32_t n)
{
	uint8_t before = *m->kick_byte;
	bool kick = true;
	int want, rc;

	if (m->broken)
		want = -EPROTO;
	else if (n > m->tx_size - (m->tx_prod - m->tx_seen))
		want = -EINVAL;
	else
		want = 0;
	rc = xv_ring_commit(ep, n, &kick);
	FZ_CHECK(rc == want);
	if (rc == 0 && n > 0) {
		m->tx_prod += n;
		FZ_CHECK(*m->tx_own == m->tx_prod);
	}
	check_kick(m, before, XV_WIRE_NOTIFY_WRITE, kick, rc == 0 && n > 0);
}

static void op_peek_consume(struct model *m, struct xv_ring_endpoint *ep,
			    struct fz_input *in)
{
	struct xv_ring_segs s;
	int64_t want = model_avail(m), rc;

	rc = xv_ring_peek(ep, &s);
	FZ_CHECK(rc == want);
	seen_rx(m, ep, want);
	if (rc >= 0)
		check_segs(&s, m->rx_data, m->rx_size, m->rx_cons, rc);
	do_consume(m, ep, fz_u32(in) % ((uint32_t)(rc > 0 ? rc : 0) + 2));
}

static void op_reserve_commit(struct model *m, struct xv_ring_endpoint *ep,
			      struct fz_input *in)
{
	struct xv_ring_segs s;
	int64_t want = model_space(m), rc;

	rc = xv_ring_reserve(ep, &s);
	FZ_CHECK(rc == want);
	seen_tx(m, ep, want);
	if (rc >= 0) {
		check_segs(&s, m->tx_data, m->tx_size, m->tx_prod, rc);
		memset(s.ptr[0], 0x5c, s.len[0]);
		memset(s.ptr[1], 0x5d, s.len[1]);
	}
	do_commit(m, ep, fz_u32(in) % ((uint32_t)(rc > 0 ? rc : 0) + 2));
}

static void op_arm(struct model *m, struct xv_ring_endpoint *ep, bool read)
{
	int64_t rc, want;

	if (read) {
		uint8_t before = *m->kick_byte;
		uint32_t own_before = *m->rx_own;
		bool was_broken = m->broken, kick = true;

		want = model_avail(m);
		rc = xv_ring_arm_readable(ep, &kick);
		/* Publishes first, unless broken before the call. */
		if (was_broken) {
			FZ_CHECK(!kick);
			FZ_CHECK(*m->rx_own == own_before);
		} else {
			check_cons(m, own_before, before, kick, true);
		}
		seen_rx(m, ep, want);
	} else {
		want = model_space(m);
		rc = xv_ring_arm_writable(ep);
		seen_tx(m, ep, want);
	}
	FZ_CHECK(rc == want);
	/* A broken endpoint does not arm: nothing will wake it anyway. */
	if (rc >= 0)
		FZ_CHECK(*m->arm_byte & (read ? XV_WIRE_NOTIFY_WRITE :
						XV_WIRE_NOTIFY_READ));
}

static void op_flush(struct model *m, struct xv_ring_endpoint *ep)
{
	uint8_t before = *m->kick_byte;
	uint32_t own_before = *m->rx_own;
	bool kick = xv_ring_flush_consumed(ep);

	if (m->broken) {
		check_kick(m, before, XV_WIRE_NOTIFY_READ, kick, false);
		FZ_CHECK(*m->rx_own == own_before);
	} else {
		check_cons(m, own_before, before, kick, true);
	}
}

static void op_room_wanted(struct model *m, struct xv_ring_endpoint *ep)
{
	FZ_CHECK(xv_ring_room_wanted(ep) ==
		 (!m->broken && m->rx_cons != m->rx_pub &&
		  (*m->kick_byte & XV_WIRE_NOTIFY_READ)));
}

static void op_flags(struct model *m, struct xv_ring_endpoint *ep,
		     struct fz_input *in)
{
	uint8_t bits = fz_u8(in), before = *m->arm_byte;

	FZ_CHECK(xv_ring_peer_live(ep) == *ep->peer_live);
	FZ_CHECK(xv_ring_peer_flags(ep) ==
		 (*m->kick_byte & XV_WIRE_FLAG_MASK));
	xv_ring_set_flags(ep, bits);
	/* Only flag bits are added; notify bits are the handshake's. */
	FZ_CHECK(*m->arm_byte == (uint8_t)(before | (bits & XV_WIRE_FLAG_MASK)));
	xv_ring_set_own_live(ep, bits & 3);
	FZ_CHECK(*ep->own_live == (bits & 3));
}

/* The peer acts: index words, any page byte, ring data. */
static void op_peer(struct model *m, struct xv_wire_page *page,
		    struct fz_input *in, unsigned int what)
{
	uint32_t v = fz_u32(in);
	uint8_t rel = fz_u8(in);

	switch (what) {
	case 0:	/* our rx prod: near the truth or anywhere */
		*m->rx_peer = rel & 1 ? v : m->rx_cons + v % (m->rx_size + 3) -
					   (rel >> 6);
		break;
	case 1:	/* our tx cons */
		*m->tx_peer = rel & 1 ? v : m->tx_prod - v % (m->tx_size + 3) +
					   (rel >> 6);
		break;
	case 2:	/* our own index words: we must never read them back */
		*(rel & 1 ? m->rx_own : m->tx_own) = v;
		break;
	case 3:	/* any byte of the page */
		((uint8_t *)page)[v % XV_WIRE_PAGE_SIZE] = rel;
		break;
	default:	/* ring data, either ring */
		if (rel & 1)
			m->rx_data[v & (m->rx_size - 1)] = (uint8_t)(v >> 24);
		else
			m->tx_data[v & (m->tx_size - 1)] = (uint8_t)(v >> 24);
		break;
	}
}

/* A ring area: in the page for orders 10/11, else exactly its size. */
static uint8_t *area(struct xv_wire_page *page, const struct xv_ring_layout *l,
		     bool left)
{
	unsigned int order = left ? l->left_order : l->right_order;
	size_t off = xv_ring_inpage_offset(l, left);

	if (off)
		return (uint8_t *)page + off;
	return calloc(1, (size_t)1 << order);
}

/*
 * 0..10 name orders 10..20 exactly; every other byte a small order: the
 * wrap and index logic is the same at every size, and a 1 MiB ring costs
 * 1 MiB of copying per operation.
 */
static unsigned int order_from(uint8_t b)
{
	return 10 + (b <= 10 ? b : b % 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_input in = { data, size };
	struct xv_ring_layout l;
	struct xv_ring_endpoint ep;
	struct xv_wire_page *page;
	struct model m = { 0 };
	uint8_t *left, *right;
	bool server;
	uint8_t b;
	int rc;

	l.left_order = order_from(fz_u8(&in));
	l.right_order = order_from(fz_u8(&in));
	b = fz_u8(&in);
	server = b & 1;
	if (xv_ring_layout_check(&l) != 0) {
		/* Never bound to an impossible layout. */
		FZ_CHECK(xv_ring_endpoint_init(&ep, NULL, XV_RING_SERVER, &l,
					       NULL, NULL) == -EINVAL);
		return 0;
	}
	page = aligned_alloc(XV_WIRE_PAGE_SIZE, XV_WIRE_PAGE_SIZE);
	FZ_CHECK(page);
	xv_ring_page_init_server(page, &l, 0);
	left = area(page, &l, true);
	right = area(page, &l, false);
	FZ_CHECK(left && right);
	if (b & 2) {
		/* Indices already in the page when we bind. */
		page->left.cons = fz_u32(&in);
		page->left.prod = fz_u32(&in);
		page->right.cons = fz_u32(&in);
		page->right.prod = fz_u32(&in);
	}

	if (server) {
		m.rx_peer = &page->left.prod;
		m.rx_own = &page->left.cons;
		m.tx_peer = &page->right.cons;
		m.tx_own = &page->right.prod;
		m.rx_data = left;
		m.tx_data = right;
		m.rx_size = 1u << l.left_order;
		m.tx_size = 1u << l.right_order;
		m.kick_byte = &page->srv_notify;
		m.arm_byte = &page->cli_notify;
	} else {
		m.rx_peer = &page->right.prod;
		m.rx_own = &page->right.cons;
		m.tx_peer = &page->left.cons;
		m.tx_own = &page->left.prod;
		m.rx_data = right;
		m.tx_data = left;
		m.rx_size = 1u << l.right_order;
		m.tx_size = 1u << l.left_order;
		m.kick_byte = &page->cli_notify;
		m.arm_byte = &page->srv_notify;
	}
	m.rx_cons = m.rx_pub = *m.rx_own;
	m.rx_seen = *m.rx_peer;
	m.tx_prod = *m.tx_own;
	m.tx_seen = *m.tx_peer;
	rc = xv_ring_endpoint_init(&ep, page,
				   server ? XV_RING_SERVER : XV_RING_CLIENT,
				   &l, left, right);
	if (m.rx_seen - m.rx_cons > m.rx_size ||
	    m.tx_prod - m.tx_seen > m.tx_size) {
		FZ_CHECK(rc == -EPROTO);
		m.broken = true;
	} else {
		FZ_CHECK(rc == 0);
	}
	if (!server) {
		uint8_t was = page->cli_live;
		bool waiting = was == XV_WIRE_LIVE_WAITING;

		/* Only a page waiting for a client is joined. */
		FZ_CHECK(xv_ring_client_connect(&ep, 0) ==
			 (waiting ? 0 : -ECONNREFUSED));
		FZ_CHECK(page->cli_live ==
			 (waiting ? XV_WIRE_LIVE_CONNECTED : was));
	}

	while (in.n) {
		uint8_t op = fz_u8(&in);

		switch (op % 16) {
		case 0: case 1: case 2: case 3: case 4:
			op_peer(&m, page, &in, op % 5);
			break;
		case 5:
			op_recv(&m, &ep, &in);
			break;
		case 6:
			op_send(&m, &ep, &in);
			break;
		case 7:
			op_sendv(&m, &ep, &in);
			break;
		case 8:
			op_peek_consume(&m, &ep, &in);
			break;
		case 9:
			op_reserve_commit(&m, &ep, &in);
			break;
		case 10:
			if (op & 0x10) {
				op_flush(&m, &ep);
				break;
			}
			FZ_CHECK(xv_ring_readable(&ep) == model_avail(&m));
			seen_rx(&m, &ep, model_avail(&m));
			break;
		case 11:
			if (op & 0x10) {
				op_room_wanted(&m, &ep);
				break;
			}
			FZ_CHECK(xv_ring_writable(&ep) == model_space(&m));
			seen_tx(&m, &ep, model_space(&m));
			break;
		case 12:
			op_arm(&m, &ep, op & 0x10);
			break;
		case 13:
			op_flags(&m, &ep, &in);
			break;
		case 14:
			do_consume(&m, &ep, fz_u32(&in));
			break;
		default:
			do_commit(&m, &ep, fz_u32(&in));
			break;
		}
		/* -EPROTO is sticky. */
		FZ_CHECK(m.broken == (ep.broken == -EPROTO));
	}

	if (left != (uint8_t *)page + xv_ring_inpage_offset(&l, true))
		free(left);
	if (right != (uint8_t *)page + xv_ring_inpage_offset(&l, false))
		free(right);
	free(page);
	return 0;
}
