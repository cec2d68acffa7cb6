/*
 * Shared by the xvchan tools: strict number parsing and error reporting,
 * so that every tool accepts and refuses the same spellings.
 */
#ifndef XV_TOOL_COMMON_H
#define XV_TOOL_COMMON_H

#include <stddef.h>

/* Exit status for a command line the tool refuses (as BSD's EX_USAGE
 * would be, but 2 as most Unix tools use). */
#define XV_TOOL_EXIT_USAGE 2
/* Exit status for a failure after the command line was accepted. */
#define XV_TOOL_EXIT_FAIL 1

/* Name for messages: set once from argv[0] (its basename). */
void xv_tool_set_name(const char *argv0);
const char *xv_tool_name(void);

/* "<name>: <message>\n" on stderr. */
void xv_tool_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Domain id: decimal digits only, no leading zero, 0..XVCHAN_DOMID_MAX
 * (32751; 32752 is DOMID_FIRST_RESERVED, the first id naming no domain).
 * Returns 0, -EINVAL (not a plain decimal number) or -ERANGE.
 */
int xv_tool_parse_domid(const char *s, unsigned int *out);

/*
 * Byte size: decimal digits (no leading zero), optionally followed by one
 * suffix K (x1024) or M (x1048576), either case; nothing else (no sign,
 * spaces, "0x", "KB").
 * Returns 0 with *out in [@min, @max], -EINVAL (syntax) or -ERANGE.
 */
int xv_tool_parse_size(const char *s, size_t min, size_t max, size_t *out);

/* Plain decimal (no leading zero, no suffix) in 0..@max, e.g. a timeout in
 * milliseconds.  Returns 0, -EINVAL or -ERANGE. */
int xv_tool_parse_uint(const char *s, unsigned long max, unsigned long *out);

#endif
