/*
 * mail.c - the notification mail, built here byte by byte (RFC 5322), so
 * that nothing an engineer typed can become a header or an SMTP line.
 *
 * Only fixed text, the policy's addresses and plain names go into the
 * headers; the Subject ("[bastion] 承認待ち / approval pending #42 gina ->
 * pacs") is RFC 2047 encoded words (UTF-8, base64), whatever it holds.
 * The body is UTF-8 in base64 (Content-Transfer-Encoding: base64): a
 * reason with CR LF, a lone ".", "From " or "Bcc: x" is just bytes
 * inside base64 and can neither end the header block, nor the SMTP data,
 * nor add a recipient. The body says everything twice, Japanese first,
 * then English: the request, the link to the console, and the same
 * decision as ssh commands. A file export request ("[bastion]
 * 持ち出し承認待ち / file export pending #7 gina <- pacs") names the file's
 * path (body only), size and SHA-256 instead of a reason, and the
 * commands file-approve and file-deny. docs/APPROVALS.md,
 * "Notifications"; docs/FILES.md, "Export approval".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "err.h"
#include "mailaddr.h"
#include "notify.h"
#include "text.h"

#define B64_LINE	76	/* characters per body line (RFC 2045) */
#define EW_RAW_MAX	45	/* bytes per encoded word: 60 base64 chars,
				   75 with "=?UTF-8?B?" and "?=" */
#define EW_LINE		76	/* a header line with encoded words, at
				   most (RFC 2047, section 2) */

int
notify_b64(struct buf *b, const void *p, size_t n, const char *eol)
{
	const uint8_t *s = p;
	unsigned char enc[B64_LINE + 4];
	size_t step = B64_LINE / 4 * 3, k;
	int r;

	while (n > 0) {
		k = n < step ? n : step;
		EVP_EncodeBlock(enc, s, (int)k);
		if ((r = buf_put(b, enc, strlen((char *)enc))) != 0 ||
		    (eol != NULL && (r = buf_put(b, eol, strlen(eol))) != 0))
			return (r);
		s += k;
		n -= k;
	}
	return (0);
}

int
notify_header_encoded(struct buf *b, const char *name, const char *s)
{
	size_t len = strlen(s), i = 0, start, k, raw;
	int r, first = 1;

	if (!text_is_clean(s, len) || strlen(name) > EW_LINE - 26)
		return (BERR_FORMAT);
	if ((r = buf_putf(b, "%s:", name)) != 0)
		return (r);
	while (i < len) {
		/* whole characters only; the line (name or fold, one blank,
		 * "=?UTF-8?B?", base64, "?=") within EW_LINE */
		raw = (EW_LINE - (first ? strlen(name) + 1 : 0) - 1 - 12) /
		    4 * 3;
		if (raw > EW_RAW_MAX)
			raw = EW_RAW_MAX;
		start = i;
		while (i < len && (k = text_char(s + i, len - i)) > 0 &&
		    i - start + k <= raw)
			i += k;
		if ((r = buf_put(b, first ? " =?UTF-8?B?" : "\n =?UTF-8?B?",
		    first ? 11 : 12)) != 0 ||
		    (r = notify_b64(b, s + start, i - start, NULL)) != 0 ||
		    (r = buf_put(b, "?=", 2)) != 0)
			return (r);
		first = 0;
	}
	return (buf_put(b, "\n", 1));
}

/* A policy name, fit for a Subject: 1..64 of [A-Za-z0-9._-]. */
static int
mail_plain(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return (n > 0 && n <= 64 && s[n] == '\0');
}

/* RFC 5322 date, in English whatever the locale. */
static int
mail_date(struct buf *b, time_t now)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL)
		return (BERR_INVAL);
	return (buf_putf(b, "Date: %.3s, %02d %.3s %04d %02d:%02d:%02d "
	    "+0000\n", days + 3 * tm.tm_wday, tm.tm_mday,
	    months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec));
}

static int
mail_headers(struct buf *b, const struct notify_req *r, const char *from,
    const char *const *to, size_t nto, const char *msgid, time_t now)
{
	char subj[512];
	size_t i;
	int rc;

	const char *what = r->file ? "持ち出し承認待ち / file export "
	    "pending" : "承認待ち / approval pending";

	if (mail_plain(r->engineer) && mail_plain(r->device))
		snprintf(subj, sizeof(subj), "[bastion] %s #%lld %s %s %s",
		    what, r->id, r->engineer, r->file ? "<-" : "->",
		    r->device);
	else
		snprintf(subj, sizeof(subj), "[bastion] %s #%lld", what,
		    r->id);
	if ((rc = buf_putf(b, "From: %s\nTo: ", from)) != 0)
		return (rc);
	for (i = 0; i < nto; i++)
		if ((rc = buf_putf(b, "%s%s", i ? ",\n " : "", to[i])) != 0)
			return (rc);
	if ((rc = buf_put(b, "\n", 1)) != 0 ||
	    (rc = notify_header_encoded(b, "Subject", subj)) != 0 ||
	    (rc = mail_date(b, now)) != 0 ||
	    (rc = buf_putf(b, "Message-ID: <%s@bastion-notify>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Auto-Submitted: auto-generated\n"
	    "X-Bastion-%sRequest: %lld\n\n", msgid, r->file ? "File-" : "",
	    r->id)) != 0)
		return (rc);
	return (0);
}

