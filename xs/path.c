/* Port and path rules, MirageOS path building, strict number parsing. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs-internal.h"

static const char mirage_prefix[] = "/local/domain/";
static const char mirage_middle[] = "/data/vchan/";
/* The longest key this module writes under a published path. */
#define LONGEST_KEY "/event-channel"

_Static_assert(sizeof("data/vchan/4294967295/") - 1 + XV_XS_PORT_MAX +
	       sizeof(LONGEST_KEY) - 1 == XENSTORE_REL_PATH_MAX,
	       "XV_XS_PORT_MAX keeps the longest key within xenstored's limit");

static bool port_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int xv_xs_port_check(const char *port)
{
	size_t i;

	if (!port || !port[0])
		return -EINVAL;
	for (i = 0; port[i]; i++) {
		if (i >= XV_XS_PORT_MAX || !port_char(port[i]))
			return -EINVAL;
	}
	return 0;
}

/*
 * xenstored counts a path under /local/domain/<domid>/ (up to 5 digits, as
 * its own sscanf reads) from after that prefix, any other absolute path
 * whole; a relative path is made absolute under the caller's home first.
 * Returns the offset its length limit starts from.
 */
static size_t counted_from(const char *path)
{
	size_t n = sizeof(mirage_prefix) - 1, digits = 0;

	if (path[0] != '/')
		return 0;
	if (strncmp(path, mirage_prefix, n) != 0)
		return 0;
	while (path[n + digits] >= '0' && path[n + digits] <= '9')
		digits++;
	if (digits == 0 || digits > 5 || path[n + digits] != '/')
		return 0;
	return n + digits + 1;
}

int xv_xs_path_check(const char *path)
{
	size_t len, i;

	if (!path || !path[0] || path[0] == '@')
		return -EINVAL;
	len = strlen(path);
	/* Bounded before the walk so an absurd string costs nothing more. */
	if (len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!port_char(path[i]) && path[i] != '/' && path[i] != '@')
			return -EINVAL;
	}
	/* "/" itself names the root, where nothing is published. */
	if (path[len - 1] == '/' || strstr(path, "//"))
		return -EINVAL;
	if (len - counted_from(path) + sizeof(LONGEST_KEY) - 1 >
	    XENSTORE_REL_PATH_MAX)
		return -EINVAL;
	return 0;
}

int xv_xs_path_build(char **out, unsigned int server_domid,
		     unsigned int client_domid, const char *port)
{
	char *path;
	int len;

	/* xenstored only counts a path from after a home of at most 5
	 * digits, which every real domid has. */
	if (xv_xs_port_check(port) < 0 || server_domid >= XV_XS_DOMID_END ||
	    client_domid >= XV_XS_DOMID_END)
		return -EINVAL;
	/* Measured first, so the result can never be truncated. */
	len = snprintf(NULL, 0, "%s%u%s%u/%s", mirage_prefix, server_domid,
		       mirage_middle, client_domid, port);
	if (len < 0)
		return -EINVAL;
	path = malloc((size_t)len + 1);
	if (!path)
		return -ENOMEM;
	snprintf(path, (size_t)len + 1, "%s%u%s%u/%s", mirage_prefix,
		 server_domid, mirage_middle, client_domid, port);
	*out = path;
	return 0;
}

/* Skip a domid written as path_build writes it; NULL if there is none. */
static const char *skip_domid(const char *s)
{
	uint32_t domid;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (xv_xs_decimal_parse(s, n, 0, UINT32_MAX, &domid) < 0)
		return NULL;
	return s + n;
}

bool xv_xs_path_is_mirage(const char *path)
{
	const char *p = path;

	if (strncmp(p, mirage_prefix, sizeof(mirage_prefix) - 1) != 0)
		return false;
	p = skip_domid(p + sizeof(mirage_prefix) - 1);
	if (!p || strncmp(p, mirage_middle, sizeof(mirage_middle) - 1) != 0)
		return false;
	p = skip_domid(p + sizeof(mirage_middle) - 1);
	if (!p || *p != '/')
		return false;
	return xv_xs_port_check(p + 1) == 0;
}

int xv_xs_decimal_parse(const char *s, size_t len, uint32_t min,
			uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* 10 digits hold any uint32_t; more can only overflow. */
	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return -EPROTO;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EPROTO;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < min || v > max)
		return -EPROTO;
	*out = (uint32_t)v;
	return 0;
}
