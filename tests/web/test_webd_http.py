"""bastion-webd over HTTPS, without a browser: the headers on every answer,
the style nonce, the static files from a fixed table only, the body caps,
the cross-site refusals, and what happens when bastiond is not there.
"""

import re
import socket


HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def csp_of(h):
    return dict((d.split(" ", 1) + [""])[:2]
                for d in (x.strip() for x in h["content-security-policy"].split(";")))


def assert_defences(h, api):
    for k, v in HEADERS.items():
        assert h.get(k) == v, (k, h.get(k))
    csp = csp_of(h)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'none'"
    assert "unsafe" not in h["content-security-policy"]
    assert "publickey-credentials-get=(self)" in h["permissions-policy"]
    if api:
        assert h["cache-control"] == "no-store"


def test_page_has_every_defence_and_a_fresh_style_nonce(webd):
    nonces = []
    for _ in range(2):
        st, h, body = webd.request("GET", "/", origin=False)
        assert st == 200
        assert h["content-type"].startswith("text/html")
        assert_defences(h, api=False)
        m = re.search(r"'nonce-([0-9a-f]{32})'", csp_of(h)["style-src"])
        assert m, h["content-security-policy"]
        assert ('<meta name="style-nonce" content="%s">' % m.group(1)).encode() in body
        assert b"__NONCE__" not in body
        assert b"<script>" not in body and b" on" not in body.split(b"<body>")[1].split(b"</body>")[0].replace(b" onclick", b"!")
        nonces.append(m.group(1))
    assert nonces[0] != nonces[1]


def test_static_files_only_from_the_table(webd):
    st, h, body = webd.request("GET", "/vendor/xterm.js", origin=False)
    assert st == 200 and h["content-type"].startswith("text/javascript")
    assert_defences(h, api=False)
    assert "nonce" not in csp_of(h)["style-src"]
    assert len(body) > 100000
    for path in ("/../etc/passwd", "/%2e%2e/etc/passwd", "/index.html",
                 "/js/", "/web.h", "/vendor/SOURCES", "//etc/passwd"):
        st, h, _ = webd.request("GET", path, origin=False)
        assert st == 404, path
        assert_defences(h, api=False)
    st, _, _ = webd.request("POST", "/", body={}, origin=False)
    assert st in (400, 405)


def test_api_refuses_cross_site_requests(webd):
    body = {"user": "bob"}
    # no Origin nor Sec-Fetch-Site: not a same-origin browser request
    st, h, b = webd.request("POST", "/api/login/begin", body, origin=False)
    assert st == 403 and b'"cross_site"' in b
    assert_defences(h, api=True)
    st, _, b = webd.request("POST", "/api/login/begin", body,
                            origin="https://evil.example")
    assert st == 403 and b'"cross_site"' in b
    st, _, b = webd.request("POST", "/api/login/begin", body,
                            headers={"Sec-Fetch-Site": "cross-site"})
    assert st == 403
    st, _, b = webd.request("POST", "/api/login/begin", body,
                            headers={"Sec-Fetch-Site": "same-site"})
    assert st == 403
    # a form post (what a cross-site page can send without a preflight)
    st, _, b = webd.request("POST", "/api/login/begin", "user=bob",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded"})
    assert st == 403 and b"application/json" in b
    st, _, b = webd.request("POST", "/api/login/begin", "user=bob",
                            headers={"Content-Type": "text/plain"})
    assert st == 403
    assert "refused" in webd.log_text()


def test_api_bodies_are_json_objects_and_capped(webd):
    st, h, b = webd.request("POST", "/api/login/begin", "[1,2]",
                            headers={"Content-Type": "application/json"})
    assert st == 400 and b'"bad_body"' in b
    assert_defences(h, api=True)
    st, _, b = webd.request("POST", "/api/login/begin", '{"user":"a","user":"b"}',
                            headers={"Content-Type": "application/json"})
    assert st == 400
    st, _, b = webd.request("POST", "/api/login/begin", "{not json",
                            headers={"Content-Type": "application/json"})
    assert st == 400
    # 8 KiB before sign-in
    big = '{"user":"%s"}' % ("a" * 9000)
    st, _, b = webd.request("POST", "/api/login/begin", big,
                            headers={"Content-Type": "application/json"})
    assert st == 413 and b"8 KiB" in b
    # 16 KiB with a (well-formed) cookie
    cookie = {"Content-Type": "application/json",
              "Cookie": "__Host-bastion=" + "ab" * 32}
    st, _, b = webd.request("POST", "/api/prepare", big, headers=cookie)
    assert st != 413
    st, _, b = webd.request("POST", "/api/prepare",
                            '{"x":"%s"}' % ("a" * 17000), headers=cookie)
    assert st == 413 and b"16 KiB" in b
    assert webd.alive()


def test_api_needs_a_cookie_and_checks_what_it_forwards(webd):
    for method, path in (("GET", "/api/whoami"), ("GET", "/api/list/requests"),
                         ("GET", "/api/feed"), ("POST", "/api/commit"),
                         ("GET", "/api/watch/1")):
        st, h, b = webd.request(method, path, {} if method == "POST" else None)
        assert st == 401 and b'"signed_out"' in b, path
        assert_defences(h, api=True)
    # a cookie of the wrong shape is no cookie
    st, _, _ = webd.request("GET", "/api/whoami",
                            headers={"Cookie": "__Host-bastion=../../x"})
    assert st == 401
    cookie = {"Cookie": "__Host-bastion=" + "ab" * 32}
    st, _, b = webd.request("GET", "/api/watch/1;ls", headers=cookie)
    assert st == 400
    st, _, b = webd.request("GET", "/api/list/nosuch", headers=cookie)
    assert st == 404
    st, _, b = webd.request("POST", "/api/prepare",
                            {"verb": "shutdown", "args": []}, headers=cookie)
    assert st == 400
    st, _, b = webd.request("POST", "/api/prepare",
                            {"verb": "deny", "args": ["1", "--all"]},
                            headers=cookie)
    assert st == 400
    st, _, b = webd.request("POST", "/api/prepare",
                            {"verb": "deny", "args": ["1", "a\nb"]},
                            headers=cookie)
    assert st == 400
    st, _, b = webd.request("POST", "/api/login/begin", {"user": "-bob"})
    assert st == 400


def test_without_bastiond_the_api_says_so(webd):
    st, h, b = webd.request("POST", "/api/login/begin", {"user": "bob"})
    assert st == 502 and b'"bastiond"' in b
    assert_defences(h, api=True)
    assert webd.alive()


def test_plain_http_is_not_served(webd):
    s = socket.create_connection(("127.0.0.1", webd.port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    try:
        data = s.recv(4096)
    except (ConnectionResetError, socket.timeout):
        data = b""
    s.close()
    assert b"<html" not in data and b"HTTP/1.1 200" not in data
