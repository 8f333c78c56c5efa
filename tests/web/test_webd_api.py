"""bastion-webd's API against a scripted web.sock (fakectl.py): what webd
sends bastiond (words and v2 attributes, byte for byte) and what it makes
of the answers: the cookie from an 'a' frame, the challenge from a 'c'
frame, JSON passed on only when it is JSON, refusals as 403 with the
verb's message, streams as Server-Sent Events, a broken bastiond as 502
while webd stays up.
"""

import base64
import json
import socket
import ssl
import struct
import time

import pytest

from fakectl import FakeCtl, exit_frame, frame, strings, term_frame

TOKEN = bytes(range(32))
COOKIE = {"Cookie": "__Host-bastion=" + TOKEN.hex()}
# a sign-in of the right shape (bastiond, scripted, refuses it)
FAILING_SIGN_IN = {"user": "bob", "secret": "x", "assertion": {
    "id": "AA", "authenticatorData": "AA", "clientDataJSON": "AA",
    "signature": "AA"}}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


@pytest.fixture
def ctl(webd):
    f = FakeCtl(webd.ctl_path)
    yield f
    f.stop()


def test_sign_in_sets_the_cookie_from_the_a_frame(webd, ctl):
    chal = bytes([7] * 32)
    ctl.answers["login-begin"] = [
        frame("c", chal + b'{"allow":["AAEC"],"rp_id":"localhost",'
              b'"user_verification":"discouraged"}'), exit_frame(0)]
    st, h, b = webd.request("POST", "/api/login/begin", {"user": "bob"})
    assert st == 200, b
    j = json.loads(b)
    assert j == {"challenge": b64u(chal), "action": {
        "allow": ["AAEC"], "rp_id": "localhost",
        "user_verification": "discouraged"}}
    argv, attrs = ctl.last("login-begin")
    assert argv == ["login-begin", "bob"]
    assert attrs["from"] == b"127.0.0.1" and "token" not in attrs
    assert "format" not in attrs and attrs["lang"] == b"ja"
    assert "set-cookie" not in h

    ctl.answers["login-finish"] = [
        frame("a", TOKEN + struct.pack(">Q", int(time.time()) + 3600) +
              b'{"person":"bob","role":"admin"}'), exit_frame(0)]
    body = {"user": "bob", "secret": "s3cret", "assertion": {
        "id": b64u(b"\x00\x01\x02"), "authenticatorData": b64u(b"A" * 37),
        "clientDataJSON": b64u(b'{"type":"webauthn.get"}'),
        "signature": b64u(b"S" * 70), "userHandle": ""}}
    st, h, b = webd.request("POST", "/api/login/finish", body)
    assert st == 200, b
    assert json.loads(b) == {"person": "bob", "role": "admin"}
    assert h["set-cookie"] == ("__Host-bastion=%s; Secure; HttpOnly; "
                               "SameSite=Strict; Path=/" % TOKEN.hex())
    argv, attrs = ctl.last("login-finish")
    assert argv == ["login-finish", "bob"]
    assert attrs["secret"] == b"s3cret"
    assert strings(attrs["assert"]) == [b"\x00\x01\x02", b"A" * 37,
                                        b'{"type":"webauthn.get"}',
                                        b"S" * 70, b""]
    assert TOKEN.hex() not in webd.log_text()
    assert "s3cret" not in webd.log_text()


def test_sign_in_refused_is_403_with_bastionds_words(webd, ctl):
    ctl.answers["login-finish"] = [frame("e", "sign-in failed\n"),
                                   exit_frame(1)]
    body = json.loads(json.dumps(FAILING_SIGN_IN))
    st, h, b = webd.request("POST", "/api/login/finish", body)
    assert st == 403
    assert json.loads(b) == {"error": "refused", "message": "sign-in failed"}
    assert "set-cookie" not in h
    # an assertion field over its cap never reaches bastiond
    n = len(ctl.requests)
    body["assertion"]["signature"] = b64u(b"S" * 81)
    st, _, _ = webd.request("POST", "/api/login/finish", body)
    assert st == 400 and len(ctl.requests) == n
    body["assertion"]["signature"] = "not base64!"
    st, _, _ = webd.request("POST", "/api/login/finish", body)
    assert st == 400 and len(ctl.requests) == n


