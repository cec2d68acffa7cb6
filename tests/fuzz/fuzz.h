/*
 * Shared by the libFuzzer targets and their corpus replay (replay.c).
 * A broken invariant aborts, which both libFuzzer and Check report.
 */
#ifndef XV_TEST_FUZZ_H
#define XV_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The libFuzzer entry point each target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "%s:%d: invariant broken: %s\n",\
				__FILE__, __LINE__, #c);		\
			abort();					\
		}							\
	} while (0)

/* The fuzz input, consumed front to back; zeros once it runs out. */
struct fz_input {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz_input *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_input *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

#endif
