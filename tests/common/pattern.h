/*
 * A byte stream whose every byte is a function of (seed, offset), so a
 * receiver can verify any chunk it gets without keeping a copy, and a
 * reordered, duplicated or lost byte is caught at its offset.
 */
#ifndef XV_TEST_PATTERN_H
#define XV_TEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t xv_pattern_mix(uint64_t x)
{
	/* splitmix64 finaliser: every input bit flips about half the output. */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Write @len bytes of stream @seed starting at stream offset @offset. */
static inline void xv_pattern_fill(uint64_t seed, uint64_t offset,
				   unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t block = xv_pattern_mix(seed ^ ((offset + i) >> 3));
		unsigned int lane = (unsigned int)((offset + i) & 7);

		for (; lane < 8 && i < len; lane++, i++)
			buf[i] = (unsigned char)(block >> (lane * 8));
	}
}

/* Return the index of the first byte of @buf that differs from stream
 * @seed at @offset, or @len when all match. */
static inline size_t xv_pattern_check(uint64_t seed, uint64_t offset,
				      const unsigned char *buf, size_t len)
{
	unsigned char want[256];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(want) ? len - done : sizeof(want);

		xv_pattern_fill(seed, offset + done, want, n);
		for (size_t i = 0; i < n; i++)
			if (buf[done + i] != want[i])
				return done + i;
		done += n;
	}
	return len;
}

#endif