def test_lists_pass_json_on_and_never_anything_else(webd, ctl):
    rows = [{"id": 1, "engineer": "gina", "reason": "<img src=x>"}]
    ctl.answers["requests"] = [frame("j", json.dumps(rows)), exit_frame(0)]
    st, h, b = webd.request("GET", "/api/list/requests?all=1",
                            headers=COOKIE)
    assert st == 200 and json.loads(b) == rows
    assert h["content-type"] == "application/json"
    assert h["cache-control"] == "no-store"
    argv, attrs = ctl.last("requests")
    assert argv == ["requests", "--json", "--all"]
    assert attrs["token"] == TOKEN and attrs["format"] == b"json"
    ctl.answers["sessions"] = [frame("o", "<script>alert(1)</script>"),
                               exit_frame(0)]
    st, _, b = webd.request("GET", "/api/list/sessions", headers=COOKIE)
    assert st == 502 and b"<script>" not in b
    ctl.answers["recordings"] = [
        frame("j", '[{"session":"17","engineer":"gina","encrypted":false}]'),
        exit_frame(0)]
    st, _, b = webd.request(
        "GET", "/api/list/recordings?engineer=gina&device=pacs&x=1",
        headers=COOKIE)
    # recordings --json, passed through; the filters become its options
    assert st == 200 and json.loads(b) == [
        {"session": "17", "engineer": "gina", "encrypted": False}]
    argv, attrs = ctl.last("recordings")
    assert argv == ["recordings", "--json", "--engineer", "gina",
                    "--device", "pacs"]
    assert attrs["format"] == b"json"
    st, _, b = webd.request("GET", "/api/list/recordings?engineer=--all",
                            headers=COOKIE)
    assert st == 400


def test_prepare_and_commit(webd, ctl):
    chal = bytes(range(100, 132))
    ctl.answers["prepare"] = [
        frame("c", chal + b'{"verb":"approve","request":42}'),
        exit_frame(0)]
    st, _, b = webd.request("POST", "/api/prepare",
                            {"verb": "approve", "args": ["42", "2h"]},
                            headers=COOKIE)
    assert st == 200, b
    j = json.loads(b)
    assert j["challenge"] == b64u(chal)
    assert j["action"] == {"verb": "approve", "request": 42}
    assert ctl.last("prepare")[0] == ["prepare", "approve", "42", "2h"]
    ctl.answers["commit"] = [frame("j", '{"ok":true}'), exit_frame(0)]
    st, _, b = webd.request("POST", "/api/commit", {
        "challenge": j["challenge"], "assertion": {
            "id": "AA", "authenticatorData": "AA", "clientDataJSON": "AA",
            "signature": "AA"}}, headers=COOKIE)
    assert st == 200 and json.loads(b) == {"ok": True}
    argv, attrs = ctl.last("commit")
    assert argv == ["commit", chal.hex()]
    assert attrs["token"] == TOKEN and "assert" in attrs
    # a verb that answers in text: the text as a JSON string, escaped
    ctl.answers["commit"] = [frame("o", 'approved 42 "<b>"\n'), exit_frame(0)]
    st, _, b = webd.request("POST", "/api/commit", {
        "challenge": j["challenge"], "assertion": {
            "id": "AA", "authenticatorData": "AA", "clientDataJSON": "AA",
            "signature": "AA"}}, headers=COOKIE)
    assert st == 200 and json.loads(b) == {"message": 'approved 42 "<b>"\n'}
    # a commit without an assertion is sent as it is: bastiond refuses it
    ctl.answers["commit"] = [frame("e", "a fresh assertion is needed\n"),
                             exit_frame(1)]
    st, _, b = webd.request("POST", "/api/commit",
                            {"challenge": j["challenge"]}, headers=COOKIE)
    assert st == 403 and b"fresh assertion" in b
    assert "assert" not in ctl.last("commit")[1]
    st, _, b = webd.request("POST", "/api/commit", {"challenge": "AAAA"},
                            headers=COOKIE)
    assert st == 400


def sse_events(webd, path, n, timeout=10):
    """The first n events of an SSE stream as (event, data, id)."""
    ctx = ssl.create_default_context(cafile=str(webd.dir / "cert.pem"))
    ctx.check_hostname = False
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", webd.port),
                                                 timeout=timeout))
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nOrigin: %s\r\n"
               "Cookie: __Host-bastion=%s\r\n\r\n"
               % (path, webd.origin, TOKEN.hex())).encode())
    data = b""
    events = []
    deadline = time.time() + timeout
    while len(events) < n and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        # chunked transfer: drop the chunk-size lines
        text = b"".join(line for line in body.split(b"\r\n")
                        if not all(c in b"0123456789abcdefABCDEF"
                                   for c in line) or not line)
        events = []
        for block in text.decode(errors="replace").split("\n\n"):
            ev = {"event": None, "data": None, "id": None}
            for line in block.split("\n"):
                k, _, v = line.partition(": ")
                if k in ev:
                    ev[k] = v
            if ev["event"]:
                events.append(ev)
    s.close()
    return head.decode(errors="replace"), events


