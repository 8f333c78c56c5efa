/*
 * fuzz_ship.c - what bastion-ship reads from the object store and from
 * its credentials file (ship/): a by-id entry fetched from the store
 * (ship_index_parse: an accepted entry names a key that ends in
 * "/ID.brec" for the asked id, holds no "..", and 64 lower-case hex
 * digits, and is marked cut only when it ends " cut\n"), the <Code> of an S3 error body (s3_error_code: 1 to 64 letters
 * and digits, or nothing), and the credentials file
 * (s3_credentials_parse: an accepted file gives a non-empty key id of
 * letters and digits and a non-empty secret, both NUL-terminated within
 * their fields).
 *
 * Input: one selector byte ('i' entry, 'e' error body, anything else the
 * credentials file), then the bytes.
 */
#include "fuzz.h"

#include "ship.h"

#define ID	"20261207T213651Z-9a5ce9a9528aacf2"

static void
entry(const char *p, size_t n)
{
	char key[SHIP_KEY_MAX], sha[SHIP_SHA256_HEX];
	unsigned long long size;
	size_t kn, wn = strlen("/" ID ".brec");
	int cut = -1;

	if (ship_index_parse(ID, p, n, key, sizeof(key), &size, sha, &cut) != 0)
		return;
	/* cut only for an entry that ends " cut\n" */
	if (cut != (n > 5 && memcmp(p + n - 5, " cut\n", 5) == 0))
		abort();
	kn = strnlen(key, sizeof(key));
	if (kn == sizeof(key) || kn <= wn ||
	    strcmp(key + kn - wn, "/" ID ".brec") != 0 ||
	    strstr(key, "..") != NULL || key[0] == '/' ||
	    strnlen(sha, sizeof(sha)) != 64 ||
	    strspn(sha, "0123456789abcdef") != 64)
		abort();
}

/* p[0..n-1] as a string of its own (what the programs hold) */
static char *
terminated(const char *p, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return (s);
}

static void
error_body(const char *p, size_t n)
{
	char *body, code[80];
	size_t cn;

	if ((body = terminated(p, n)) == NULL)
		return;
	s3_error_code(body, code, sizeof(code));
	cn = strnlen(code, sizeof(code));
	if (cn > 64 || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789") != cn)
		abort();
	free(body);
}

static void
credentials(const char *p, size_t n)
{
	struct s3 s;
	char *text, err[200];
	size_t an;

	if ((text = terminated(p, n)) == NULL)
		return;
	memset(&s, 0, sizeof(s));
	if (s3_credentials_parse(&s, text, err, sizeof(err)) == 0) {
		an = strnlen(s.access_key, sizeof(s.access_key));
		if (an == 0 || an == sizeof(s.access_key) ||
		    strspn(s.access_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
		    "klmnopqrstuvwxyz0123456789") != an ||
		    strnlen(s.secret_key, sizeof(s.secret_key)) == 0 ||
		    strnlen(s.secret_key, sizeof(s.secret_key)) ==
		    sizeof(s.secret_key))
			abort();
	} else if (strnlen(err, sizeof(err)) == 0)
		abort();
	s3_close(&s);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;

	if (size == 0)
		return (0);
	if (data[0] == 'i')
		entry(p, size - 1);
	else if (data[0] == 'e')
		error_body(p, size - 1);
	else
		credentials(p, size - 1);
	return (0);
}
