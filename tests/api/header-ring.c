/* ring/ring.h compiles alone under strict C11 (built, not run). */
#include "ring.h"
