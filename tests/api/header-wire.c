/* ring/wire.h compiles alone under strict C11 (built, not run). */
#include "wire.h"
