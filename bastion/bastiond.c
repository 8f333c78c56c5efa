/*
 * bastiond.c - the session broker's entry point.
 *
 *   bastiond -f POLICY --check   validate the policy and exit
 *   bastiond -f POLICY --init    create missing host keys, then exit
 *   bastiond -f POLICY [-D] [-d] run the listener (foreground with -D)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditlog.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "state.h"
#include "prog.h"
#include "bastiond.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bastiond -f POLICY [--check | --init] [-D] [-d]\n"
	    "  -f, --policy FILE  policy file (default /etc/bastion/policy.yaml)\n"
	    "      --check        validate the policy and exit (0 = valid)\n"
	    "      --init         create missing host keys and exit\n"
	    "  -D, --foreground   do not detach; log to stderr\n"
	    "  -d, --debug        verbose diagnostics\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'C' },
		{ "init", no_argument, NULL, 'I' },
		{ "foreground", no_argument, NULL, 'D' },
		{ "debug", no_argument, NULL, 'd' },
		{ "worker", required_argument, NULL, 'W' },
		{ "proxied", required_argument, NULL, 'X' },
		{ "policy-fd", required_argument, NULL, 'P' },
		{ "control", required_argument, NULL, 'K' },
		{ "control-web", required_argument, NULL, 'J' },
		{ "peer-watch", required_argument, NULL, 'Y' },
		PROG_OPTS_END
	};
	static const struct prog prog = { "f:Ddh", opts, usage, 2, 0, 0 };
	const char *path = "/etc/bastion/policy.yaml";
	const char *worker_sid = NULL, *control_who = NULL, *web_who = NULL;
	const char *proxied = NULL, *peer_watch = NULL;
	int c, check = 0, init = 0, debug = 0, policy_fd = -1;
	char *end;
	long fdl;
	struct policy *pol = NULL;
	size_t nerrs = 0;
	int r;

	while ((c = prog_getopt(&prog, argc, argv, &r)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'I':
			init = 1;
			break;
		case 'D':
			break;
		case 'd':
			debug = 1;
			break;
		case 'W':
			worker_sid = optarg;
			break;
		case 'X':	/* from the listener: a PROXY header's */
			proxied = optarg;
			break;
		case 'P':	/* from the listener: its validated policy */
			fdl = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || fdl < 3 ||
			    fdl > 1024)
				return (prog_usage(&prog));
			policy_fd = (int)fdl;
			break;
		case 'K':
			control_who = optarg;
			break;
		case 'J':
			web_who = optarg;
			break;
		case 'Y':	/* from the listener: another node's watch */
			peer_watch = optarg;
			break;
		}
	}
	if (r != PROG_GO)
		return (r);
	/* a worker runs under the policy the listener adopted (listener.c
	 * hands over its text), not the file as it may be now */
	if (policy_fd >= 0 && (r = policy_pin(path, policy_fd)) != 0) {
		fprintf(stderr, "bastiond: cannot read the policy the listener "
		    "handed over on descriptor %d: %s\n", policy_fd,
		    berr_str(r));
		return (1);
	}
	if (worker_sid != NULL)
		return (worker_main(path, worker_sid, proxied, debug));
	if (control_who != NULL)
		return (control_main(path, control_who, debug));
	if (web_who != NULL)
		return (control_web_main(path, web_who, debug));
	if (peer_watch != NULL)
		return (peerwatch_main(path, peer_watch, debug));
	log_init("bastiond", 0, debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);

	r = policy_load(path, log_stream(LOG_LVL_ERROR), &nerrs, &pol);
	if (r != 0) {
		if (nerrs == 0)
			fprintf(log_stream(LOG_LVL_ERROR), "%s: %s\n", path,
			    berr_str(r));
		return (1);
	}
	/* the state store's backend: the policy's store: section */
	if ((r = state_configure(pol)) != 0) {
		log_error("%s: %s", path, berr_str(r));
		policy_free(pol);
		return (1);
	}
	if (pol->store_postgresql && !check)
		log_info("state store: PostgreSQL, %s", pol->store_conninfo);
	if (check) {
		printf("%s: OK (%zu vendors, %zu devices, %zu admins, "
		    "%zu auditors)\n", path, pol->nvendors, pol->ndevices,
		    pol->nadmins, pol->nauditors);
		policy_free(pol);
		return (0);
	}
	if (init) {
		if ((r = hostkey_init(pol)) == 0)
			r = recorder_init_key(pol);
		policy_free(pol);
		return (r == 0 ? 0 : 1);
	}
	/* the hash-chained audit log (docs/AUDIT.md): no chain, no service */
	if (auditlog_open(pol->state_dir, AUDITLOG_EAGER) != 0) {
		policy_free(pol);
		return (1);
	}
	r = listener_run(pol, path, debug);
	policy_free(pol);
	return (r);
}
