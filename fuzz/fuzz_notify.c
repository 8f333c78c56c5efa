/*
 * fuzz_notify.c - bastion-notify's mail (notify/mail.c) for any engineer,
 * vendor, device and reason: whatever they hold, the message must stay
 * ASCII (the body is base64), its header block must hold only the
 * headers mail.c writes (each line a known name or a folded
 * continuation, no CR), every encoded word must be at most 75
 * characters, and the body must decode to text without a CR. A value
 * that slipped into a header or out of base64 would be a header or SMTP
 * injection.
 *
 * Input: engineer, vendor, device and reason, separated by 0x1f bytes.
 */
#include "fuzz.h"

#include "b64.h"
#include "buf.h"
#include "notify.h"

static const struct notify_view view = {
	"https://bastion.example:8443/#/requests/42",
	"ssh -A ADMIN@bastion.example approve 42 2h",
	"ssh -A ADMIN@bastion.example deny 42 REASON",
};

static void
field(char *out, size_t outlen, const char **p, const char *end)
{
	const char *q = memchr(*p, 0x1f, (size_t)(end - *p));
	size_t n;

	if (q == NULL)
		q = end;
	n = (size_t)(q - *p);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = q < end ? q + 1 : end;
}

static void
header_check(char *head)
{
	static const char *const known[] = { "From: ", "To: ", "Subject: ",
	    "Date: ", "Message-ID: ", "MIME-Version: ", "Content-Type: ",
	    "Content-Transfer-Encoding: ", "Auto-Submitted: ",
	    "X-Bastion-Request: ", " ", NULL };
	char *line, *save = NULL, *w;
	int i, ok;

	for (line = strtok_r(head, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0, ok = 0; known[i] != NULL; i++)
			ok |= strncmp(line, known[i], strlen(known[i])) == 0;
		if (!ok)
			abort();
		if ((w = strstr(line, "=?UTF-8?B?")) != NULL &&
		    strlen(w) > 75)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *to[] = { "it@hospital.example" };
	struct notify_req r;
	struct buf *m = NULL;
	char *all, *sep, *joined, *q;
	uint8_t *dec = NULL;
	size_t i, len;

	memset(&r, 0, sizeof(r));
	r.id = 42;
	field(r.engineer, sizeof(r.engineer), &p, end);
	field(r.vendor, sizeof(r.vendor), &p, end);
	field(r.device, sizeof(r.device), &p, end);
	field(r.reason, sizeof(r.reason), &p, end);
	if (notify_mail_build(&r, &view, "bastion@hospital.example", to, 1,
	    "0123abcd", 1765000000, &m) != 0)
		return (0);
	len = buf_len(m);
	if ((all = malloc(len + 1)) == NULL || (joined = malloc(len + 1)) ==
	    NULL)
		abort();
	memcpy(all, buf_ptr(m), len);
	all[len] = '\0';
	for (i = 0; i < len; i++)
		if (all[i] == '\r' || all[i] == '\0' ||
		    (unsigned char)all[i] >= 0x7f)
			abort();	/* not ASCII lines */
	if ((sep = strstr(all, "\n\n")) == NULL)
		abort();
	*sep = '\0';
	header_check(all);
	for (q = joined, i = 0; sep[2 + i] != '\0'; i++)
		if (sep[2 + i] != '\n')
			*q++ = sep[2 + i];
	*q = '\0';
	if (b64_decode(joined, len, 0, &dec, &len) != 0 ||
	    memchr(dec, '\r', len) != NULL)
		abort();
	free(dec);
	free(joined);
	free(all);
	buf_free(m);
	return (0);
}
