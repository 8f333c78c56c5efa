"""The console's pages in headless Chromium against a scripted web.sock
(fakectl.py): enrolment and sign-in with the virtual authenticator, the
admin's page (a request arriving through the live feed without a reload,
approve through prepare -> dialog -> security key -> commit, a session
watched in xterm.js), the auditor's page (search, replay with seek,
verify, bundle and CSV downloads) and a vendor-supplied reason and
command carrying markup shown as text. bastiond's side of each step is
tested with the real worker in test_console.py; here every byte webd and
the page send is checked. Screenshots: build/web-shots/ui-*.png.
"""

import base64
import json
import pathlib
import struct
import threading
import time

import pytest

from fakectl import FakeCtl, exit_frame, frame, strings, term_frame
from harness import util
from webharness import Console

pytestmark = pytest.mark.timeout(180)

TOKEN = bytes(range(32, 64))
INJECTED_REASON = '<img src=x onerror="window.pwned=1">'
INJECTED_CMD = '"; alert(1) <script>window.pwned=2</script>'


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Scene:
    """The scripted bastiond: one admin (bob), one auditor (carol)."""

    def __init__(self, ctl, role):
        self.ctl = ctl
        self.role = role
        self.person = "bob" if role == "admin" else "carol"
        self.cred = None            # base64url credential id, once enrolled
        self.requests = [{"id": 42, "engineer": "gina", "vendor": "globex",
                          "device": "pacs", "reason": INJECTED_REASON,
                          "created": 1765090800, "status": "pending"}]
        self.files = [{"id": 7, "session": "17", "engineer": "alice",
                       "vendor": "acme", "device": "ct-scanner",
                       "path": INJECTED_REASON + ".dcm", "size": 70000,
                       "sha256": "ab" * 32, "created": 1765090800,
                       "decided_at": 0, "status": "pending",
                       "decided_by": "", "deny_reason": ""}]
        self.feed_go = threading.Event()
        self.challenges = []
        c = ctl.answers
        c["file-requests"] = lambda a, t, s: self.send(s, self.files)
        c["enroll-begin"] = self.enroll_begin
        c["enroll-finish"] = self.enroll_finish
        c["login-begin"] = self.login_begin
        c["login-finish"] = [frame("a", TOKEN + struct.pack(">Q", 2**40) +
                                   json.dumps({"person": self.person,
                                               "role": role}).encode()),
                             exit_frame(0)]
        c["whoami"] = self.whoami
        c["requests"] = lambda a, t, s: self.send(s, self.requests)
        c["sessions"] = lambda a, t, s: self.send(s, [
            {"id": 7, "engineer": "alice", "vendor": "acme",
             "device": "ct-scanner", "from": "127.0.0.1",
             "started": 1765090000, "command": INJECTED_CMD}])
        c["grants"] = lambda a, t, s: self.send(s, [])
        c["vendors"] = lambda a, t, s: self.send(s, [
            {"name": "acme", "devices": "ct-scanner"},
            {"name": "globex", "devices": "pacs"}])
        c["feed"] = self.feed
        c["prepare"] = self.prepare
        c["commit"] = self.commit
        c["watch"] = [term_frame(10, b"hello from \x1b[31mct-scanner\x1b[0m"
                                 b"\r\n"), term_frame(20, b"\xe6\x97\xa5"
                                                      b"\xe6\x9c\xac"),
                      term_frame(30, b"\xe8\xaa\x9e\r\n"), exit_frame(0)]
        c["recordings"] = lambda a, t, s: self.send(s, [
            {"session": "17", "recording": "r-17", "start": 1765090000,
             "duration": 9, "status": "sealed", "engineer": "gina",
             "vendor": "globex", "device": "pacs", "from": "192.0.2.7",
             "approval": "request 43", "encrypted": False},
            {"session": "18", "recording": "r-18", "start": 1765090100,
             "duration": 5, "status": "sealed", "engineer": "gina",
             "vendor": "globex", "device": "pacs", "from": "192.0.2.7",
             "approval": "-", "encrypted": True}])
        c["cast"] = self.cast
        self.cast17 = [frame("o", json.dumps({"version": 2, "width": 80,
                                              "height": 24}) + "\n" +
                             json.dumps([0.5, "o", "first line\r\n"]) + "\n" +
                             json.dumps([2.0, "o", "second line\r\n"]) + "\n" +
                             json.dumps([9.5, "o", "last line\r\n"]) + "\n"),
                       exit_frame(0)]
        c["verify"] = [frame("o", "recording 17: signature good, chain "
                             "intact, sealed\n"), exit_frame(0)]
        c["report"] = self.report

    def cast(self, argv, attrs, sock):
        if argv[1] == "18":     # encrypted; this server may not unlock it
            sock.sendall(frame("e", "bastion: recording r-18 is encrypted "
                               "to the auditors' keys and cannot be "
                               "replayed here\n") + exit_frame(1))
            return
        sock.sendall(b"".join(self.cast17))

    @staticmethod
    def send(sock, value, status=0):
        sock.sendall(frame("j", json.dumps(value)))
        sock.sendall(exit_frame(status))

    def enroll_begin(self, argv, attrs, sock):
        assert argv == ["enroll-begin", self.person], argv
        assert attrs["code"] == b"ABCDE12345"
        sock.sendall(frame("c", bytes(32) + json.dumps({
            "rp_id": "localhost", "user_verification": "discouraged",
            "timeout": 120000, "exclude": []}).encode()))
        sock.sendall(exit_frame(0))

    def enroll_finish(self, argv, attrs, sock):
        att, cdj = strings(attrs["attest"])
        cd = json.loads(cdj)
        assert cd["type"] == "webauthn.create", cd
        assert cd["challenge"] == b64u(bytes(32))
        assert att[:1] in (b"\xa3", b"\xa2"), att[:4]     # a CBOR map
        assert attrs["secret"] == b"secret-" + self.person.encode()
        self.send(sock, {})

    def login_begin(self, argv, attrs, sock):
        sock.sendall(frame("c", bytes([9] * 32) + json.dumps({
            "allow": [self.cred] if self.cred else [], "rp_id": "localhost",
            "user_verification": "discouraged"}).encode()))
        sock.sendall(exit_frame(0))

    def whoami(self, argv, attrs, sock):
        if attrs.get("token") != TOKEN:
            sock.sendall(frame("e", "sign in first\n") + exit_frame(1))
            return
        self.send(sock, {"person": self.person, "role": self.role,
                         "expires": 2**40, "time_zone": "Asia/Tokyo"})

    def feed(self, argv, attrs, sock):
        assert attrs["token"] == TOKEN
        if self.feed_go.wait(60):
            self.requests = self.requests + [{
                "id": 43, "engineer": "gina", "vendor": "globex",
                "device": "pacs", "reason": "ticket 4711",
                "created": 1765091000, "status": "pending"}]
            sock.sendall(frame("j", '{"kind":"request","id":43}'))
        time.sleep(30)

    def prepare(self, argv, attrs, sock):
        ch = bytes([len(self.challenges) + 1] * 32)
        self.challenges.append((ch, argv[1:]))
        sock.sendall(frame("c", ch + json.dumps({
            "verb": argv[1], "args": argv[2:], "engineer": "gina",
            "device": "pacs", "reason": INJECTED_REASON}).encode()))
        sock.sendall(exit_frame(0))

    def commit(self, argv, attrs, sock):
        ch, what = self.challenges[-1]
        assert argv == ["commit", ch.hex()], argv
        cred, authdata, cdj, sig, user = strings(attrs["assert"])
        cd = json.loads(cdj)
        assert cd["type"] == "webauthn.get" and cd["challenge"] == b64u(ch)
        assert b64u(cred) == self.cred.rstrip("=")
        assert len(authdata) == 37 and sig
        if what[0] == "export":
            # a download: bastiond's 'o' frames are the body, never JSON
            assert "format" not in attrs, attrs
            sock.sendall(frame("o", b"TAR" + bytes(range(256)) * 4))
            sock.sendall(exit_frame(0))
            return
        if what[0] == "approve":
            self.requests = [dict(r, status="approved")
                             if r["id"] == int(what[1]) else r
                             for r in self.requests]
        if what[0] == "file-deny":
            self.files = [dict(f, status="denied", deny_reason=what[2])
                          if f["id"] == int(what[1]) else f
                          for f in self.files]
        self.send(sock, {"status": "done", "verb": what[0]})

    def report(self, argv, attrs, sock):
        if "--csv" in argv:
            sock.sendall(frame("o", "\ufeffwhen,who,device\r\n"
                               "2026-12-07T09:00:00+09:00,gina,pacs\r\n"))
            sock.sendall(exit_frame(0))
            return
        # report --json's shape (docs/AUDIT.md): the sessions, and a
        # files section whose counts overflowed and whose declarations
        # the store could not give (the real one: test_console.py)
        self.send(sock, {"sessions": [{"started": 1765090000,
                                       "engineer": "gina", "device": "pacs",
                                       "approval": "bob"}],
                         "files": {"moved": [{
                             "vendor": "globex", "direction": "out",
                             "files": 2, "bytes": 70000, "refused": 1}],
                             "truncated": True,
                             "open_declarations": None}})


