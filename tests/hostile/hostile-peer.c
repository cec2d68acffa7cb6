/*
 * hostile-peer: the other end of a vchan that breaks every rule it can.
 *
 * Written straight against the Xen libraries (the simulator's libxengnttab
 * and libxenevtchn through xvchan-sim exec, Debian's libxenstore) and Xen's
 * own struct vchan_interface, so it shares no code with the victim and
 * controls every byte of the control page, the rings, the xenstore keys and
 * the event channel.
 *
 *   hostile-peer server|client MODE PEER_DOMID PORT SEED ROUNDS
 *
 * Exit status 0 when it played its part; 2 on bad usage; 3 when a Xen call
 * it needs failed (a broken test set-up, not a finding); 4 when waiting
 * for the victim took longer than HP_WAIT_MS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/libxenvchan.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "atomic.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HP_LSAN 1
#endif
#ifdef HP_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Longest the peer waits for the victim at any one step. */
#define HP_WAIT_MS 15000
#define HP_PAGE 4096u

enum hp_mode {
	/* server: broken before the client ever connects */
	HP_ORDERS_HIGH,		/* left order 21 */
	HP_ORDERS_HUGE,		/* both orders 0xffff */
	HP_ORDERS_LOW,		/* right order 9 */
	HP_ORDERS_SAME_SMALL,	/* both rings in the order-10 slot */
	HP_ORDERS_SAME_LARGE,	/* both rings in the order-11 slot */
	HP_GRANTS_OVERLAP,	/* order 10 + 20: 256 grants run into the ring */
	HP_GRANTS_UNGRANTED,	/* grant refs never granted */
	HP_REF_ABC,		/* ring-ref "abc" */
	HP_REF_ZERO,		/* ring-ref "0" */
	HP_REF_UNGRANTED,	/* ring-ref of no grant */
	HP_EVTCHN_HUGE,		/* event-channel "99999999999" */
	HP_EVTCHN_NEGATIVE,	/* event-channel "-1" */
	HP_EVTCHN_UNBOUND,	/* a number, but no port waiting there */
	HP_INITIAL_PROD,	/* right.prod already past the ring size */
	HP_LIVE_WAITING,	/* srv_live says "client not connected" */
	HP_PUBLISH_DIE,		/* publish, then die before the client comes */
	/* server: aliased pages; the client must stay inside its mappings */
	HP_ALIAS_PAGE,		/* both rings' grants are the control page */
	HP_ALIAS_RINGS,		/* both rings' grants are one page */
	/* either role: broken after the connect */
	HP_PROD_BEYOND,		/* more in flight than the ring holds */
	HP_PROD_BACK,		/* prod moves backwards */
	HP_CONS_BEYOND,		/* the victim's tx cons ahead of its prod */
	HP_LIVE_JUNK,		/* our live byte set to 0x5a */
	HP_ORDERS_REWRITE,	/* orders and grants rewritten, then honest */
	HP_BIND_LATE,		/* client: live before its port is bound */
	HP_CLOSE_RACE,		/* client: more data and gone, in one window */
	HP_IDLE,		/* silent for a second, then a clean close */
	HP_HANG,		/* connected and silent until SIGKILLed */
	HP_GARBAGE,		/* seeded storm of garbage and honest I/O */
	HP_NMODES
};

static const char *const hp_mode_names[HP_NMODES] = {
	[HP_ORDERS_HIGH] = "orders-high",
	[HP_ORDERS_HUGE] = "orders-huge",
	[HP_ORDERS_LOW] = "orders-low",
	[HP_ORDERS_SAME_SMALL] = "orders-same-small",
	[HP_ORDERS_SAME_LARGE] = "orders-same-large",
	[HP_GRANTS_OVERLAP] = "grants-overlap",
	[HP_GRANTS_UNGRANTED] = "grants-ungranted",
	[HP_REF_ABC] = "ref-abc",
	[HP_REF_ZERO] = "ref-zero",
	[HP_REF_UNGRANTED] = "ref-ungranted",
	[HP_EVTCHN_HUGE] = "evtchn-huge",
	[HP_EVTCHN_NEGATIVE] = "evtchn-negative",
	[HP_EVTCHN_UNBOUND] = "evtchn-unbound",
	[HP_INITIAL_PROD] = "initial-prod",
	[HP_LIVE_WAITING] = "live-waiting",
	[HP_PUBLISH_DIE] = "publish-die",
	[HP_ALIAS_PAGE] = "alias-page",
	[HP_ALIAS_RINGS] = "alias-rings",
	[HP_PROD_BEYOND] = "prod-beyond",
	[HP_PROD_BACK] = "prod-back",
	[HP_CONS_BEYOND] = "cons-beyond",
	[HP_LIVE_JUNK] = "live-junk",
	[HP_ORDERS_REWRITE] = "orders-rewrite",
	[HP_BIND_LATE] = "bind-late",
	[HP_CLOSE_RACE] = "close-race",
	[HP_IDLE] = "idle",
	[HP_HANG] = "hang",
	[HP_GARBAGE] = "garbage",
};

