/*
 * The only place in xvchan where atomics are spelled.
 *
 * The control page is Xen's wire struct: plain uint32_t/uint8_t/uint16_t
 * fields, written concurrently by the peer domain. C11 gives no guarantee
 * that a plain object may be accessed through an `_Atomic` lvalue (size,
 * alignment and representation of `_Atomic T` may differ from T), so these
 * helpers use the GCC/Clang `__atomic` builtins, which are defined on plain
 * objects (as PipeWire's SPA ring does) and which ThreadSanitizer models.
 * The memory orders are the C11 ones; the static asserts below pin the
 * assumptions the builtins need: natural size and always lock-free, so the
 * same instruction works against a peer in another address space.
 *
 * Each helper is named for its intent; the caller's comment names the
 * ORDERING CONTRACT label (ring/ring.h) it implements.
 */
#ifndef XV_RING_ATOMIC_H
#define XV_RING_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "ring/atomic.h needs the GCC/Clang __atomic builtins"
#endif

_Static_assert(sizeof(uint32_t) == 4 && _Alignof(uint32_t) == 4,
	       "indices are naturally aligned 32-bit words");
_Static_assert(sizeof(uint16_t) == 2 && _Alignof(uint16_t) == 2,
	       "orders are naturally aligned 16-bit words");
/* Lock-free as C11 defines it: the same instruction a peer domain uses. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && sizeof(int) == sizeof(uint32_t),
	       "cross-domain index access must be lock-free");
_Static_assert(ATOMIC_SHORT_LOCK_FREE == 2 &&
	       sizeof(short) == sizeof(uint16_t),
	       "cross-domain order access must be lock-free");
_Static_assert(ATOMIC_CHAR_LOCK_FREE == 2,
	       "cross-domain notify/live access must be lock-free");

/*
 * A flag between two threads of ours (flow/: who holds the read side).
 * Taking it acquires what the last holder did; giving it back releases
 * what we did.
 */
static inline int xv_atomic_take_int(int *flag)
{
	return __atomic_exchange_n(flag, 1, __ATOMIC_ACQUIRE);
}

static inline void xv_atomic_give_int(int *flag)
{
	__atomic_store_n(flag, 0, __ATOMIC_RELEASE);
}

/* Read-once of a value whose ordering does not matter (own copy, orders). */
static inline uint32_t xv_atomic_load_relaxed_u32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint16_t xv_atomic_load_relaxed_u16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint8_t xv_atomic_load_relaxed_u8(const uint8_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/*
 * The endpoint's sticky error: set by whichever of its rx/tx users finds
 * the peer lying, read by both, so a race-free word but no ordering.
 */
static inline int xv_atomic_load_relaxed_int(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void xv_atomic_store_relaxed_int(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Peer's index: what the peer wrote /before/ its release is visible after. */
static inline uint32_t xv_atomic_load_acquire_u32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint8_t xv_atomic_load_acquire_u8(const uint8_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Publish our index: everything we did /before/ is visible to an acquirer. */
static inline void xv_atomic_store_release_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void xv_atomic_store_release_u8(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Set-up writes done before the page is handed to the peer. */
static inline void xv_atomic_store_relaxed_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void xv_atomic_store_relaxed_u16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void xv_atomic_store_relaxed_u8(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * Set or clear notify/flag bits without losing the peer's concurrent
 * changes to the other bits of the same byte. Sequentially consistent, so
 * they are also release (flag publication) and acquire (taking a request).
 */
static inline uint8_t xv_atomic_fetch_or_u8(uint8_t *p, uint8_t bits)
{
	return __atomic_fetch_or(p, bits, __ATOMIC_SEQ_CST);
}

static inline uint8_t xv_atomic_fetch_and_u8(uint8_t *p, uint8_t mask)
{
	return __atomic_fetch_and(p, mask, __ATOMIC_SEQ_CST);
}

/*
 * Store->load ordering for the N1/N2 notify handshake; nothing else.
 * ThreadSanitizer does not model fences (gcc 12 says so with -Wtsan, an
 * error under -Werror); the fence still executes, and the threaded
 * lost-wake-up test covers what TSan cannot see.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
static inline void xv_atomic_fence_full(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

#endif
