/*
 * monitor_export.c - the monitor's side of export approval (issue 18,
 * docs/FILES.md "Export approval"). With files: approve: out, the child
 * reads a download from the device into a quarantine file first, hashes
 * it, and asks here (MREQ_EXPORT) for a file export request naming the
 * session, engineer, vendor, device, path, size and SHA-256. The monitor
 * files it in the state store (file.export_requested), has the admins
 * told as for a session request (approval_notify_export: bastion-notify,
 * notify_command), answers the child at once with its number, and subscribes to its decision: the store
 * actor pushes an admin's file-approve or file-deny (STATE_EV_EXPORT; on
 * PostgreSQL from any node), and the monitor's loop polls the
 * subscription beside the child's socket. When the decision lands, or the
 * policy's approval.timeout passes (the request is then marked expired,
 * file.export_expired), the monitor sends the child MANS_EXPORT, which the
 * relay takes whenever it comes: the engineer's other channels and
 * requests go on meanwhile. Requests still pending when the session ends
 * are marked cancelled.
 *
 * Only for an engineer's session whose device's files: policy says
 * approve: out, only in the relay phase, at most MON_EXPORT_MAX pending;
 * anything else is a violation.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor_req.h"
#include "state.h"

#define MON_EXPORT_MAX		16	/* pending at once (the child's) */
#define MON_EXPORT_LOOK_MS	1000	/* without a store actor: look */

struct mon_export {
	int64_t id;
	char path[4097];
	time_t deadline;
	struct state_sub *sub;
};

static int
mon_export_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return (0);
	return (i == 64);
}

/* The answer to the child's request: ok with the id, or why not. */
static void
mon_export_reply(struct mon *M, int64_t id, unsigned timeout_s,
    const char *why)
{
	struct buf *a;

	if ((a = mon_body()) != NULL && buf_put_u32(a, why == NULL ? 0 : 1) ==
	    0 && buf_put_u64(a, (uint64_t)id) == 0 &&
	    buf_put_u32(a, timeout_s) == 0 && buf_put_cstring(a,
	    why != NULL ? why : "") == 0)
		(void)mon_reply(M, MANS_OK, a, NULL, 0);
	buf_free(a);
}

const char *
mon_answer_export(struct mon *M, struct buf *req)
{
	const struct policy_device *d = M->S.dev;
	struct state_export e;
	struct state *st = NULL;
	struct mon_export *x;
	char idstr[24], size[24];
	uint64_t sz;
	int64_t id = 0;
	size_t i;

	if (!mon_is_engineer(M) || !M->rec_open || d == NULL ||
	    !d->files.set || !d->files.approve_out)
		return ("no export approval in this session's policy");
	if (M->nexports >= MON_EXPORT_MAX)
		return ("more export requests pending than the child holds");
	memset(&e, 0, sizeof(e));
	if (mon_get_str(req, e.path, sizeof(e.path)) != 0 || e.path[0] ==
	    '\0' || buf_get_u64(req, &sz) != 0 || sz > INT64_MAX ||
	    mon_get_str(req, e.sha256, sizeof(e.sha256)) != 0 ||
	    !mon_export_hex(e.sha256) || buf_len(req) != 0)
		return ("malformed");
	for (i = 0; e.path[i] != '\0'; i++)
		if ((unsigned char)e.path[i] < 0x20 || e.path[i] == 0x7f)
			e.path[i] = '?';	/* shown to admins */
	e.size = (int64_t)sz;
	snprintf(e.session, sizeof(e.session), "%s", M->S.sid);
	snprintf(e.engineer, sizeof(e.engineer), "%s", M->S.au.who->name);
	snprintf(e.vendor, sizeof(e.vendor), "%s", M->S.au.who->vendor->name);
	snprintf(e.device, sizeof(e.device), "%s", d->name);
	if (state_open(M->S.pol->state_dir, &st) != 0 ||
	    state_export_create(st, &e, &id) != 0 ||
	    (x = calloc(1, sizeof(*x))) == NULL) {
		log_error("session %s: export request for %s not filed: %s",
		    M->S.sid, e.path, st != NULL ? state_errmsg(st) :
		    "the state store cannot be opened");
		state_close(st);
		mon_export_reply(M, 0, 0, "the request could not be filed "
		    "(the state store failed)");
		return (NULL);
	}
	x->id = id;
	memcpy(x->path, e.path, sizeof(x->path));
	x->deadline = time(NULL) + (time_t)M->S.pol->approval_timeout;
	/* no actor (tests, bastionctl's own store): looked at every second */
	(void)state_subscribe(st, STATE_EV_EXPORT, id, &x->sub);
	state_close(st);
	M->exports[M->nexports++] = x;
	snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
	snprintf(size, sizeof(size), "%lld", (long long)e.size);
	audit_ev(BEV_FILE_EXPORT_REQUESTED, "session", M->S.sid, "request",
	    idstr, "user", e.engineer, "vendor", e.vendor, "device", e.device,
	    "path", e.path, "size", size, "sha256", e.sha256, NULL);
	/* word to the admins, as for a session request (approval_notify.c) */
	e.id = id;
	e.created = time(NULL);
	snprintf(e.status, sizeof(e.status), "%s", STATE_REQ_PENDING);
	approval_notify_export(&M->S, &e, &M->notify);
	mon_export_reply(M, id, M->S.pol->approval_timeout, NULL);
	return (NULL);
}

