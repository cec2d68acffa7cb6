/* Small pipes between a test and its domain children: values cross as
 * 32-bit words, so a child can report a ref or port, or wait for a go;
 * and the children's own assertion. */
#ifndef XV_TEST_CHAN_H
#define XV_TEST_CHAN_H

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define PAGE 4096

/* In a domain child: report the failed condition and exit 1. */
#define CHILD_ASSERT(c) do { \
		if (!(c)) { \
			fprintf(stderr, "%s:%d: child: %s (errno %d)\n", \
				__FILE__, __LINE__, #c, errno); \
			_exit(1); \
		} \
	} while (0)

/* In a domain child: @call fails (returns 0 or NULL) with errno @err. */
#define CHILD_FAILS(call, err) do { \
		errno = 0; \
		CHILD_ASSERT(!(call)); \
		CHILD_ASSERT(errno == (err)); \
	} while (0)

struct xv_chan {
	int rd, wr;
};

static inline void xv_chan_open(struct xv_chan *c)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	c->rd = p[0];
	c->wr = p[1];
}

static inline void xv_chan_put(struct xv_chan *c, uint32_t v)
{
	ck_assert_int_eq(write(c->wr, &v, sizeof(v)), sizeof(v));
}

/* Returns the next word; ck_asserts if none comes within 10 s. */
static inline uint32_t xv_chan_get(struct xv_chan *c)
{
	struct pollfd p = { .fd = c->rd, .events = POLLIN };
	uint32_t v;

	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_eq(read(c->rd, &v, sizeof(v)), sizeof(v));
	return v;
}

/* Whether @fd becomes readable within @ms. */
static inline int xv_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

#endif