struct hp {
	bool server;
	enum hp_mode mode;
	unsigned int own, peer;
	char path[256];
	uint64_t rng;
	unsigned long rounds;

	struct xs_handle *xs;
	xenevtchn_handle *ev;
	xengntshr_handle *shr;
	xengnttab_handle *tab;
	evtchn_port_t port;
	uint32_t remote_port;		/* client: the server's port */
	uint32_t ring_ref;

	struct vchan_interface *page;
	unsigned int left_order, right_order;
	uint8_t *left, *right;		/* data areas as mapped here */

	/* Honest-side shadows: the ring we write and the one we read. */
	uint32_t tx_prod, rx_cons;
};

static void __attribute__((noreturn, format(printf, 2, 3)))
hp_die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hostile-peer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %d)\n", errno);
	exit(status);
}

/* xorshift64*: the same seed always plays the same game. */
static uint64_t hp_rand(struct hp *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545f4914f6cdd1dull;
}

static int64_t hp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hp_sleep_us(long us)
{
	nanosleep(&(struct timespec){ .tv_sec = us / 1000000,
				      .tv_nsec = (us % 1000000) * 1000 },
		  NULL);
}

static uint8_t *hp_byte(struct hp *h, size_t off)
{
	return (uint8_t *)h->page + off;
}

/* The victim's live byte: it leaves by clearing it (close or death). */
static uint8_t *hp_victim_live(struct hp *h)
{
	return h->server ? &h->page->cli_live : &h->page->srv_live;
}

static uint8_t *hp_own_live(struct hp *h)
{
	return h->server ? &h->page->srv_live : &h->page->cli_live;
}

/* Index pairs by role: we write tx, read rx. */
static struct ring_shared *hp_tx(struct hp *h)
{
	return h->server ? &h->page->right : &h->page->left;
}

static struct ring_shared *hp_rx(struct hp *h)
{
	return h->server ? &h->page->left : &h->page->right;
}

static uint32_t hp_tx_size(struct hp *h)
{
	return 1u << (h->server ? h->right_order : h->left_order);
}

static uint32_t hp_rx_size(struct hp *h)
{
	return 1u << (h->server ? h->left_order : h->right_order);
}

static uint8_t *hp_tx_data(struct hp *h)
{
	return h->server ? h->right : h->left;
}

static void hp_kick(struct hp *h)
{
	(void)xenevtchn_notify(h->ev, h->port);
}

/* Wait until @byte reads @want (or, with @until_not, anything else). */
static void hp_wait_byte(struct hp *h, const uint8_t *byte, uint8_t want,
			 bool until_not)
{
	int64_t end = hp_now_ms() + HP_WAIT_MS;

	while ((xv_atomic_load_acquire_u8(byte) == want) == until_not) {
		if (hp_now_ms() > end)
			hp_die(4, "victim did not move byte %td (still %u)",
			       byte - (const uint8_t *)h->page,
			       xv_atomic_load_acquire_u8(byte));
		hp_sleep_us(1000);
	}
}

static void hp_wait_u32(struct hp *h, const uint32_t *word, uint32_t want)
{
	int64_t end = hp_now_ms() + HP_WAIT_MS;

	while (xv_atomic_load_acquire_u32(word) != want) {
		if (hp_now_ms() > end)
			hp_die(4, "victim index stuck at %u, waited for %u",
			       xv_atomic_load_acquire_u32(word), want);
		hp_sleep_us(1000);
	}
}

/* ---- server role ---------------------------------------------------- */

