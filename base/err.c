/*
 * err.c - strings for the BERR_* error space, generated from BERR_MAP so the
 * table and the enum can never drift apart (the libuv UV_ERRNO_MAP idea),
 * and berr_why(), the one "say why, return the code" of callers that keep
 * their reason in a caller's buffer.
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

const char *
berr_str(int err)
{
	switch (err) {
#define BERR_STR(name, val, str) \
	case (val):              \
		return (str);
		BERR_MAP(BERR_STR)
#undef BERR_STR
	}
	return ("unknown error");
}

const char *
berr_name(int err)
{
	switch (err) {
#define BERR_NAME(name, val, str) \
	case (val):               \
		return ("BERR_" #name);
		BERR_MAP(BERR_NAME)
#undef BERR_NAME
	}
	return ("BERR_UNKNOWN");
}

int
berr_why(char *buf, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (err);
}
