/*
 * mailaddr.c - is this a plain mail address, fit for a header as it is?
 * (mailaddr.h says what "plain" allows and why.)
 */
#include <string.h>

#include "mailaddr.h"

int
mailaddr_ok(const char *s)
{
	size_t i, at = 0, nat = 0, len;

	if (s == NULL || (len = strlen(s)) < 3 || len > MAILADDR_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),:;<>[\\]", ch))
			return (0);
		if (ch == '@') {
			at = i;
			nat++;
		}
	}
	return (nat == 1 && at > 0 && at < len - 1);
}