/* A file export request's part of the body: the file leaves the
 * hospital only when an admin approves these exact bytes. */
static void
mail_file_text(FILE *f, const struct notify_req *r, const char *eng,
    const char *ven, const char *dev, const char *when)
{
	char path[NOTIFY_MAX_PATH];

	text_clean(path, sizeof(path), r->path);
	fprintf(f, "ファイルの持ち出しが承認を待っています。\n"
	    "A file download is waiting for an admin's approval.\n\n"
	    "ファイル要求 / file request  #%lld\n"
	    "技術者 / engineer    %s (%s)\n"
	    "機器 / device        %s\n"
	    "ファイル / path      %s\n"
	    "サイズ / size        %lld bytes\n"
	    "SHA-256              %s\n"
	    "日時 / filed         %s\n\n"
	    "承認すると、技術者はこのハッシュのバイトだけを受け取ります。\n"
	    "If approved, the engineer gets exactly the bytes of this "
	    "hash.\n\n", r->id, eng, ven, dev, path, r->size, r->sha256,
	    when);
}

/* The body, both languages, as UTF-8 text (before base64). */
static int
mail_text(FILE *f, const struct notify_req *r, const struct notify_view *v)
{
	char eng[NOTIFY_MAX_NAME], ven[NOTIFY_MAX_NAME], dev[NOTIFY_MAX_NAME];
	char why[NOTIFY_MAX_REASON], when[64] = "-";
	time_t t = (time_t)r->created;
	struct tm tm;

	/* vendor-supplied or not: no control character gets through */
	text_clean(eng, sizeof(eng), r->engineer);
	text_clean(ven, sizeof(ven), r->vendor);
	text_clean(dev, sizeof(dev), r->device);
	text_clean(why, sizeof(why), r->reason[0] ? r->reason : "-");
	if (r->created > 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	if (r->file)
		mail_file_text(f, r, eng, ven, dev, when);
	else
		fprintf(f, "承認待ちの要求があります。\n"
		    "A request is waiting for an admin's approval.\n\n"
		    "要求 / request       #%lld\n"
		    "技術者 / engineer    %s (%s)\n"
		    "機器 / device        %s\n"
		    "日時 / filed         %s\n"
		    "理由 / reason        %s\n\n", r->id, eng, ven, dev, when,
		    why);
	if (v->link != NULL)
		fprintf(f, "コンソールで開く / open in the console:\n  %s\n\n",
		    v->link);
	fprintf(f, "ssh で (ADMIN はあなたの名前) / with ssh (ADMIN: your "
	    "name):\n"
	    "  承認 / approve:  %s\n"
	    "  却下 / deny:     %s\n\n"
	    "このメールは bastion が自動で送りました。返信しないでください。\n"
	    "This mail was sent by the bastion; do not reply.\n",
	    v->ssh_approve, v->ssh_deny);
	return (ferror(f) ? BERR_NOMEM : 0);
}

int
notify_mail_build(const struct notify_req *r, const struct notify_view *v,
    const char *from, const char *const *to, size_t nto, const char *msgid,
    time_t now, struct buf **out)
{
	struct buf *b = NULL;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int rc;

	*out = NULL;
	if (!mailaddr_ok(from) || nto == 0 || nto > NOTIFY_MAX_TO ||
	    strspn(msgid, "0123456789abcdef-") != strlen(msgid))
		return (BERR_INVAL);
	for (i = 0; i < nto; i++)
		if (!mailaddr_ok(to[i]))
			return (BERR_INVAL);
	if ((b = buf_new(NOTIFY_MAX_MAIL)) == NULL ||
	    (f = open_memstream(&text, &len)) == NULL) {
		buf_free(b);
		return (BERR_NOMEM);
	}
	rc = mail_text(f, r, v);
	if (fclose(f) != 0 && rc == 0)
		rc = BERR_NOMEM;
	if (rc == 0 && (rc = mail_headers(b, r, from, to, nto, msgid,
	    now)) == 0)
		rc = notify_b64(b, text, len, "\n");
	free(text);
	if (rc != 0) {
		buf_free(b);
		return (rc);
	}
	*out = b;
	return (0);
}