static void hp_xs_write(struct hp *h, const char *key, const char *val)
{
	struct xs_permissions perms[2] = {
		{ .id = h->own, .perms = XS_PERM_NONE },
		{ .id = h->peer, .perms = XS_PERM_READ },
	};
	char node[320];

	snprintf(node, sizeof(node), "%s/%s", h->path, key);
	if (!xs_write(h->xs, XBT_NULL, node, val, strlen(val)) ||
	    !xs_set_permissions(h->xs, XBT_NULL, node, perms, 2) ||
	    !xs_set_permissions(h->xs, XBT_NULL, h->path, perms, 2))
		hp_die(3, "xenstore write %s", node);
}

static void hp_share_ring(struct hp *h, unsigned int order, unsigned int first,
			  uint8_t **area)
{
	uint32_t refs[256];
	unsigned int n, i;

	if (order < 12 || order > 20) {
		*area = order == 10 ? hp_byte(h, 1024) :
			order == 11 ? hp_byte(h, 2048) : NULL;
		return;
	}
	n = 1u << (order - 12);
	*area = xengntshr_share_pages(h->shr, h->peer, (int)n, refs, 1);
	if (!*area)
		hp_die(3, "share %u pages", n);
	for (i = 0; i < n; i++)
		h->page->grants[first + i] = refs[i];
}

static void hp_server_setup(struct hp *h)
{
	static const unsigned int layouts[][2] = {
		{ 10, 11 }, { 11, 10 }, { 12, 12 }, { 13, 11 }, { 12, 14 },
	};
	const unsigned int *lo = layouts[h->rng % 5];
	char val[32];
	const char *ref = val, *evtchn;
	char evbuf[16];
	int p;

	h->ev = xenevtchn_open(NULL, 0);
	h->shr = xengntshr_open(NULL, 0);
	if (!h->ev || !h->shr)
		hp_die(3, "open evtchn/gntshr");
	p = xenevtchn_bind_unbound_port(h->ev, h->peer);
	if (p < 0 || xenevtchn_unmask(h->ev, (evtchn_port_t)p) < 0)
		hp_die(3, "bind unbound");
	h->port = (evtchn_port_t)p;
	/* As libxenvchan's server: if we die, the client hears it. */
	h->page = xengntshr_share_page_notify(h->shr, h->peer, &h->ring_ref, 1,
		offsetof(struct vchan_interface, srv_live), h->port);
	if (!h->page)
		hp_die(3, "share control page");

	h->left_order = lo[0];
	h->right_order = lo[1];
	switch (h->mode) {
	case HP_ORDERS_HIGH:
		h->left_order = 21;
		break;
	case HP_ORDERS_HUGE:
		h->left_order = h->right_order = 0xffff;
		break;
	case HP_ORDERS_LOW:
		h->right_order = 9;
		break;
	case HP_ORDERS_SAME_SMALL:
		h->left_order = h->right_order = 10;
		break;
	case HP_ORDERS_SAME_LARGE:
		h->left_order = h->right_order = 11;
		break;
	case HP_GRANTS_OVERLAP:
		h->left_order = 10;
		h->right_order = 20;
		break;
	case HP_GRANTS_UNGRANTED:
	case HP_ALIAS_PAGE:
	case HP_ALIAS_RINGS:
		h->left_order = h->right_order = 12;
		break;
	default:
		break;
	}
	h->page->left_order = (uint16_t)h->left_order;
	h->page->right_order = (uint16_t)h->right_order;
	h->page->cli_live = 2;
	h->page->srv_live = 1;
	h->page->cli_notify = VCHAN_NOTIFY_WRITE;
	if (h->mode == HP_GRANTS_UNGRANTED) {
		/* Refs far above anything the simulator has handed out. */
		h->page->grants[0] = 0x7ffff001u;
		h->page->grants[1] = 4000u;
	} else if (h->mode == HP_ALIAS_PAGE) {
		/* The client's rings are the control page itself: its data
		 * lands on the indices, orders and live bytes. */
		h->page->grants[0] = h->ring_ref;
		h->page->grants[1] = h->ring_ref;
		h->left = h->right = hp_byte(h, 0);
	} else if (h->mode == HP_ALIAS_RINGS) {
		uint32_t one;

		h->left = xengntshr_share_pages(h->shr, h->peer, 1, &one, 1);
		if (!h->left)
			hp_die(3, "share 1 page");
		h->right = h->left;
		h->page->grants[0] = one;
		h->page->grants[1] = one;
	} else if (h->mode == HP_GRANTS_OVERLAP) {
		/* Only the control page is shared: the victim must refuse
		 * before it maps any of the 256 right-ring grants. */
		h->left = hp_byte(h, 1024);
	} else if (h->left_order <= 20 && h->right_order <= 20) {
		hp_share_ring(h, h->left_order, 0, &h->left);
		hp_share_ring(h, h->right_order,
			      h->left_order >= 12 ?
			      1u << (h->left_order - 12) : 0, &h->right);
	}
	if (h->mode == HP_INITIAL_PROD)
		h->page->right.prod = (1u << h->right_order) + 1;
	if (h->mode == HP_LIVE_WAITING)
		h->page->srv_live = 2;

	snprintf(val, sizeof(val), "%u", h->ring_ref);
	snprintf(evbuf, sizeof(evbuf), "%u", h->port);
	evtchn = evbuf;
	if (h->mode == HP_REF_ABC)
		ref = "abc";
	else if (h->mode == HP_REF_ZERO)
		ref = "0";
	else if (h->mode == HP_REF_UNGRANTED)
		ref = "4001";
	else if (h->mode == HP_EVTCHN_HUGE)
		evtchn = "99999999999";
	else if (h->mode == HP_EVTCHN_NEGATIVE)
		evtchn = "-1";
	else if (h->mode == HP_EVTCHN_UNBOUND)
		evtchn = "4000";
	/* event-channel first: the victim reads ring-ref first and takes a
	 * missing event-channel as "not yet". */
	hp_xs_write(h, "event-channel", evtchn);
	hp_xs_write(h, "ring-ref", ref);
}

