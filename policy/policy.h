/*
 * policy.h - the bastion policy: one YAML file, parsed with libyaml into the
 * typed structures below and validated as a whole.
 *
 * The policy is the only configuration: who may connect (vendors, their
 * engineers and keys, admins, auditors), from where (source networks), to
 * what (devices inside the vendor's segments, ports listed for forwarding),
 * and under which limits. docs/POLICY.md documents every key.
 *
 * Loading never stops at the first problem: policy_load() collects every
 * problem it finds as "FILE:LINE: what is wrong — what to do" so an admin
 * fixes a file in one pass. A policy with any problem is not returned.
 *
 * Ownership: policy_load() returns a struct policy the caller frees with
 * policy_free(); everything it points to is owned by it.
 */
#ifndef BASTION_POLICY_H
#define BASTION_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "netaddr.h"

/* Hard limits, so that a hostile or broken file cannot exhaust memory. */
#define POLICY_MAX_FILE_SIZE	(4u * 1024 * 1024)
#define POLICY_MAX_NAME		64	/* names of vendors, people, devices */
#define POLICY_MAX_ITEMS	4096	/* entries in any one list */
#define POLICY_MAX_STRING	16384	/* any one value (keys are long) */
#define POLICY_MAX_TEXT		256	/* description, full_name */
#define POLICY_DEFAULT_ADMIN_GROUP "bastion-admin"	/* admin_group: */
#define POLICY_DEFAULT_WORKER_USER "bastion"		/* worker_user: */

/* An authorized_keys-format public key, as written in the file. */
struct policy_key {
	char *type;		/* "sk-ssh-ed25519@openssh.com", ... */
	char *base64;		/* the key blob, base64 as in the file */
	char *comment;		/* may be NULL */
	int is_sk;		/* a FIDO security-key type */
	int verify_required;	/* option verify-required was given */
	int no_touch_required;	/* option no-touch-required was given */
	int line;
};

/* Engineers, admins and auditors are all "people" with keys. */
struct policy_person {
	char *name;
	char *full_name;	/* optional, for reports */
	struct policy_key *keys;
	size_t nkeys;
	time_t valid_until;	/* 0: no expiry; else end of that day, UTC */
	int enabled;		/* default 1 */
	struct policy_vendor *vendor; /* engineers only, else NULL */
	char *unix_user;	/* admins only: their login on the bastion
				 * host, for bastionctl (NULL: none) */
	int unix_user_line;
	int line;
};

/* limits.touch_transfer_window: at most an hour */
#define TOUCH_TRANSFER_WINDOW_MAX	3600

enum policy_touch { POLICY_TOUCH_REQUIRED = 0, POLICY_TOUCH_OFF };

/* Approval rule: on a vendor (default for its devices) or a device. */
struct policy_window {
	uint8_t days;		/* bit 0 = Monday ... bit 6 = Sunday */
	int start_min;		/* minutes after midnight, local time */
	int end_min;		/* exclusive; may be < start_min (overnight) */
};

struct policy_approval {
	int set;		/* 0: inherit */
	int required;
	int second_approver;	/* four eyes */
	unsigned max_grant;	/* seconds, 0 = policy default */
	struct policy_window *windows; /* pre-approved maintenance windows */
	size_t nwindows;
};

/* files: (issue 18, docs/FILES.md): what SFTP may move, per vendor, a
 * device's own block replacing its vendor's whole. Without one: both
 * directions, no size limit, legacy scp relayed as opaque bytes. */
#define POLICY_FILES_IN		0x1	/* to the device */
#define POLICY_FILES_OUT	0x2	/* from the device */
#define POLICY_FILES_MAX_SIZE	(1ULL << 50)	/* 1 PiB: a sanity cap */
#define POLICY_FILES_TYPES	16	/* files: types: entries */
#define POLICY_FILES_TYPE_MAX	79	/* bytes of one MIME type */

struct policy_files {
	int set;			/* 0: no files: block here */
	unsigned directions;		/* POLICY_FILES_IN | _OUT */
	uint64_t max_file_size;		/* bytes, 0: no limit */
	uint64_t max_session_bytes;	/* bytes, 0: no limit */
	int legacy_scp;			/* POLICY_SCP_*: scp -O parsed
					   and recorded per file (the
					   default), opaque, or refused */
	int scan;			/* 1: scan: clamd, the import airlock
					   (docs/FILES.md): uploads held on
					   the bastion, scanned, then placed */
	char clamd_socket[108];		/* its Unix socket (sun_path) */
	int approve_out;		/* 1: approve: out, export approval
					   (docs/FILES.md): a download is
					   held until an admin approves its
					   size and SHA-256 */
	/* types: the MIME types (libmagic, by content) an upload through
	 * the airlock may have; none: any */
	char types[POLICY_FILES_TYPES][POLICY_FILES_TYPE_MAX + 1];
	unsigned ntypes;
	int line;
};
/* legacy_scp: parse (0, the default: docs/FILES.md "Legacy scp"),
 * opaque (relayed as bytes), refuse */
