/*
 * fuzz_monitor.c - the worker <-> listener line protocol (proto/monitor.c)
 * as the listener reads a worker (bastion/listener.c) and a worker reads
 * the listener (bastion/relay.c): the byte stream cut into lines by
 * mon_reader_feed, each line through mon_parse, an S line through
 * mon_session_check against a two-vendor policy (the one
 * tests/unit/test_monitor.c builds by hand), a V line's audit line through
 * mon_audit_check, and every other parsed message formatted back
 * (mon_format) into a line that parses to the same message.
 *
 * Input: what a worker writes on its fd 4.
 */
#include "fuzz.h"

#include "err.h"
#include "monitor.h"
#include "policy.h"

#define REC "/var/lib/bastion/recordings"

static struct policy pol;
static struct policy_vendor v[2];
static struct policy_person e[2];
static struct policy_device d[2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	v[0].name = "acme";
	v[1].name = "globex";
	e[0].name = "alice";
	e[0].enabled = 1;
	e[0].vendor = &v[0];
	e[1].name = "gina";
	e[1].enabled = 1;
	e[1].vendor = &v[1];
	v[0].engineers = &e[0];
	v[0].nengineers = 1;
	v[1].engineers = &e[1];
	v[1].nengineers = 1;
	d[0].name = "ct-scanner";
	d[0].vendor = &v[0];
	d[1].name = "pacs";
	d[1].vendor = &v[1];
	pol.vendors = v;
	pol.nvendors = 2;
	pol.devices = d;
	pol.ndevices = 2;
	pol.recordings_dir = REC "/";
	return (0);
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct mon_msg m, again;
	size_t i;
	char out[MON_LINE_MAX + 1], clean[MON_TEXT_MAX + 1];

	(void)arg;
	(void)mon_text_ok(line, len);
	mon_text_clean(line, clean, sizeof(clean));
	if (mon_parse(line, len, &m) != 0)
		return (0);
	switch (m.type) {
	case MON_SESSION:
		(void)mon_session_check(&m, "42", &pol);
		(void)mon_recording_ok(&pol, m.path);
		break;
	case MON_AUDIT:
		/* what the listener accepts goes into the chain as the C
		 * string audit_line() takes: all of it, and a body the chain
		 * takes (no C0, no DEL) */
		if (mon_audit_check(m.audit, m.auditlen, "42", 4242) == NULL)
			for (i = 0; i < m.auditlen; i++)
				if ((unsigned char)m.audit[i] < 0x20 ||
				    m.audit[i] == 0x7f)
					abort();
		break;
	default:
		break;
	}
	/* what parses formats again, to a line that parses the same */
	if (m.type != MON_AUDIT) {
		if (mon_format(&m, out, sizeof(out)) != 0 ||
		    mon_parse(out, strlen(out) - 1, &again) != 0 ||
		    memcmp(&m, &again, sizeof(m)) != 0)
			abort();
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mon_reader r;
	size_t cut = size > 0 ? data[0] % 16 + 1 : 1, n;

	/* in pieces, as reads deliver it */
	mon_reader_init(&r);
	while (size > 0) {
		n = size < cut ? size : cut;
		if (mon_reader_feed(&r, data, n, on_line, NULL) != 0)
			break;
		data += n;
		size -= n;
		cut = cut * 7 % 61 + 1;
	}
	return (0);
}
