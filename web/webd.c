/*
 * webd.c - bastion-webd, the web console's HTTPS daemon: main (web.h
 * draws the pieces; docs/WEB.md describes the console).
 *
 * Started by systemd with the listening socket passed in
 * (bastion-webd.socket, sd_listen_fds) and the TLS key and certificate
 * as credentials ($CREDENTIALS_DIRECTORY/tls.key, tls.crt); or, for
 * tests and the demo, with --listen ADDR:PORT, --key and --cert. It
 * reads the key, the certificate and the static files once, starts
 * libmicrohttpd on its loop, wipes its copies of the key, installs its
 * system call filter and serves until SIGTERM. It runs as its own
 * unprivileged user (bastion-web); bastiond admits that user on
 * web.sock and nobody else.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>

#include "err.h"
#include "log.h"
#include "prog.h"
#include "web.h"

#define WEB_PEM_MAX	(64 * 1024)

static void
webd_usage(FILE *f)
{
	fprintf(f, "usage: " WEB_PROGRAM " --origin https://HOST:PORT "
	    "[--listen ADDR:PORT] [--key FILE --cert FILE]\n"
	    "       [--static DIR] [--control PATH] [--priorities GNUTLS] "
	    "[-d]\n"
	    "  the socket comes from systemd (bastion-webd.socket) unless "
	    "--listen is given;\n"
	    "  key and certificate from $CREDENTIALS_DIRECTORY/tls.key and "
	    "tls.crt unless given\n");
}

/* A PEM file, whole and NUL-terminated; the caller wipes and frees. */
static int
webd_read_pem(const char *path, char **out)
{
	size_t len;

	return (web_read_file(path, WEB_PEM_MAX, out, &len));
}

static void
webd_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* --listen ADDR:PORT ([v6]:port too), numeric only. */
static int
webd_listen(const char *spec)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t n;
	int fd = -1, one = 1, e;

	if (colon == NULL || (n = (size_t)(colon - spec)) == 0 ||
	    n >= sizeof(host)) {
		log_error("--listen %s: ADDR:PORT, e.g. 127.0.0.1:8443", spec);
		return (-1);
	}
	memcpy(host, spec, n);
	host[n] = '\0';
	if (host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		log_error("--listen %s: %s", spec, gai_strerror(e));
		return (-1);
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 64) != 0) {
		log_error("--listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return (fd);
}

/* The socket systemd passed, if exactly one stream socket came. */
static int
webd_socket_from_systemd(void)
{
	int n = sd_listen_fds(1);

	if (n <= 0)
		return (-1);
	if (n != 1 || sd_is_socket(SD_LISTEN_FDS_START, AF_UNSPEC,
	    SOCK_STREAM, 1) <= 0) {
		log_error("systemd passed %d sockets; bastion-webd.socket "
		    "should pass one listening stream socket", n);
		return (-2);
	}
	return (SD_LISTEN_FDS_START);
}

static void
webd_signal(uv_signal_t *s, int sig)
{
	log_info("signal %d: stopping", sig);
	uv_stop(s->loop);
}

static void
webd_close_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "origin", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "static", required_argument, NULL, 's' },
		{ "control", required_argument, NULL, 'C' },
		{ "priorities", required_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'd' },
		PROG_OPTS_END
	};
	static const struct prog prog = { "l:o:k:c:s:C:p:dh", opts,
	    webd_usage, 2, 0, 0 };
	const char *listen_spec = NULL, *key_path = NULL, *cert_path = NULL;
	const char *priorities = WEB_TLS_PRIORITIES, *creds;
	char kbuf[4096], cbuf[4096];
	char *key = NULL, *cert = NULL;
	struct webd w;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	int ch, rc, fd, debug = 0;

	memset(&w, 0, sizeof(w));
	w.static_dir = WEB_DEFAULT_STATIC;
	w.ctl_path = WEB_DEFAULT_CTL;
	while ((ch = prog_getopt(&prog, argc, argv, &rc)) != -1) {
		switch (ch) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'o':
			w.origin = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'c':
			cert_path = optarg;
			break;
		case 's':
			w.static_dir = optarg;
			break;
		case 'C':
			w.ctl_path = optarg;
			break;
		case 'p':
			priorities = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		}
	}
	if (rc != PROG_GO)
		return (rc);
	log_init(WEB_PROGRAM, getenv("INVOCATION_ID") != NULL,
	    debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (w.origin == NULL || strncmp(w.origin, "https://", 8) != 0 ||
	    strpbrk(w.origin + 8, "\"\\/ ") != NULL) {
		log_error("--origin https://HOST:PORT is needed: the console's "
		    "address exactly as browsers show it (no path)");
		return (2);
	}
	creds = getenv("CREDENTIALS_DIRECTORY");
	if (key_path == NULL && creds != NULL) {
		snprintf(kbuf, sizeof(kbuf), "%s/tls.key", creds);
		key_path = kbuf;
	}
	if (cert_path == NULL && creds != NULL) {
		snprintf(cbuf, sizeof(cbuf), "%s/tls.crt", creds);
		cert_path = cbuf;
	}
	if (key_path == NULL || cert_path == NULL) {
		log_error("no TLS key and certificate: --key/--cert, or "
		    "LoadCredential=tls.key and tls.crt in the unit");
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	if ((fd = listen_spec != NULL ? webd_listen(listen_spec) :
	    webd_socket_from_systemd()) < 0) {
		if (fd == -1 && listen_spec == NULL)
			log_error("no socket: start through "
			    "bastion-webd.socket, or give --listen");
		return (1);
	}
	if ((rc = webd_read_pem(key_path, &key)) != 0 ||
	    (rc = webd_read_pem(cert_path, &cert)) != 0 ||
	    (rc = http_load_static(&w, w.static_dir)) != 0) {
		webd_wipe(key);
		webd_wipe(cert);
		http_free_static(&w);
		return (1);
	}
	uv_loop_init(&loop);
	w.loop = &loop;
	rc = http_start(&w, fd, key, cert, priorities);
	webd_wipe(key);
	webd_wipe(cert);
	if (rc != 0) {
		http_free_static(&w);
		return (1);
	}
	uv_signal_init(&loop, &sigterm);
	uv_signal_init(&loop, &sigint);
	uv_signal_start(&sigterm, webd_signal, SIGTERM);
	uv_signal_start(&sigint, webd_signal, SIGINT);
	if (wsandbox_apply() != 0)
		return (1);
	log_info("serving %s (control %s)", w.origin, w.ctl_path);
	if (listen_spec == NULL)
		(void)sd_notify(0, "READY=1");
	uv_run(&loop, UV_RUN_DEFAULT);
	http_stop(&w);
	uv_walk(&loop, webd_close_cb, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	(void)uv_loop_close(&loop);
	http_free_static(&w);
	return (0);
}