#define POLICY_SCP_PARSE	0
#define POLICY_SCP_OPAQUE	1
#define POLICY_SCP_REFUSE	2
#define POLICY_CLAMD_SOCKET	"/run/clamav/clamd.ctl"	/* Debian's */

struct policy_vendor {
	char *name;
	char *description;
	struct netaddr_cidr *segments;	/* where its devices live */
	size_t nsegments;
	struct netaddr_cidr *sources;	/* where its engineers connect from */
	size_t nsources;
	int allow_non_sk_keys;		/* default 0 */
	int work_record;		/* -1: the policy's work_record */
	int require_attestation;	/* -1: the policy's; else 0 or 1 */
	enum policy_touch touch;	/* default required */
	struct policy_approval approval;
	struct policy_files files;	/* files: (or unset) */
	struct policy_person *engineers;
	size_t nengineers;
	int line;
};

struct policy_device {
	char *name;
	char *description;	/* department and room, shown to engineers */
	struct policy_vendor *vendor;
	char *vendor_name;
	struct netaddr addr;	/* a literal IP address, inside a segment */
	char *address;		/* as written */
	uint16_t port;		/* default 22 */
	char *login;		/* user name on the device */
	char *credential;	/* path of the bastion's private key for it */
	char *host_key;		/* pinned "type base64" of the device */
	uint16_t *forward_ports;
	size_t nforward_ports;
	struct policy_approval approval;
	struct policy_files files;	/* its own files:, else its vendor's */
	int line;
};

/*
 * approval.notify: the settings of the shipped helper bastion-notify
 * (docs/APPROVALS.md, "Notifications"). Mail when mail_command is set,
 * a webhook when webhook_url is; set is 0 when the policy has neither.
 */
struct policy_notify {
	int set;
	char *mail_command;	/* "/usr/sbin/sendmail -t -oi": words */
	char **mail_to;		/* plain addresses (mailaddr.h) */
	size_t nmail_to;
	char *mail_from;
	char *webhook_url;	/* https:// (http:// to loopback with
				   insecure_http) */
	char *webhook_secret_file;
	char *webhook_ca_file;	/* NULL: the system's CAs */
	int webhook_insecure_http;
	char *console_url;	/* the web console's base URL; NULL: no link */
	char *ssh_host;		/* for the ssh commands; NULL: the console's
				   host, else the machine's name */
};

struct policy;
/* The console the messages link to: approval.notify.console_url, else the
 * web console's origin (web.origin) when the policy has one, else NULL
 * (no link). Points into p. policy_notify.c. */
const char *policy_notify_console_url(const struct policy *p);

struct policy_listen {
	char *host;		/* literal address */
	uint16_t port;
};

/* recordings: store: s3 (policy_recstore.c; bastion-ship, docs/
 * RECORDING-STORE.md): where sealed recordings are shipped. */
struct policy_recstore {
	int s3;			/* 1: ship to the S3 store below */
	char *endpoint;		/* https://HOST[:PORT] (http:// only to a
				   loopback address) */
	char *bucket;
	char *region;		/* default "us-east-1" */
	char *prefix;		/* object keys start PREFIX/; NULL: none */
	char *credentials_file;	/* access_key_id, secret_access_key */
	char *ca_file;		/* NULL: the system's CAs */
	char *ledger_dir;	/* what was shipped; default STATE_DIR/shipped */
	unsigned interval;	/* seconds between passes, default 30 */
	unsigned retry;		/* first backoff after a failure, default 30;
				   doubled per try up to an hour */
	unsigned keep_local;	/* seconds a shipped recording stays in the
				   spool; 0: kept for good (no key) */
	int keep_local_set;
};

/* The web console (issue 17, docs/WEB.md): set only with a web: section,
 * which turns RUN_DIR/web.sock on. */
struct policy_web {
	int set;
	char *origin;		/* "https://HOST[:PORT]", exact, no escaping */
	char *host;		/* HOST of the origin */
	char *rp_id;		/* WebAuthn rpId: HOST or a parent domain */
	char *language;		/* "ja" (default) or "en" */
	char *time_zone;	/* IANA name, default Asia/Tokyo */
	int require_uv;		/* assertions need user verification */
	char *daemon_user;	/* who may connect to web.sock, default
				 * POLICY_DEFAULT_WEB_USER */
};
#define POLICY_DEFAULT_WEB_USER		"bastion-web"
#define POLICY_DEFAULT_TIME_ZONE	"Asia/Tokyo"
#define POLICY_ZONEINFO_DIR		"/usr/share/zoneinfo"
#define POLICY_MAX_REC_RECIPIENTS	32	/* AGE_MAX_RECIPIENTS */

