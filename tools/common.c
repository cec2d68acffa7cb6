/* Number parsing and messages shared by the xvchan tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xvchan.h>

#include "common.h"

static const char *tool_name = "xvchan";

void xv_tool_set_name(const char *argv0)
{
	const char *slash;

	if (!argv0 || !argv0[0])
		return;
	slash = strrchr(argv0, '/');
	tool_name = slash ? slash + 1 : argv0;
}

const char *xv_tool_name(void)
{
	return tool_name;
}

void xv_tool_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Leading decimal digits of @s into *v, saturating at UINT64_MAX so that a
 * huge number is out of range rather than wrapped.  Returns how many digits
 * were read, 0 if there are none or a needless leading zero (which some
 * would read as octal): both are syntax errors for the callers.
 */
static size_t digits(const char *s, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return 0;
	while (s[n] >= '0' && s[n] <= '9') {
		unsigned int d = (unsigned int)(s[n] - '0');

		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
		n++;
	}
	return n;
}

int xv_tool_parse_domid(const char *s, unsigned int *out)
{
	uint64_t v;
	size_t n;

	if (!s)
		return -EINVAL;
	n = digits(s, &v);
	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	if (v > XVCHAN_DOMID_MAX)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

int xv_tool_parse_size(const char *s, size_t min, size_t max, size_t *out)
{
	uint64_t v, unit = 1;
	size_t n;

	if (!s)
		return -EINVAL;
	n = digits(s, &v);
	if (n == 0)
		return -EINVAL;
	if (s[n] == 'K' || s[n] == 'k')
		unit = 1024;
	else if (s[n] == 'M' || s[n] == 'm')
		unit = 1024 * 1024;
	else if (s[n] != '\0')
		return -EINVAL;
	if (unit != 1 && s[n + 1] != '\0')
		return -EINVAL;
	if (v > SIZE_MAX / unit)
		return -ERANGE;
	v *= unit;
	if (v < min || v > max)
		return -ERANGE;
	*out = (size_t)v;
	return 0;
}

int xv_tool_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;
	size_t n;

	if (!s)
		return -EINVAL;
	n = digits(s, &v);
	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = (unsigned long)v;
	return 0;
}