def test_feed_and_watch_are_server_sent_events(webd, ctl):
    def feed(argv, attrs, c):
        c.sendall(frame("j", '{"kind":"request","id":42}'))
        time.sleep(0.3)
        c.sendall(frame("j", '{"kind":"session","id":7}'))
        time.sleep(5)
    ctl.answers["feed"] = feed
    head, ev = sse_events(webd, "/api/feed", 2)
    assert "text/event-stream" in head and "no-store" in head
    assert [e["data"] for e in ev] == ['{"kind":"request","id":42}',
                                       '{"kind":"session","id":7}']
    assert ctl.last("feed")[1]["token"] == TOKEN

    ctl.answers["watch"] = [term_frame(1500, "日本語 \x1b[31mred".encode()),
                            term_frame(2500, b"\xe6\x97"), exit_frame(0)]
    head, ev = sse_events(webd, "/api/watch/7", 3)
    assert [e["event"] for e in ev] == ["term", "term", "end"]
    assert ev[0]["id"] == "1500"
    assert base64.b64decode(ev[0]["data"]) == "日本語 \x1b[31mred".encode()
    assert base64.b64decode(ev[1]["data"]) == b"\xe6\x97"
    assert json.loads(ev[2]["data"]) == {"status": 0}
    assert ctl.last("watch")[0] == ["watch", "7"]


def test_a_closed_stream_ends_the_control_request(webd, ctl):
    def feed(argv, attrs, c):
        # the worker's cancelled(): writes fail once webd has closed its
        # end, which it does when the browser goes away
        for i in range(200):
            c.sendall(frame("j", '{"kind":"request","id":%d}' % i))
            time.sleep(0.1)
    ctl.answers["feed"] = feed
    ctl.closed.clear()
    head, ev = sse_events(webd, "/api/feed", 1)
    assert ev[0]["data"] == '{"kind":"request","id":0}'
    assert ctl.closed.wait(15), "webd kept the control connection open"


def test_a_misbehaving_bastiond_is_502_and_webd_stays_up(webd, ctl):
    ctl.answers["whoami"] = [b"Z\x00\x00\x00\x01x"]
    st, _, b = webd.request("GET", "/api/whoami", headers=COOKIE)
    assert st == 502
    ctl.answers["whoami"] = [frame("j", '{"person":"bob"}')]   # no exit
    st, _, b = webd.request("GET", "/api/whoami", headers=COOKIE)
    assert st == 502
    ctl.answers["whoami"] = [b"o\xff\xff\xff\xff"]
    st, _, b = webd.request("GET", "/api/whoami", headers=COOKIE)
    assert st == 502
    ctl.answers["whoami"] = [frame("j", '{"person":"bob","role":"admin"}'),
                             exit_frame(0)]
    st, _, b = webd.request("GET", "/api/whoami", headers=COOKIE)
    assert st == 200 and json.loads(b)["person"] == "bob"
    assert webd.alive()


def test_failed_sign_ins_per_address_are_limited(webd, ctl):
    ctl.answers["login-finish"] = [frame("e", "sign-in failed\n"),
                                   exit_frame(1)]
    body = json.loads(json.dumps(FAILING_SIGN_IN))
    for _ in range(20):
        st, _, _ = webd.request("POST", "/api/login/finish", body)
        assert st == 403
    n = len(ctl.requests)
    st, h, b = webd.request("POST", "/api/login/finish", body)
    assert st == 429 and b'"too_many"' in b
    assert len(ctl.requests) == n, "bastiond was asked anyway"
    # other routes are not affected
    ctl.answers["login-begin"] = [frame("c", bytes(32) + b"{}"),
                                  exit_frame(0)]
    st, _, _ = webd.request("POST", "/api/login/begin", {"user": "bob"})
    assert st == 200


def test_streams_are_capped_per_sign_in(webd, ctl):
    def feed(argv, attrs, c):
        c.sendall(frame("j", '{"kind":"open"}'))
        time.sleep(20)
    ctl.answers["feed"] = feed
    ctx = ssl.create_default_context(cafile=str(webd.dir / "cert.pem"))
    ctx.check_hostname = False
    held = []

    def open_feed(token):
        s = ctx.wrap_socket(socket.create_connection(
            ("127.0.0.1", webd.port), timeout=10))
        s.sendall(("GET /api/feed HTTP/1.1\r\nHost: localhost\r\n"
                   "Origin: %s\r\nCookie: __Host-bastion=%s\r\n\r\n"
                   % (webd.origin, token.hex())).encode())
        head = s.recv(4096)
        held.append(s)
        return head.split(b"\r\n")[0]
    try:
        for _ in range(8):
            assert b" 200 " in open_feed(TOKEN)
        assert b" 503 " in open_feed(TOKEN)
        # another sign-in still may
        assert b" 200 " in open_feed(bytes(32))
    finally:
        for s in held:
            s.close()
    assert webd.alive()
