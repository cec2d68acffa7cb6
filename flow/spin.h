/*
 * The adaptive spin budget: how long a direction polls its ring before it
 * sleeps on the event channel. A pure function of the budget and of the
 * wait just ended, so that its rule is tested on its own
 * (tests/flow/test-flow-spin.c); xv_flow_spin() and xv_flow_spin_done()
 * in wait.c apply it.
 *
 * Spinning pays when the peer answers within the time a sleep would cost
 * anyway: the wake-up (tens of microseconds on an idle host whose CPUs
 * doze, a few on a busy one). It wastes a CPU when the peer is slow or
 * idle. No fixed budget suits both, so each direction adapts its own,
 * between 0 and spin_us, from how long its waits really last, timed from
 * the first spin of a wait to the progress that ends it:
 *
 * - a wait that ended within spin_us would have been caught by a spin of
 *   twice its length (it may have slept only because the budget was
 *   smaller): the budget grows to that, up to spin_us. Not straight to
 *   spin_us: where most waits are long and a few short (an emulated host
 *   whose vCPUs share one thread), one short wait would buy a long
 *   useless spin at the next. A larger budget that works is kept: a spin
 *   outlasting its wait twice costs more than the sleep it saves, but
 *   shrinking a budget that keeps catching its waits gains nothing;
 * - a longer one (an idle or busy peer) halves the budget, down to 0 after
 *   a few: an idle peer costs one budget per wait, then none.
 *
 * A budget that fell to 0 keeps timing waits, so a peer that becomes quick
 * again restores spinning at its next wait. A fixed 20 us budget, before,
 * was shorter than this host's idle wake-up: both sides of a ping-pong
 * slept in turn, each waking the other too late, and never recovered
 * (docs/performance.md has the figures).
 */
#ifndef XV_FLOW_SPIN_H
#define XV_FLOW_SPIN_H

#include <stdbool.h>
#include <stdint.h>

/* Below this a budget is 0: a spin shorter than one pass is no spin. */
#define XV_FLOW_SPIN_MIN_NS 1000

/**
 * @param budget_ns the budget the wait started with, 0..@max_ns
 * @param waited_ns how long the wait lasted, from its first spin to the
 *                  progress that ended it
 * @param max_ns    the ceiling, spin_us in nanoseconds (> 0)
 * @return the budget for the next wait, 0..@max_ns
 */
static inline int64_t xv_flow_spin_next(int64_t budget_ns, int64_t waited_ns,
					int64_t max_ns)
{
	if (waited_ns > max_ns)
		return budget_ns >= 2 * XV_FLOW_SPIN_MIN_NS ? budget_ns / 2 : 0;
	if (budget_ns < 2 * waited_ns)
		budget_ns = 2 * waited_ns < max_ns ? 2 * waited_ns : max_ns;
	return budget_ns < XV_FLOW_SPIN_MIN_NS ? XV_FLOW_SPIN_MIN_NS :
						 budget_ns;
}

/**
 * The catch-up pause (flow/io.c, XV_FLOW_CATCH_UP_NS): due when a reader
 * that just found its ring empty still spins (@budget_ns > 0) and its
 * endpoint sent nothing since the ring was last found empty (@sent, the
 * tx count now, equals @sent_mark, the count then). A reader that sent
 * may be answering a request, and the peer writes only after it.
 */
static inline bool xv_flow_catch_up_due(int64_t budget_ns, uint32_t sent,
					uint32_t sent_mark)
{
	return budget_ns > 0 && sent == sent_mark;
}

#endif
