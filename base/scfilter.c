/*
 * scfilter.c - build and install a seccomp filter described as data
 * (scfilter.h): the libseccomp calls, the kernel's API level check, and
 * the SIGSYS handler that names a forbidden call before the process
 * dies. The lists themselves belong to each program (bastion/sandbox.c,
 * ship/ssandbox.c, recorder/lib/recsandbox.c, web/wsandbox.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "err.h"
#include "log.h"
#include "scfilter.h"

/* The names of the system calls, resolved while the process may still
 * allocate: the SIGSYS handler may not. */
#define SCF_NAMES	512
#define SCF_NAME_MAX	28
static char scf_names[SCF_NAMES][SCF_NAME_MAX];
static char scf_who[32];

static int
scfilter_rule_add(scmp_filter_ctx ctx, const struct scfilter_rule *r,
    uint32_t self)
{
	scmp_datum_t v = r->own_pid ? self : r->value;
	struct scmp_arg_cmp cmp;

	if (r->op == 0)
		return (seccomp_rule_add(ctx, r->action, r->nr, 0));
	/* masked: (arg & datum_a) == datum_b; else arg OP datum_a */
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = r->arg;
	cmp.op = r->op;
	cmp.datum_a = r->op == SCMP_CMP_MASKED_EQ ? r->mask : v;
	cmp.datum_b = r->op == SCMP_CMP_MASKED_EQ ? v : 0;
	return (seccomp_rule_add_array(ctx, r->action, r->nr, 1, &cmp));
}

/*
 * libseccomp probes the kernel's seccomp() system call for its API
 * level; where that call is refused (a service manager's own filter:
 * systemd's SystemCallFilter= without "seccomp") it falls back to level
 * 1, which cannot express SECCOMP_RET_KILL_PROCESS, and seccomp_init()
 * returns NULL. Say so.
 */
int
scfilter_build(const struct scfilter *f, const char *who,
    scmp_filter_ctx *out)
{
	uint32_t self = (uint32_t)getpid();
	scmp_filter_ctx ctx;
	size_t i;
	int r = 0;

	*out = NULL;
	if (seccomp_api_get() < 3) {
		log_error("sandbox: the kernel's seccomp() system call is not "
		    "usable here (libseccomp API level %u, 3 needed to kill "
		    "a process): if %s runs under systemd, its unit's "
		    "SystemCallFilter= must allow \"seccomp\"",
		    seccomp_api_get(), who);
		return (BERR_SYS);
	}
	if ((ctx = seccomp_init(f->otherwise)) == NULL) {
		log_error("sandbox: seccomp_init(%s) failed "
		    "(libseccomp API level %u)", f->name, seccomp_api_get());
		return (BERR_NOMEM);
	}
	for (i = 0; r == 0 && i < f->nlisted; i++)
		r = seccomp_rule_add(ctx, f->listed_action, f->listed[i], 0);
	for (i = 0; r == 0 && i < f->nchecked; i++)
		r = scfilter_rule_add(ctx, &f->checked[i], self);
	/* the kernel's audit names what the filter refused, too */
	if (r == 0 && f->otherwise == SCMP_ACT_TRAP)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (r != 0) {
		log_error("sandbox: cannot build the system call filter: %s",
		    strerror(-r));
		seccomp_release(ctx);
		return (BERR_SYS);
	}
	*out = ctx;
	return (0);
}

int
scfilter_load(scmp_filter_ctx ctx)
{
	int r;

	/* no_new_privs first: libseccomp sets it too, but say it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("sandbox: cannot set no_new_privs: %s",
		    strerror(errno));
		return (BERR_SYS);
	}
	if ((r = seccomp_load(ctx)) != 0) {
		log_error("sandbox: cannot install the system call filter: %s",
		    strerror(-r));
		return (BERR_SYS);
	}
	return (0);
}

/* Append s to line (cap bytes) at *n; async-signal-safe. */
static void
scf_put(char *line, size_t cap, size_t *n, const char *s)
{
	while (*s != '\0' && *n + 1 < cap)
		line[(*n)++] = *s++;
}

/*
 * A call outside the allowlist (SECCOMP_RET_TRAP): one line naming it,
 * then death by SIGSYS. Installed with SA_RESETHAND | SA_NODEFER, so
 * the raise() below meets the default action; should that call itself
 * be trapped, the kernel kills with SIGSYS all the same (a trapped call
 * with SIGSYS at its default).
 */
static void
scf_on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char line[192], num[16];
	size_t n = 0, k = sizeof(num) - 1;
	unsigned v;

	(void)uctx;
	num[k] = '\0';
	if (si != NULL && si->si_code == 1 /* SYS_SECCOMP */) {
		v = (unsigned)si->si_syscall;
		do
			num[--k] = (char)('0' + v % 10);
		while ((v /= 10) != 0 && k > 0);
		scf_put(line, sizeof(line), &n, scf_who);
		scf_put(line, sizeof(line), &n, ": system call ");
		scf_put(line, sizeof(line), &n, num + k);
		if ((unsigned)si->si_syscall < SCF_NAMES &&
		    scf_names[si->si_syscall][0] != '\0') {
			scf_put(line, sizeof(line), &n, " (");
			scf_put(line, sizeof(line), &n,
			    scf_names[si->si_syscall]);
			scf_put(line, sizeof(line), &n, ")");
		}
		scf_put(line, sizeof(line), &n, " is outside its seccomp "
		    "allowlist: killed\n");
		(void)!write(STDERR_FILENO, line, n);
	}
	(void)raise(sig);
	_exit(128 + SIGSYS);
}

static int
scfilter_trap_report(const char *who)
{
	struct sigaction sa;
	char *name;
	int nr;

	snprintf(scf_who, sizeof(scf_who), "%s", who);
	for (nr = 0; nr < SCF_NAMES; nr++) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		snprintf(scf_names[nr], SCF_NAME_MAX, "%s",
		    name != NULL ? name : "");
		free(name);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = scf_on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		log_error("sandbox: cannot catch SIGSYS: %s", strerror(errno));
		return (BERR_SYS);
	}
	return (0);
}

int
scfilter_install(const struct scfilter *f, const char *who)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if ((r = scfilter_build(f, who, &ctx)) != 0)
		return (r);
	if (f->otherwise == SCMP_ACT_TRAP)
		r = scfilter_trap_report(who);
	if (r == 0)
		r = scfilter_load(ctx);
	seccomp_release(ctx);
	return (r);
}