@pytest.fixture
def scene(request, webd):
    ctl = FakeCtl(webd.ctl_path)
    yield lambda role: Scene(ctl, role)
    ctl.stop()


def enrol_and_sign_in(scene, browser, webd, role):
    s = scene(role)
    con = Console(browser, webd)
    browser.authenticator()
    con.enroll(s.person, "ABCDE12345", "secret-" + s.person)
    con.wait_notice("登録しました")
    creds = browser.d.get_credentials()
    assert len(creds) == 1 and creds[0].rp_id == "localhost"
    s.cred = creds[0].id
    browser.shot("ui-enrolled")
    con.sign_in(s.person, "secret-" + s.person)
    return s, con


def test_admin_page(scene, browser, webd):
    s, con = enrol_and_sign_in(scene, browser, webd, "admin")
    browser.wait_text("#requests-list", "gina")
    assert "bob" in con.find("#who").text
    # the sign-in carried the assertion over the login challenge
    argv, attrs = s.ctl.last("login-finish")
    cred, authdata, cdj, sig, user = strings(attrs["assert"])
    assert json.loads(cdj)["challenge"] == b64u(bytes([9] * 32))
    assert attrs["secret"] == b"secret-bob"
    # markup from a vendor is text: shown as typed, never run
    cell = con.find('#requests-list td[data-col="reason"]')
    assert cell.text == INJECTED_REASON
    browser.wait_text("#sessions-list", "alice")
    assert con.find('#sessions-list td[data-col="command"]').text == \
        INJECTED_CMD
    assert browser.d.execute_script("return window.pwned") is None
    assert browser.d.find_elements("css selector", "#requests-list img") == []
    # the live feed: a new request appears without a reload
    browser.d.execute_script("window.__same_page = 1")
    s.feed_go.set()
    browser.wait_text("#requests-list", "ticket 4711")
    assert browser.d.execute_script("return window.__same_page") == 1
    browser.shot("ui-admin")
    # approve 43 for 2h: prepare, the dialog shows bastiond's summary,
    # the key signs, commit
    con.find("#duration-43").send_keys("2h")
    con.find("#approve-43").click()
    body = con.confirm(shot="ui-approve-dialog")
    assert "approve" in body and INJECTED_REASON in body
    con.wait_notice("承認しました")
    assert s.challenges[-1][1] == ["approve", "43", "2h"]
    assert s.ctl.last("prepare")[0] == ["prepare", "approve", "43", "2h"]
    # deny needs a reason (checked before anything is asked)
    con.find("#deny-42").click()
    con.wait_notice("理由を入力")
    # watch session 7 in xterm.js
    con.find("#watch-7").click()
    util.wait_until(lambda: browser.d.execute_script(
        "const t = window.bastionWatch && window.bastionWatch.term();"
        "return t ? t.buffer.active.getLine(1).translateToString(true) : ''")
        == "日本語", timeout=20, what="the watched text in xterm.js")
    line0 = browser.d.execute_script(
        "return window.bastionWatch.term().buffer.active.getLine(0)"
        ".translateToString(true)")
    assert line0 == "hello from ct-scanner"
    browser.shot("ui-watch")
    assert browser.violations() == []
    assert browser.d.execute_script("return window.pwned") is None