/* ---- client role ---------------------------------------------------- */

static char *hp_xs_wait_read(struct hp *h, const char *key)
{
	int64_t end = hp_now_ms() + HP_WAIT_MS;
	char node[320];
	unsigned int len;
	char *v;

	snprintf(node, sizeof(node), "%s/%s", h->path, key);
	while (!(v = xs_read(h->xs, XBT_NULL, node, &len))) {
		if (hp_now_ms() > end)
			hp_die(4, "no %s from the victim server", node);
		hp_sleep_us(2000);
	}
	return v;
}

static uint8_t *hp_map_ring(struct hp *h, unsigned int order,
			    unsigned int first)
{
	unsigned int n;
	uint8_t *a;

	if (order == 10)
		return hp_byte(h, 1024);
	if (order == 11)
		return hp_byte(h, 2048);
	n = 1u << (order - 12);
	/* Both rings writable: a hostile client scribbles on what it only
	 * ought to read (the victim server shares both writable, for
	 * ocaml-vchan). */
	a = xengnttab_map_domain_grant_refs(h->tab, n, h->peer,
					    &h->page->grants[first],
					    PROT_READ | PROT_WRITE);
	if (!a)
		hp_die(3, "map %u ring pages", n);
	return a;
}

static void hp_client_bind(struct hp *h)
{
	int p = xenevtchn_bind_interdomain(h->ev, h->peer, h->remote_port);

	if (p < 0 || xenevtchn_unmask(h->ev, (evtchn_port_t)p) < 0)
		hp_die(3, "bind interdomain");
	h->port = (evtchn_port_t)p;
}

static void hp_client_setup(struct hp *h)
{
	char *ref = hp_xs_wait_read(h, "ring-ref");
	char *evtchn = hp_xs_wait_read(h, "event-channel");
	bool late = h->mode == HP_BIND_LATE;

	h->ring_ref = (uint32_t)strtoul(ref, NULL, 10);
	h->remote_port = (uint32_t)strtoul(evtchn, NULL, 10);
	free(ref);
	free(evtchn);
	h->ev = xenevtchn_open(NULL, 0);
	h->tab = xengnttab_open(NULL, 0);
	if (!h->ev || !h->tab)
		hp_die(3, "open evtchn/gnttab");
	/* Late: no port to name for the unmap notification yet, so our
	 * death would clear cli_live without an event. */
	if (!late)
		hp_client_bind(h);
	h->page = xengnttab_map_grant_ref_notify(h->tab, h->peer, h->ring_ref,
		PROT_READ | PROT_WRITE,
		offsetof(struct vchan_interface, cli_live),
		late ? (evtchn_port_t)-1 : h->port);
	if (!h->page)
		hp_die(3, "map control page");
	h->left_order = h->page->left_order;
	h->right_order = h->page->right_order;
	if (h->left_order < 10 || h->left_order > 20 ||
	    h->right_order < 10 || h->right_order > 20)
		hp_die(3, "the victim server wrote orders %u/%u",
		       h->left_order, h->right_order);
	h->left = hp_map_ring(h, h->left_order, 0);
	h->right = hp_map_ring(h, h->right_order,
			       h->left_order >= 12 ?
			       1u << (h->left_order - 12) : 0);
	/* Old-peer connect, as libxenvchan: live, then ask for writes. */
	xv_atomic_store_release_u8(&h->page->cli_live, 1);
	xv_atomic_fetch_or_u8(&h->page->srv_notify, VCHAN_NOTIFY_WRITE);
	/* Late: nothing to kick with; the victim finds us on its own. */
	if (!late)
		hp_kick(h);
}

