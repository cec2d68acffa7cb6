/* ring/atomic.h compiles alone under strict C11 (built, not run). */
#include "atomic.h"