/* store: nodes: NAME: KEY, another node's audit public key (Ed25519,
 * the base64 line of its STATE_DIR/audit.key.pub: SubjectPublicKeyInfo
 * DER), which its watch requests are signed with (docs/SCALE-OUT.md). */
struct policy_node_key {
	char *node;
	char *key;
};

struct policy {
	char *path;		/* the file it came from */
	uint8_t sha256[32];	/* hash of the file's bytes */
	uint8_t *text;		/* those bytes, as validated */
	size_t textlen;

	struct policy_listen *listen;
	size_t nlisten;
	/* proxy_protocol: from: the load balancers whose connections start
	 * with a PROXY protocol header (policy_proxy.c, docs/SCALE-OUT.md);
	 * none: no header is read from anyone */
	struct netaddr_cidr *proxy_from;
	size_t nproxy_from;

	/* paths */
	char **host_keys;	/* the bastion's own host key files */
	size_t nhost_keys;
	char *state_dir;
	char *recordings_dir;
	char *run_dir;		/* sockets */
	char *pam_service_dir;	/* NULL: /etc/pam.d; else pam_start_confdir */
	char *recorder_socket;	/* always set: paths.recorder_socket, else
				   RUN_DIR/recorder.sock */
	int recorder_external;	/* paths.recorder_socket was given: a
				   recorder started apart (its own service)
				   serves it; bastiond starts none */

	/* limits, in seconds */
	unsigned login_grace;		/* default 30 */
	unsigned max_unauthenticated;	/* default 20: from outside vendor
					   sources, and silent clients */
	unsigned per_source_max_unauthenticated;	/* default 10: per IPv4
					   address / IPv6 /64 outside them */
	unsigned vendor_source_max_unauthenticated;	/* default 64: per
					   vendor, from inside its sources */
	unsigned vendor_source_penalty_max;	/* default 60: the longest
					   penalty inside vendor sources */
	unsigned idle_timeout;		/* default 900 */
	unsigned idle_warning;		/* default 60, before the cut */
	unsigned max_session;		/* default 14400 */
	unsigned keepalive;		/* default 30 */
	unsigned recording_min_free_mb;	/* default 256: below, sessions are
					   refused (the recorder's -m) */
	/* recordings: (policy_recordings.c) */
	char **rec_recipients;		/* age1... keys: format 2 */
	size_t nrec_recipients;
	int rec_server_unlock;		/* 1: the console may decrypt */
	char *rec_server_identity;	/* the key it decrypts with */
	unsigned touch_transfer_window;	/* default 300: how long a touch
					   admits transfers without an agent
					   (touch.c); 0 off */

	/* approval defaults */
	struct policy_approval approval;
	unsigned approval_timeout;	/* default 600 */
	unsigned default_max_grant;	/* default 14400 */
	char *notify_command;		/* optional */
	struct policy_notify notify;	/* approval.notify, optional */
	int work_record;		/* ask for a work record at end */
	int require_attestation;	/* engineers' keys must be enrolled
					   with a verified attestation */
	char *admin_group;		/* local bastionctl users; default
					 * POLICY_DEFAULT_ADMIN_GROUP */
	char *worker_user;		/* session workers run as this user
					 * once sandboxed (bastiond as root) */

	/* store: the state store's backend (docs/SCALE-OUT.md) */
	int store_postgresql;		/* 0: SQLite in state_dir (default) */
	char *store_conninfo;		/* PostgreSQL: libpq connection string */
	char *store_password_file;	/* its password; NULL: none */
	char *store_node;		/* this node's name in the store
					 * (store: node:, default the host
					 * name); never NULL once loaded */
	struct policy_listen store_health;	/* store: health: the
						 * readiness port for a load
						 * balancer; host NULL: none */
	unsigned store_checkpoint_s;	/* store: checkpoint_interval: a
					 * signed checkpoint of the audit
					 * chain this often (seconds) */
	unsigned store_lost_after_s;	/* store: lost_after: another
					 * node's sessions are shown lost
					 * once its heartbeat is older */
	struct policy_node_key *store_nodes;	/* store: nodes: the other
						 * nodes' audit keys, pinned
						 * (watch requests) */
	size_t nstore_nodes;

	struct policy_vendor *vendors;
	size_t nvendors;
	struct policy_device *devices;
	size_t ndevices;
	struct policy_person *admins;
	size_t nadmins;
	struct policy_person *auditors;
	size_t nauditors;

	struct policy_web web;
	struct policy_recstore recstore;	/* recordings: store: */
};