/* ---- the game -------------------------------------------------------- */

/* Honest write of up to @n bytes of @fill into our tx ring. */
static uint32_t hp_honest_write(struct hp *h, uint8_t fill, uint32_t n)
{
	struct ring_shared *tx = hp_tx(h);
	uint32_t size = hp_tx_size(h);
	uint32_t cons = xv_atomic_load_acquire_u32(&tx->cons);
	uint32_t space = size - (h->tx_prod - cons), i;

	if (space > size)	/* our own garbage made it meaningless */
		return 0;
	if (n > space)
		n = space;
	for (i = 0; i < n; i++)
		hp_tx_data(h)[(h->tx_prod + i) & (size - 1)] = fill;
	h->tx_prod += n;
	xv_atomic_store_release_u32(&tx->prod, h->tx_prod);
	hp_kick(h);
	return n;
}

/* Honest read: take everything the victim wrote. */
static void hp_honest_read(struct hp *h)
{
	struct ring_shared *rx = hp_rx(h);

	h->rx_cons = xv_atomic_load_acquire_u32(&rx->prod);
	xv_atomic_store_release_u32(&rx->cons, h->rx_cons);
	hp_kick(h);
}

/* An index value that is often plausible, sometimes absurd. */
static uint32_t hp_index(struct hp *h, uint32_t near, uint32_t size)
{
	switch (hp_rand(h) % 4) {
	case 0:
		return (uint32_t)hp_rand(h);
	case 1:
		return near + (uint32_t)(hp_rand(h) % (size + 2));
	case 2:
		return near - (uint32_t)(hp_rand(h) % 4);
	default:
		return near + size + 1;
	}
}

static void hp_garbage_round(struct hp *h)
{
	uint32_t *idx[4] = {
		&h->page->left.cons, &h->page->left.prod,
		&h->page->right.cons, &h->page->right.prod,
	};
	uint64_t r = hp_rand(h);
	unsigned int k;

	/* Most rounds are survivable, so the victim gets far enough to be
	 * hurt by the rare lethal one (an index or live byte). */
	switch (r % 192) {
	case 0: {
		uint32_t *w = idx[(r >> 8) % 4];
		uint32_t v = hp_index(h, xv_atomic_load_relaxed_u32(w),
				      hp_rx_size(h));

		xv_atomic_store_release_u32(w, v);
		if (w == &hp_tx(h)->prod)
			h->tx_prod = v;
		hp_kick(h);
		break;
	}
	case 1:
		/* Live bytes: mostly plausible values, sometimes junk. */
		xv_atomic_store_release_u8((r >> 8) & 1 ? &h->page->cli_live :
					   &h->page->srv_live,
					   (uint8_t)((r >> 16) % 5 == 4 ?
						     r >> 24 : (r >> 16) % 3));
		hp_kick(h);
		break;
	case 2:
		/* Any byte of the page, in-page rings included. */
		xv_atomic_store_relaxed_u8(hp_byte(h, (r >> 8) % HP_PAGE),
					   (uint8_t)(r >> 32));
		hp_kick(h);
		break;
	case 3: case 4: case 5:
		xv_atomic_store_relaxed_u16((r >> 8) & 1 ? &h->page->left_order :
					    &h->page->right_order,
					    (uint16_t)(r >> 16));
		break;
	case 6: case 7: case 8:
		xv_atomic_store_relaxed_u8((r >> 8) & 1 ? &h->page->cli_notify :
					   &h->page->srv_notify,
					   (uint8_t)(r >> 16));
		break;
	case 9: case 10: case 11:
		xv_atomic_store_relaxed_u32(&h->page->grants[(r >> 8) % 64],
					    (uint32_t)(r >> 32));
		break;
	case 12: case 13: case 14: case 15:
		for (k = 0; k < 64; k++)
			xv_atomic_store_relaxed_u8(
				&hp_tx_data(h)[(r + k * 7919) &
					       (hp_tx_size(h) - 1)],
				(uint8_t)hp_rand(h));
		break;
	case 16: case 17: case 18:
		/* Event storm. */
		for (k = 0; k < (r >> 8) % 2000; k++)
			hp_kick(h);
		break;
	case 19: case 20: case 21: case 22:
	case 23: case 24: case 25: case 26:
		hp_sleep_us((long)((r >> 8) % 500));
		break;
	default:
		/* Mostly honest, so the victim gets far enough to be hurt. */
		if (r & 0x100)
			hp_honest_read(h);
		else
			(void)hp_honest_write(h, (uint8_t)(r >> 16),
					      (uint32_t)((r >> 24) % 3000));
		break;
	}
}