def test_auditor_page(scene, browser, webd):
    s, con = enrol_and_sign_in(scene, browser, webd, "auditor")
    browser.wait_text("#recordings-list", "gina")
    browser.wait_text("#report-list", "pacs")
    browser.wait_text("#report-files-moved", "globex")
    assert con.find('#report-files-moved td[data-col="direction"]').text \
        == "持ち出し（機器から）"
    assert con.find('#report-files-moved td[data-col="refused"]').text == "1"
    browser.wait_text("#report-files-truncated", "一部")
    browser.wait_text("#report-declarations-unread", "読めませんでした")
    browser.shot("ui-auditor")
    # search: the filters become the verb's options
    con.fill("#search-engineer", "gina")
    con.fill("#search-device", "pacs")
    con.find("#search-go").click()
    util.wait_until(lambda: s.ctl.last("recordings")[0] == [
        "recordings", "--json", "--engineer", "gina", "--device", "pacs"],
        timeout=10, what="the search")
    # an encrypted one this server may not unlock: replay it offline
    con.click("#replay-18")
    browser.wait_text("#replay-offline", "監査者の鍵")
    assert "cannot be replayed here" in con.find("#replay-refusal").text
    # replay with seek to the end
    con.click("#replay-17")
    util.wait_until(lambda: browser.d.execute_script(
        "return !!window.bastionReplay"), timeout=10, what="the player")
    browser.d.execute_script("window.bastionReplay.seek(10)")
    text = browser.d.execute_script(
        "const b = window.bastionReplay.term.buffer.active; let s = '';"
        "for (let i = 0; i < 4; i++) s += b.getLine(i).translateToString(true)"
        " + '|'; return s")
    assert text == "first line|second line|last line||", text
    browser.d.execute_script("window.bastionReplay.seek(1)")
    text = browser.d.execute_script(
        "return window.bastionReplay.term.buffer.active.getLine(1)"
        ".translateToString(true)")
    assert text == ""
    browser.shot("ui-replay")
    assert s.ctl.last("cast")[0] == ["cast", "17"]
    # verify: the verdict in plain words
    con.click("#verify-17")
    browser.wait_text("#verify-status", "署名とハッシュチェーンは正しい")
    assert "signature good" in con.find("#verify-detail").text
    assert "status-ok" in con.find("#verify-status").get_attribute("class")
    browser.shot("ui-verify")
    # the bundle: an export, confirmed with the key, downloaded
    con.click("#bundle-17")
    con.confirm()
    con.wait_notice("証拠バンドルを保存しました")
    f = browser.downloads / "bastion-recording-17.tar"
    util.wait_until(f.exists, timeout=20, what="the downloaded bundle")
    util.wait_until(lambda: f.stat().st_size == 3 + 1024, timeout=10,
                    what="the whole bundle")
    assert f.read_bytes() == b"TAR" + bytes(range(256)) * 4
    assert s.ctl.last("prepare")[0] == ["prepare", "export", "17"]
    # the month's report as CSV
    con.find("#report-csv").click()
    f = browser.downloads / "bastion-report.csv"
    util.wait_until(f.exists, timeout=20, what="the CSV")
    assert f.read_bytes().startswith(b"\xef\xbb\xbfwhen,who,device\r\n")
    assert browser.violations() == []