/*
 * Load and validate the policy in path. On success returns 0 and sets *out.
 * On failure returns BERR_POLICY (or BERR_SYS, BERR_NOMEM, BERR_CRYPTO when
 * hashing fails, BERR_INVAL for a NULL path or out), sets *out to NULL, and
 * writes one line per problem to errs (a caller-provided FILE*, may be NULL)
 * in the form "FILE:LINE: what is wrong — what to do", sorted by line; line 0
 * means the file as a whole. *nerrs, if not NULL, receives the number of
 * problems (0 after BERR_NOMEM, whose partial problems are dropped).
 * Relative paths inside the file are resolved against the file's absolute
 * directory. docs/POLICY.md documents every key and check.
 */
int policy_load(const char *path, FILE *errs, size_t *nerrs,
    struct policy **out);
void policy_free(struct policy *p);
#define POLICY_CHECKPOINT_S	300	/* store: checkpoint_interval */
#define POLICY_LOST_AFTER_S	60	/* store: lost_after */
/* 1 if s is a node name as store: node takes it (1..63 of [A-Za-z0-9._-],
 * not starting with a dot or dash), else 0. */
int policy_node_name_ok(const char *s);
/* The audit key store: nodes: pins for node (its base64 line), or NULL:
 * none, and that node's watch requests are refused. */
const char *policy_node_key(const struct policy *p, const char *node);
/* The DER of an Ed25519 public key (SubjectPublicKeyInfo) begins so. */
#define POLICY_ED25519_SPKI_PREFIX \
	"\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00"
#define POLICY_ED25519_SPKI_LEN	44

/*
 * Pin the policy of this process: every later policy_load(path) reads the
 * bytes fd holds instead of the file at path. They are read now, from
 * offset 0, and fd is closed in every case; relative paths still resolve
 * against path's directory and problems still name path. bastiond's
 * session workers run under exactly the policy the listener validated last
 * this way (it hands them its text on a descriptor, as sshd's re-executed
 * child gets its configuration from the parent), never a file an admin is
 * half-way through editing. Returns 0, or BERR_SYS (unreadable),
 * BERR_LIMIT (over POLICY_MAX_FILE_SIZE), BERR_NOMEM, BERR_INVAL; on
 * failure nothing is pinned. policy_pin(NULL, -1) removes the pin.
 */
int policy_pin(const char *path, int fd);

/* Lookups; NULL when absent. */
struct policy_vendor *policy_vendor(const struct policy *p, const char *name);
struct policy_device *policy_device(const struct policy *p, const char *name);

enum policy_role { ROLE_NONE = 0, ROLE_ENGINEER, ROLE_ADMIN, ROLE_AUDITOR };
/* The role's name as the policy and the audit say it ("engineer", "admin",
 * "auditor"); "none" for ROLE_NONE or a value out of range. Static. */
const char *policy_role_name(enum policy_role role);
/* Find a person by login name in any role. */
struct policy_person *policy_person(const struct policy *p, const char *name,
    enum policy_role *role);

/* The admin whose unix_user is login; NULL when none is (no default:
 * a policy name equal to a login does not map). */
struct policy_person *policy_admin_by_unix_user(const struct policy *p,
    const char *login);
/* 1 if s is a Unix login name as unix_user: accepts it: [a-z_][a-z0-9_-]*
 * with an optional final '$', at most 32 bytes. */
int policy_unix_user_ok(const char *s);

/* 1 if the person is enabled and not expired at time now. */
/* 1 if s is a name as the policy spells them: [a-z0-9][a-z0-9._-]*, at
 * most POLICY_MAX_NAME bytes. */
int policy_name_ok(const char *s);
/* Is a work record asked of this vendor's engineers (their own
 * work_record, else the hospital-wide one)? */
int policy_work_record(const struct policy *p, const struct policy_vendor *vd);
/*
 * Must this vendor's engineers log in only with keys that `bastionctl
 * enroll` recorded with a verified attestation (the vendor's own
 * require_attestation, else the hospital-wide one)? 1 or 0.
 */
int policy_require_attestation(const struct policy *p,
    const struct policy_vendor *vd);
int policy_person_active(const struct policy_person *who, time_t now);

/*
 * A window "DAYS HH:MM-HH:MM" (DAYS: "daily" or a comma list of days and
 * ranges such as "mon-fri,sat"; an end before the start runs overnight).
 * 0 or BERR_FORMAT (*w zeroed).
 */
int policy_window_parse(const char *s, struct policy_window *w);
/* 1 if the local time tm falls inside w (overnight windows belong to the
 * day they start). */
int policy_window_match(const struct policy_window *w, const struct tm *tm);

/* Effective approval rule for a device (device rule, else vendor rule, else
 * the global default), written to *out. */
void policy_device_approval(const struct policy *p,
    const struct policy_device *d, struct policy_approval *out);

#endif