/* Scripted breakages after the connect; each leaves the victim one
 * possible answer, and we stay until the victim has closed, so that
 * our own death cannot be what it reports. */
static void hp_play(struct hp *h)
{
	unsigned long i;

	h->tx_prod = xv_atomic_load_relaxed_u32(&hp_tx(h)->prod);
	h->rx_cons = xv_atomic_load_relaxed_u32(&hp_rx(h)->cons);
	switch (h->mode) {
	case HP_PROD_BEYOND:
		xv_atomic_store_release_u32(&hp_tx(h)->prod,
					    h->tx_prod + hp_tx_size(h) + 1);
		hp_kick(h);
		break;
	case HP_PROD_BACK:
		if (hp_honest_write(h, 'x', 20) != 20)
			hp_die(3, "no room for 20 bytes");
		/* The victim has seen prod 20 and read 10 when it fills its
		 * ring: go back 5, behind what it saw but still ahead of
		 * what it read, so that only the backwards check sees it;
		 * only then let its write finish. */
		hp_wait_u32(h, &hp_rx(h)->prod, h->rx_cons + hp_rx_size(h));
		xv_atomic_store_release_u32(&hp_tx(h)->prod, h->tx_prod - 5);
		hp_honest_read(h);
		break;
	case HP_CONS_BEYOND:
		/* Half the index space ahead: impossible whatever the victim
		 * wrote meanwhile. */
		xv_atomic_store_release_u32(&hp_rx(h)->cons,
					    h->rx_cons + 0x80000000u);
		hp_kick(h);
		break;
	case HP_LIVE_JUNK:
		xv_atomic_store_release_u8(hp_own_live(h), 0x5a);
		hp_kick(h);
		break;
	case HP_ORDERS_REWRITE:
		/* The orders were fixed at connect: rewriting them, and the
		 * grant list, must change nothing for the victim. */
		xv_atomic_store_relaxed_u16(&h->page->left_order, 20);
		xv_atomic_store_relaxed_u16(&h->page->right_order, 20);
		for (i = 0; i < 64; i++)
			xv_atomic_store_relaxed_u32(&h->page->grants[i],
						    0xdead0000u + (uint32_t)i);
		if (hp_honest_write(h, 'o', 5) != 5)
			hp_die(3, "no room for 5 bytes");
		/* Then leave cleanly: the victim reads 5 bytes, then EOF. */
		hp_wait_u32(h, &hp_tx(h)->cons, h->tx_prod);
		xv_atomic_store_release_u8(hp_own_live(h), 0);
		hp_kick(h);
		break;
	case HP_BIND_LATE:
		/* Nothing in the protocol orders a client's bind before its
		 * live byte. The victim's first byte says: bind now. */
		hp_wait_u32(h, &hp_rx(h)->prod, h->rx_cons + 1);
		hp_client_bind(h);
		hp_honest_read(h);
		if (hp_honest_write(h, 'l', 5) != 5)
			hp_die(3, "no room for 5 bytes");
		/* Then leave cleanly: the victim reads 5 bytes, then EOF. */
		hp_wait_u32(h, &hp_tx(h)->cons, h->tx_prod);
		xv_atomic_store_release_u8(hp_own_live(h), 0);
		hp_kick(h);
		break;
	case HP_CLOSE_RACE:
		/* Ask for room first, so that the victim's look at an empty
		 * ring gives back the room of our 10 bytes and kicks us. */
		xv_atomic_fetch_or_u8(&h->page->srv_notify, VCHAN_NOTIFY_READ);
		if (hp_honest_write(h, 'a', 10) != 10)
			hp_die(3, "no room for 10 bytes");
		/* The victim waits in that kick (its test's hook) until we
		 * have published 5 more bytes and gone. */
		hp_wait_u32(h, &hp_tx(h)->cons, h->tx_prod);
		if (hp_honest_write(h, 'b', 5) != 5)
			hp_die(3, "no room for 5 bytes");
		xv_atomic_store_release_u8(hp_own_live(h), 0);
		hp_kick(h);
		break;
	case HP_IDLE:
		/* The victim must sleep through this, not spin. */
		hp_sleep_us(1000 * 1000);
		xv_atomic_store_release_u8(hp_own_live(h), 0);
		hp_kick(h);
		break;
	case HP_HANG:
		/* Nothing but our death, as the kernel delivers it: no exit
		 * path of ours runs. */
		for (;;)
			pause();
	case HP_GARBAGE:
		for (i = 0; i < h->rounds; i++)
			hp_garbage_round(h);
		/* Leave by dying: the simulator clears our live byte. */
		return;
	case HP_ALIAS_PAGE:
		/* The victim's first write lands on the page's indices. */
		break;
	case HP_ALIAS_RINGS:
		/* Offer the victim its own 100 bytes as ours, then leave. */
		hp_wait_u32(h, &h->page->left.prod, 100);
		xv_atomic_store_release_u32(&h->page->right.prod, 100);
		hp_kick(h);
		hp_wait_u32(h, &h->page->right.cons, 100);
		xv_atomic_store_release_u8(hp_own_live(h), 0);
		hp_kick(h);
		break;
	default:
		break;
	}
	hp_wait_byte(h, hp_victim_live(h), 0, false);
}