def signed_in_at(scene, browser, webd, link):
    """bob enrolled, then a notification's link opened before signing in,
    then signed in: (the scene, the console)."""
    s = scene("admin")
    con = Console(browser, webd)
    browser.authenticator()
    con.enroll(s.person, "ABCDE12345", "secret-" + s.person)
    con.wait_notice("登録しました")
    s.cred = browser.d.get_credentials()[0].id
    browser.open(webd.origin + "/" + link)
    browser.wait_text("#signin h2", "サインイン")
    con.sign_in(s.person, "secret-" + s.person)
    return s, con


def decided_then_unknown(browser, con, name, status, button, unknown, box,
                         who):
    """One request's page (name: request, file) after the decision: the
    status shown, the button gone; an unknown number said so; back to the
    admin's page; nothing injected ran."""
    browser.wait_text("#%s-detail" % name, status)
    assert browser.d.find_elements("css selector", button) == []
    browser.d.execute_script("location.hash = '%s'" % unknown)
    browser.wait_text("#%s-missing" % name, unknown.rsplit("/", 1)[1])
    con.find("#to-admin").click()
    browser.wait_text(box, who)
    assert browser.violations() == []
    assert browser.d.execute_script("return window.pwned") is None


def test_one_request_s_page(scene, browser, webd):
    """#/admin/requests/ID (the notification's link): that request, its
    reason as text, approved there; a link to it kept through the
    sign-in; an unknown id said so."""
    s, con = signed_in_at(scene, browser, webd, "#/admin/requests/42")
    browser.wait_text("#request-detail", "gina")
    assert browser.d.current_url.endswith("#/admin/requests/42")
    assert con.find('#request-detail td[data-col="reason"]').text == \
        INJECTED_REASON
    assert browser.d.find_elements("css selector", "#requests-list") == []
    assert s.ctl.last("requests")[0] == ["requests", "--json", "--all"]
    browser.shot("ui-request")
    con.find("#approve-42").click()
    con.confirm()
    con.wait_notice("承認しました")
    assert s.ctl.last("prepare")[0] == ["prepare", "approve", "42", "1h"]
    decided_then_unknown(browser, con, "request", "approved", "#approve-42",
                         "#/admin/requests/77", "#requests-list", "gina")