int
mon_export_poll(struct mon *M, struct pollfd *pfd, int room, int *timeout)
{
	time_t now = time(NULL);
	int n = 0, fd;
	size_t i;
	int64_t ms;

	for (i = 0; i < M->nexports; i++) {
		ms = ((int64_t)M->exports[i]->deadline - now) * 1000 + 10;
		if ((fd = state_sub_fd(M->exports[i]->sub)) != -1 && n < room) {
			pfd[n].fd = fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		} else if (ms > MON_EXPORT_LOOK_MS)
			ms = MON_EXPORT_LOOK_MS;
		if (ms < 0)
			ms = 0;
		if (*timeout < 0 || ms < *timeout)
			*timeout = (int)ms;
	}
	return (n);
}

/* What the store says of x now: 1 decided (the child is told), 0 still
 * pending. */
static int
mon_export_look(struct mon *M, struct mon_export *x, time_t now)
{
	struct state_export e;
	struct state *st = NULL;
	struct buf *a;
	char idstr[24];
	int found = 0, r, status;

	if (state_open(M->S.pol->state_dir, &st) != 0 ||
	    state_export_get(st, x->id, &e, &found) != 0 || !found) {
		state_close(st);
		if (now < x->deadline)
			return (0);	/* the store may come back */
		memset(&e, 0, sizeof(e));
		snprintf(e.status, sizeof(e.status), "%s", "error");
		snprintf(e.deny_reason, sizeof(e.deny_reason), "the state "
		    "store cannot be read");
	} else if (strcmp(e.status, STATE_REQ_PENDING) == 0) {
		if (now < x->deadline) {
			state_close(st);
			return (0);
		}
		r = state_export_finish(st, x->id, STATE_REQ_EXPIRED, NULL,
		    "no decision before the timeout");
		if (r == BERR_EXISTS) {		/* decided just now */
			state_close(st);
			return (0);
		}
		snprintf(e.status, sizeof(e.status), "%s", STATE_REQ_EXPIRED);
		snprintf(idstr, sizeof(idstr), "%lld", (long long)x->id);
		audit_ev(BEV_FILE_EXPORT_EXPIRED, "session", M->S.sid,
		    "request", idstr, "user", M->S.au.who->name, "device",
		    M->S.dev->name, "path", x->path, NULL);
	}
	state_close(st);
	status = strcmp(e.status, STATE_REQ_APPROVED) == 0 ? MM_EXP_APPROVED :
	    strcmp(e.status, STATE_REQ_DENIED) == 0 ? MM_EXP_DENIED :
	    strcmp(e.status, STATE_REQ_EXPIRED) == 0 ? MM_EXP_EXPIRED :
	    MM_EXP_OTHER;
	if ((a = mon_body()) != NULL && buf_put_u64(a, (uint64_t)x->id) ==
	    0 && buf_put_u32(a, (uint32_t)status) == 0 &&
	    buf_put_cstring(a, e.decided_by) == 0 &&
	    buf_put_cstring(a, status == MM_EXP_OTHER ? e.status :
	    e.deny_reason) == 0)
		(void)mon_reply(M, MANS_EXPORT, a, NULL, 0);
	buf_free(a);
	return (1);
}

void
mon_export_ready(struct mon *M, const struct pollfd *pfd, int n)
{
	time_t now = time(NULL);
	size_t i;
	int k = 0, look;

	for (i = 0; i < M->nexports; ) {
		struct mon_export *x = M->exports[i];

		look = now >= x->deadline || state_sub_fd(x->sub) == -1;
		if (state_sub_fd(x->sub) != -1 && k < n) {
			if (pfd[k].revents != 0) {
				/* take the pushed word off the socket */
				(void)state_await(x->sub, 0);
				look = 1;
			}
			k++;
		}
		if (look && mon_export_look(M, x, now)) {
			state_unsubscribe(x->sub);
			free(x);
			M->exports[i] = M->exports[--M->nexports];
			/* the pollfds after i no longer line up: the next
			 * turn of the loop looks at the rest */
			return;
		}
		i++;
	}
}

void
mon_export_end(struct mon *M)
{
	struct state *st = NULL;
	size_t i;

	if (M->nexports > 0 && state_open(M->S.pol->state_dir, &st) != 0)
		st = NULL;
	for (i = 0; i < M->nexports; i++) {
		if (st != NULL)
			(void)state_export_finish(st, M->exports[i]->id,
			    STATE_REQ_CANCELLED, NULL, "the session ended");
		state_unsubscribe(M->exports[i]->sub);
		free(M->exports[i]);
	}
	M->nexports = 0;
	state_close(st);
}
