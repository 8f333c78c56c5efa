/*
 * auditckpt.c - the text form of an audit checkpoint (auditckpt.h): the
 * message a node signs and the export line, written and parsed here only.
 *
 * The parser reads untrusted text (an export an auditor was handed): the
 * line must be the magic and then exactly the keys id, node, seq, hash,
 * ts, peers, sig in that order, each "key=value" separated by one blank,
 * every value within its bound and of its alphabet (decimal without
 * leading zeros, lowercase hex of its exact length, node names), and
 * nothing after the signature. Anything else is BERR_FORMAT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditckpt.h"
#include "err.h"
#include "policy.h"

int
ckpt_node_ok(const char *s)
{
	return (s != NULL && policy_node_name_ok(s));
}

/* 1 if s is n lowercase hex digits and nothing else. */
static int
ckpt_hex_ok(const char *s, size_t n)
{
	return (strlen(s) == n && strspn(s, "0123456789abcdef") == n);
}

/* A decimal without sign or leading zeros (but "0"), at most 19 digits. */
static int
ckpt_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		return (BERR_FORMAT);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (BERR_FORMAT);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return (0);
}

int
ckpt_peer_add(struct ckpt *c, const char *node, uint64_t seq,
    const char *hash)
{
	size_t i;

	if (!ckpt_node_ok(node) || !ckpt_hex_ok(hash, AUDITLOG_HEX_LEN))
		return (BERR_INVAL);
	for (i = 0; i < c->npeers; i++)
		if (strcmp(c->peers[i].node, node) >= 0)
			break;
	if (i == c->npeers || strcmp(c->peers[i].node, node) != 0) {
		if (c->npeers == CKPT_PEERS_MAX)
			return (BERR_LIMIT);
		memmove(&c->peers[i + 1], &c->peers[i],
		    (c->npeers - i) * sizeof(c->peers[0]));
		c->npeers++;
	}
	snprintf(c->peers[i].node, sizeof(c->peers[i].node), "%s", node);
	c->peers[i].seq = seq;
	snprintf(c->peers[i].hash, sizeof(c->peers[i].hash), "%s", hash);
	return (0);
}

int
ckpt_peers_format(const struct ckpt *c, char *out, size_t len)
{
	size_t i, o = 0;
	int n;

	if (len == 0)
		return (BERR_LIMIT);
	if (c->npeers == 0) {
		n = snprintf(out, len, "-");
		return (n < 0 || (size_t)n >= len ? BERR_LIMIT : 0);
	}
	out[0] = '\0';
	for (i = 0; i < c->npeers; i++) {
		n = snprintf(out + o, len - o, "%s%s:%llu:%s", i ? "," : "",
		    c->peers[i].node, (unsigned long long)c->peers[i].seq,
		    c->peers[i].hash);
		if (n < 0 || (size_t)n >= len - o)
			return (BERR_LIMIT);
		o += (size_t)n;
	}
	return (0);
}

int
ckpt_peers_parse(const char *s, struct ckpt *c)
{
	char node[CKPT_NODE_MAX + 1], hash[AUDITLOG_HEX_LEN + 1];
	const char *p = s, *e, *c1, *c2;
	uint64_t seq;

	c->npeers = 0;
	if (strcmp(s, "-") == 0)
		return (0);
	for (;;) {
		e = p + strcspn(p, ",");
		if ((c1 = memchr(p, ':', (size_t)(e - p))) == NULL ||
		    (c2 = memchr(c1 + 1, ':', (size_t)(e - c1 - 1))) == NULL ||
		    (size_t)(c1 - p) > CKPT_NODE_MAX ||
		    (size_t)(e - c2 - 1) != AUDITLOG_HEX_LEN ||
		    ckpt_u64(c1 + 1, (size_t)(c2 - c1 - 1), &seq) != 0)
			return (BERR_FORMAT);
		memcpy(node, p, (size_t)(c1 - p));
		node[c1 - p] = '\0';
		memcpy(hash, c2 + 1, AUDITLOG_HEX_LEN);
		hash[AUDITLOG_HEX_LEN] = '\0';
		/* sorted, each node once: what ckpt_peer_add makes */
		if (c->npeers > 0 &&
		    strcmp(c->peers[c->npeers - 1].node, node) >= 0)
			return (BERR_FORMAT);
		if (ckpt_peer_add(c, node, seq, hash) != 0)
			return (BERR_FORMAT);
		if (*e == '\0')
			return (0);
		p = e + 1;
	}
}

