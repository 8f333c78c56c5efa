/*
 * notify_fixture.h - what a notification mail built by notify/mail.c must
 * look like, checked the same way by test_notify.c and fuzz_notify.c:
 * ASCII lines without CR; a header block of mail.c's headers only (each
 * line a known name or a folded continuation, every RFC 2047 encoded word
 * at most 75 characters and its line at most 76); a blank line; a body of base64 lines of at most
 * 76 characters that decodes. A value that slipped into a header or out
 * of base64 fails it.
 */
#ifndef NOTIFY_FIXTURE_H
#define NOTIFY_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

static const char *const notify_fixture_headers[] = { "From: ", "To: ",
    "Subject: ", "Date: ", "Message-ID: ", "MIME-Version: ",
    "Content-Type: ", "Content-Transfer-Encoding: ", "Auto-Submitted: ",
    "X-Bastion-Request: ", "X-Bastion-File-Request: ", " ", NULL };

/* 1 if the header block head (modified) is made of known lines only. */
static int
notify_fixture_head_ok(char *head)
{
	char *line, *save = NULL, *w;
	int i, ok;

	for (line = strtok_r(head, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0, ok = 0; notify_fixture_headers[i] != NULL; i++)
			ok |= strncmp(line, notify_fixture_headers[i],
			    strlen(notify_fixture_headers[i])) == 0;
		/* RFC 2047: a word at most 75, its line at most 76 */
		if (!ok || ((w = strstr(line, "=?UTF-8?B?")) != NULL &&
		    (strlen(w) > 75 || strlen(line) > 76)))
			return (0);
	}
	return (1);
}

/*
 * Check the message p[0..len-1]; on success return 0 with its header
 * block in *head and its decoded body (NUL-terminated) in *body, both for
 * the caller to free; -1 when it is not such a message.
 */
static int
notify_fixture_split(const uint8_t *p, size_t len, char **head, char **body)
{
	char *all, *sep, *joined, *q;
	const char *l, *nl;
	uint8_t *dec = NULL;
	size_t i, declen;
	int r = -1;

	*head = *body = NULL;
	if ((all = malloc(len + 1)) == NULL || (joined = malloc(len + 1)) ==
	    NULL) {
		free(all);
		return (-1);
	}
	memcpy(all, p, len);
	all[len] = '\0';
	for (i = 0; i < len; i++)
		if (all[i] == '\r' || all[i] == '\0' ||
		    (unsigned char)all[i] >= 0x7f)
			goto out;
	if ((sep = strstr(all, "\n\n")) == NULL)
		goto out;
	*sep = '\0';
	for (l = sep + 2; (nl = strchr(l, '\n')) != NULL; l = nl + 1)
		if (nl - l > 76)
			goto out;
	for (q = joined, l = sep + 2; *l != '\0'; l++) {
		if (*l == '\n')
			continue;
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=", *l) == NULL)
			goto out;
		*q++ = *l;
	}
	*q = '\0';
	if (b64_decode(joined, len, 0, &dec, &declen) != 0)
		goto out;
	if ((*head = strdup(all)) == NULL || !notify_fixture_head_ok(all)) {
		free(*head);
		*head = NULL;
		free(dec);
		goto out;
	}
	*body = (char *)dec;	/* b64_decode leaves a NUL after it */
	r = 0;
out:
	free(joined);
	free(all);
	return (r);
}

#endif