def test_one_file_request_s_page(scene, browser, webd):
    """#/admin/files/ID (a file request's notification link): the held
    download's path (as text), size and SHA-256, kept through the
    sign-in, refused there with a reason (file-deny through prepare ->
    key -> commit); an unknown id said so."""
    s, con = signed_in_at(scene, browser, webd, "#/admin/files/7")
    browser.wait_text("#file-detail", "alice")
    assert browser.d.current_url.endswith("#/admin/files/7")
    assert con.find('#file-detail td[data-col="path"]').text == \
        INJECTED_REASON + ".dcm"
    assert con.find('#file-detail td[data-col="sha256"]').text == "ab" * 32
    assert "70000" in con.find('#file-detail td[data-col="size"]').text
    assert browser.d.find_elements("css selector", "#file-requests-list") \
        == []
    assert s.ctl.last("file-requests")[0] == \
        ["file-requests", "--json", "--all"]
    browser.shot("ui-file-request")
    # a reason is needed; then the refusal goes through the key
    con.find("#file-deny-7").click()
    assert not [r for r, _ in s.ctl.requests if r[:2] == ["prepare",
                                                            "file-deny"]]
    con.find("#file-deny-reason-7").send_keys("patient data")
    con.find("#file-deny-7").click()
    con.confirm()
    con.wait_notice("拒否しました")
    assert s.ctl.last("prepare")[0] == ["prepare", "file-deny", "7",
                                        "patient data"]
    decided_then_unknown(browser, con, "file", "denied", "#file-approve-7",
                         "#/admin/files/8", "#file-requests-list", "alice")