int main(int argc, char **argv)
{
	struct hp h = { 0 };
	unsigned int server_dom, client_dom;
	unsigned int len;
	char *own;
	int m;

#ifdef HP_LSAN
	/* We leave by dying with everything open, on purpose: that is what
	 * the victim must survive, not a leak to report. */
	__lsan_disable();
#endif
	if (argc != 7 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		fprintf(stderr, "usage: hostile-peer server|client MODE "
				"PEER_DOMID PORT SEED ROUNDS\n");
		return 2;
	}
	h.server = !strcmp(argv[1], "server");
	for (m = 0; m < HP_NMODES; m++)
		if (!strcmp(argv[2], hp_mode_names[m]))
			break;
	if (m == HP_NMODES) {
		fprintf(stderr, "hostile-peer: unknown mode %s\n", argv[2]);
		return 2;
	}
	h.mode = (enum hp_mode)m;
	h.peer = (unsigned int)strtoul(argv[3], NULL, 10);
	h.rng = strtoull(argv[5], NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
	h.rounds = strtoul(argv[6], NULL, 10);

	h.xs = xs_open(0);
	if (!h.xs)
		hp_die(3, "xs_open");
	own = xs_read(h.xs, XBT_NULL, "domid", &len);
	if (!own)
		hp_die(3, "read own domid");
	h.own = (unsigned int)strtoul(own, NULL, 10);
	free(own);
	server_dom = h.server ? h.own : h.peer;
	client_dom = h.server ? h.peer : h.own;
	snprintf(h.path, sizeof(h.path),
		 "/local/domain/%u/data/vchan/%u/%s", server_dom, client_dom,
		 argv[4]);

	if (h.server) {
		hp_server_setup(&h);
		if (h.mode == HP_PUBLISH_DIE)
			return 0;
		if (h.mode < HP_ALIAS_PAGE) {
			/* The victim refuses us, or must: wait until it
			 * has given up (the test tells us by killing us). */
			pause();
			return 0;
		}
		hp_wait_byte(&h, &h.page->cli_live, 2, true);
	} else {
		hp_client_setup(&h);
	}
	hp_play(&h);
	return 0;
}
