/*
 * webhook.c - the signed POST of a pending request to the hospital's
 * receiver (a chat bridge, a ticket system), with libcurl.
 *
 * Only https:// (CURLOPT_PROTOCOLS_STR), verified against the policy's
 * ca_file (the hospital's CA) or the system's CAs, no redirects, no
 * proxy from anywhere, each try at most 5 s and all of them (3, with a
 * backoff of 0.5 s and 1 s) inside the deadline bastion-notify was given,
 * so the monitor's 10 s are never exceeded. http:// is allowed only to a
 * loopback address and only when the policy says insecure_http: true
 * (the tests). Each try is signed afresh (sign.c) with its own timestamp;
 * the delivery id stays, so a receiver can drop a repeat.
 * docs/APPROVALS.md, "Notifications".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "notify.h"

#define HOOK_TRIES		3
#define HOOK_TRY_MS		5000
#define HOOK_ANSWER_MAX		4096	/* of the receiver's answer, kept */

double
notify_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

int
notify_url_check(const char *url, int insecure_http, char *err,
    size_t errlen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int r = -1;

	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "the url is not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "https") == 0)
		r = 0;
	else if (strcmp(scheme, "http") != 0)
		snprintf(err, errlen, "the url's scheme %s is not https",
		    scheme);
	else if (!insecure_http)
		snprintf(err, errlen, "http:// needs insecure_http: true "
		    "(and a loopback address)");
	else if (strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "localhost") == 0)
		r = 0;
	else
		snprintf(err, errlen, "http:// only to a loopback address");
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return (r);
}

/* The receiver's answer is counted and dropped; past 1 MiB the transfer
 * ends (a failure). */
static size_t
hook_sink(char *p, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	(void)p;
	*seen += size * n;
	return (*seen > HOOK_ANSWER_MAX * 256 ? 0 : size * n);
}

/* One try: 0 (2xx), 1 (try again), 2 (refused: do not). */
static int
hook_try(const struct notify_hook *h, const char *body, const char *id,
    long ms, char *err, size_t errlen)
{
	CURL *c;
	struct curl_slist *hd = NULL, *t;
	char line[128], sig[NOTIFY_SIG_LEN];
	long long ts = (long long)time(NULL);
	long status = 0;
	size_t seen = 0;
	CURLcode cc;
	int r = 1;

	if (notify_signature(h->secret, h->secretlen, ts, body, strlen(body),
	    sig) != 0) {
		snprintf(err, errlen, "cannot sign (OpenSSL)");
		return (2);
	}
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (2);
	}
	hd = curl_slist_append(hd, "Content-Type: application/json");
	snprintf(line, sizeof(line), "X-Bastion-Timestamp: %lld", ts);
	if (hd != NULL && (t = curl_slist_append(hd, line)) != NULL)
		hd = t;
	snprintf(line, sizeof(line), "X-Bastion-Delivery: %s", id);
	if (hd != NULL && (t = curl_slist_append(hd, line)) != NULL)
		hd = t;
	snprintf(line, sizeof(line), "X-Bastion-Signature: %s", sig);
	if (hd != NULL && (t = curl_slist_append(hd, line)) != NULL)
		hd = t;
	if (hd == NULL ||
	    curl_easy_setopt(c, CURLOPT_URL, h->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, h->insecure_http ?
	    "http,https" : "https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    (h->ca_file != NULL && curl_easy_setopt(c, CURLOPT_CAINFO,
	    h->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "bastion-notify/1") !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(body)) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hook_sink) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused an option (too old?)");
		r = 2;
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		r = 0;
	else {
		snprintf(err, errlen, "HTTP %ld", status);
		if (status >= 400 && status < 500 && status != 408 &&
		    status != 429)
			r = 2;
	}
out:
	curl_slist_free_all(hd);
	curl_easy_cleanup(c);
	return (r);
}

int
notify_webhook_post(const struct notify_hook *h, const char *body,
    double deadline, char *err, size_t errlen)
{
	static const double backoff[HOOK_TRIES] = { 0.5, 1.0, 0 };
	char id[NOTIFY_UUID_LEN], why[160] = "no try";
	double left;
	int i, tries = 0, r = 1;

	if (notify_url_check(h->url, h->insecure_http, err, errlen) != 0)
		return (-1);
	if (notify_uuid(id) != 0) {
		snprintf(err, errlen, "no random bytes (OpenSSL)");
		return (-1);
	}
	for (i = 0; i < HOOK_TRIES; i++) {
		if ((left = deadline - notify_now()) < 0.2)
			break;
		tries++;
		r = hook_try(h, body, id, left * 1000 < HOOK_TRY_MS ?
		    (long)(left * 1000) : HOOK_TRY_MS, why, sizeof(why));
		if (r != 1)
			break;
		if (i + 1 < HOOK_TRIES && deadline - notify_now() >
		    backoff[i] + 0.2) {
			struct timespec nap = { 0, 0 };

			nap.tv_sec = (time_t)backoff[i];
			nap.tv_nsec = (long)((backoff[i] - (double)nap.tv_sec) *
			    1e9);
			nanosleep(&nap, NULL);
		}
	}
	if (r == 0)
		return (0);
	snprintf(err, errlen, "%s after %d %s", why, tries, tries == 1 ?
	    "try" : "tries");
	return (-1);
}