def test_english_and_sign_out(scene, browser, webd):
    s, con = enrol_and_sign_in(scene, browser, webd, "admin")
    browser.wait_text("#requests-list", "gina")
    con.find("#lang").send_keys("English")
    browser.wait_text("#requests h2", "Pending requests")
    # times in the hospital's zone: 1765090800 is 2025-12-07 16:00 JST
    cell = con.find('#requests-list td[data-col="created"]').text
    assert "16:00:00" in cell, cell
    browser.shot("ui-admin-en")
    s.ctl.answers["logout"] = [exit_frame(0)]
    con.find("#logout").click()
    browser.wait_text("#signin h2", "Sign in")
    assert s.ctl.last("logout")[1]["token"] == TOKEN
    # the cookie is gone, and a reload stays signed out
    assert not [c for c in browser.d.get_cookies()
                if c["name"] == "__Host-bastion"]
    n = len([r for r in s.ctl.requests if r[0][0] == "whoami"])
    browser.d.refresh()
    browser.wait_text("#signin h2", "Sign in")
    assert len([r for r in s.ctl.requests if r[0][0] == "whoami"]) == n


class EvilSite:
    """Another origin (https://127.0.0.1:PORT, a plain Python server) whose
    page tries the console's API while the browser is signed in there."""

    PAGE = """<!doctype html><meta charset=utf-8><title>evil</title>
<form id=f method=POST action="%(origin)s/api/prepare" enctype="text/plain">
<input name='{"verb":"approve","args":["42","8h"],"x":"' value='"}'></form>
<script>
window.results = {};
fetch("%(origin)s/api/prepare", {method: "POST", credentials: "include",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({verb: "approve", args: ["42", "8h"]})})
  .then(r => r.text().then(t => window.results.json = r.status + " " + t),
        e => window.results.json = "blocked: " + e);
fetch("%(origin)s/api/list/requests", {credentials: "include"})
  .then(r => r.text().then(t => window.results.get = r.status + " " + t),
        e => window.results.get = "blocked: " + e);
fetch("%(origin)s/api/prepare", {method: "POST", credentials: "include",
  mode: "no-cors", headers: {"Content-Type": "text/plain"},
  body: '{"verb":"approve","args":["42","8h"]}'})
  .then(r => window.results.nocors = "sent " + r.type,
        e => window.results.nocors = "blocked: " + e);
</script>"""

    def __init__(self, webd):
        import http.server
        import ssl
        page = (self.PAGE % {"origin": webd.origin}).encode()

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *a):
                pass
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(webd.dir / "cert.pem"),
                            str(webd.dir / "key.pem"))
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()


def settled_count(requests, quiet=1.5, timeout=20):
    """len(requests) once it has not grown for `quiet` seconds."""
    end = time.monotonic() + timeout
    n, since = len(requests), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.1)
        if len(requests) != n:
            n, since = len(requests), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return n
    raise AssertionError("the console's requests never settled: %r"
                         % requests[-5:])


def test_cross_site_requests_reach_nothing(scene, browser, webd):
    s, con = enrol_and_sign_in(scene, browser, webd, "admin")
    browser.wait_text("#requests-list", "gina")
    # leave the console first and let its own reads (grants, vendors,
    # the 5 s sessions tick) finish: what arrives after that can only
    # have come from the other site
    browser.d.get("about:blank")
    before = settled_count(s.ctl.requests)
    evil = EvilSite(webd)
    try:
        browser.d.get(evil.url)
        util.wait_until(lambda: len(browser.d.execute_script(
            "return Object.keys(window.results)")) == 3, timeout=20,
            what="the other site's three fetches")
        res = browser.d.execute_script("return window.results")
        browser.d.execute_script("document.getElementById('f').submit()")
        time.sleep(2)
        browser.shot("ui-cross-site")
    finally:
        evil.stop()
    # the JSON fetch needs a preflight that is refused; the GET and the
    # no-cors POST are answered 403 by webd or carry no cookie: either
    # way bastiond heard nothing
    assert res["json"].startswith("blocked"), res
    assert not res["get"].startswith("200"), res
    assert s.ctl.requests[before:] == [], s.ctl.requests[before:]
    assert "refused" in webd.log_text()