/* The fields every form has, in their order; with_id, with_sig. */
static int
ckpt_format(const struct ckpt *c, int full, char *out, size_t len, size_t *n)
{
	char peers[CKPT_PEERS_TEXT_MAX], id[32] = "";
	int w;

	if (!ckpt_node_ok(c->node) || !ckpt_hex_ok(c->hash, AUDITLOG_HEX_LEN) ||
	    c->ts < 0 || c->seq == 0 || (full && (c->id <= 0 ||
	    !ckpt_hex_ok(c->sig, CKPT_SIG_HEX))))
		return (BERR_INVAL);
	if (ckpt_peers_format(c, peers, sizeof(peers)) != 0)
		return (BERR_LIMIT);
	if (full)
		snprintf(id, sizeof(id), " id=%lld", (long long)c->id);
	w = snprintf(out, len, CKPT_MAGIC "%s node=%s seq=%llu hash=%s ts=%lld "
	    "peers=%s%s%s", id, c->node, (unsigned long long)c->seq, c->hash,
	    (long long)c->ts, peers, full ? " sig=" : "", full ? c->sig : "");
	if (w < 0 || (size_t)w >= len)
		return (BERR_LIMIT);
	if (n != NULL)
		*n = (size_t)w;
	return (0);
}

int
ckpt_signed_text(const struct ckpt *c, char *out, size_t len, size_t *n)
{
	return (ckpt_format(c, 0, out, len, n));
}

int
ckpt_line(const struct ckpt *c, char *out, size_t len)
{
	return (ckpt_format(c, 1, out, len, NULL));
}

/*
 * The next " key=value" of *p (before end): value into val (vallen bytes,
 * NUL-terminated). 0 or BERR_FORMAT.
 */
static int
ckpt_take(const char **p, const char *end, const char *key, char *val,
    size_t vallen)
{
	size_t klen = strlen(key), vlen;
	const char *v, *e;

	if ((size_t)(end - *p) < klen + 2 || (*p)[0] != ' ' ||
	    memcmp(*p + 1, key, klen) != 0 || (*p)[klen + 1] != '=')
		return (BERR_FORMAT);
	v = *p + klen + 2;
	if ((e = memchr(v, ' ', (size_t)(end - v))) == NULL)
		e = end;
	vlen = (size_t)(e - v);
	if (vlen == 0 || vlen >= vallen || memchr(v, '\0', vlen) != NULL)
		return (BERR_FORMAT);
	memcpy(val, v, vlen);
	val[vlen] = '\0';
	*p = e;
	return (0);
}

int
ckpt_line_parse(const char *text, size_t len, struct ckpt *c)
{
	static const size_t mlen = sizeof(CKPT_MAGIC) - 1;
	char v[CKPT_PEERS_TEXT_MAX];
	const char *p = text + mlen, *end = text + len;
	uint64_t u;

	memset(c, 0, sizeof(*c));
	if (len > CKPT_LINE_MAX || len < mlen ||
	    memcmp(text, CKPT_MAGIC, mlen) != 0)
		return (BERR_FORMAT);
	if (ckpt_take(&p, end, "id", v, 21) != 0 ||
	    ckpt_u64(v, strlen(v), &u) != 0 || u == 0 || u > INT64_MAX)
		return (BERR_FORMAT);
	c->id = (int64_t)u;
	if (ckpt_take(&p, end, "node", c->node, sizeof(c->node)) != 0 ||
	    !ckpt_node_ok(c->node))
		return (BERR_FORMAT);
	if (ckpt_take(&p, end, "seq", v, 21) != 0 ||
	    ckpt_u64(v, strlen(v), &c->seq) != 0 || c->seq == 0)
		return (BERR_FORMAT);
	if (ckpt_take(&p, end, "hash", c->hash, sizeof(c->hash)) != 0 ||
	    !ckpt_hex_ok(c->hash, AUDITLOG_HEX_LEN))
		return (BERR_FORMAT);
	if (ckpt_take(&p, end, "ts", v, 21) != 0 ||
	    ckpt_u64(v, strlen(v), &u) != 0 || u > INT64_MAX)
		return (BERR_FORMAT);
	c->ts = (int64_t)u;
	if (ckpt_take(&p, end, "peers", v, sizeof(v)) != 0 ||
	    ckpt_peers_parse(v, c) != 0)
		return (BERR_FORMAT);
	if (ckpt_take(&p, end, "sig", c->sig, sizeof(c->sig)) != 0 ||
	    !ckpt_hex_ok(c->sig, CKPT_SIG_HEX) || p != end)
		return (BERR_FORMAT);
	return (0);
}
