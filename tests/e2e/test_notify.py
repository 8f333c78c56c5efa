"""Notifications of a pending request (bastion-notify) end to end.

The real bastiond files gina's request for pacs (globex requires approval)
and its monitor runs the built bastion-notify, demoted, with the policy's
approval.notify: a fake sendmail (a shell script that keeps its stdin and
arguments) and an HTTPS receiver in this process (a self-signed
certificate made here, the policy's ca_file pointing to it) that checks
X-Bastion-Signature and X-Bastion-Timestamp as docs/APPROVALS.md's
verifier does. A receiver that refuses, or is too slow, never holds up the
request: bob still approves it and gina's command runs. A file export
request (files: approve: out, a real sftp download) is told the same way,
with the file's path, size and SHA-256, its own link and the file-approve
and file-deny commands. docs/APPROVALS.md, "Notifications"; docs/FILES.md,
"Export approval".
"""

import datetime
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import pwd
import shutil
import ssl
import subprocess
import threading
import time

import pytest

from harness import util
from test_approvals import finish, waiting
from test_sftp_airlock import sha, start
from test_sftp_export import finish as finish_download, held_download

SECRET = b"whsec-0123456789abcdef0123456789abcdef"
CONSOLE = "https://bastion.example:8443"


def helper_uid():
    """The uid the monitor demotes bastion-notify to (approval_notify.c):
    bastion-notify, else worker_user (bastion), else nobody; ourselves
    when not root."""
    if os.geteuid() != 0:
        return os.geteuid()
    for name in ("bastion-notify", "bastion", "nobody"):
        try:
            return pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
    pytest.skip("no user to demote to")


class Receiver:
    """An HTTPS webhook receiver on 127.0.0.1: records every delivery and
    whether its signature verified; answers 204 (verified), 401 (not),
    or, in mode "fail", 503; in mode "slow" it first sleeps past
    bastion-notify's 5 s per try."""

    def __init__(self, dir, secret, mode="ok"):
        self.deliveries = []
        self.secret = secret
        self.mode = mode
        self.cert = dir / "receiver.pem"
        key = dir / "receiver.key"
        util.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                  "-out", str(self.cert), "-days", "1", "-subj",
                  "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        os.chmod(self.cert, 0o644)
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(n, 1 << 20))
                d = {"path": self.path, "headers": dict(self.headers),
                     "body": body, "verified": rec.verify(self.headers,
                                                          body)}
                rec.deliveries.append(d)
                if rec.mode == "slow":
                    time.sleep(6)
                    code = 503
                elif rec.mode == "fail":
                    code = 503
                else:
                    code = 204 if d["verified"] else 401
                try:
                    self.send_response(code)
                    self.end_headers()
                except OSError:
                    pass        # the client gave up (slow)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert), str(key))
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.url = "https://127.0.0.1:%d/hooks/bastion" % \
            self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def verify(self, headers, body):
        """docs/APPROVALS.md's verifier: HMAC-SHA256(secret, ts "." body),
        at most 300 s of skew, compared in constant time."""
        ts = headers.get("X-Bastion-Timestamp", "")
        sig = headers.get("X-Bastion-Signature", "")
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return False
        want = "v1=" + hmac.new(self.secret, ts.encode() + b"." + body,
                                hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, sig)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def notify_dir():
    """A directory the demoted helper can reach (pytest's tmp_path is
    root's, 0700): the fake sendmail, its capture, the CA file, the
    secret (0600, owned by the helper's user, as install.sh sets it)."""
    d = util.short_tmpdir("bst-notify-")
    os.chmod(d, 0o755)
    out = d / "out"
    out.mkdir()
    os.chown(out, helper_uid(), -1)
    sendmail = d / "sendmail"
    sendmail.write_text("#!/bin/sh\n"
                        "echo \"$@\" > %s/args\n"
                        "cat > %s/mail\n" % (out, out))
    os.chmod(sendmail, 0o755)
    secret = d / "webhook.secret"
    secret.write_bytes(SECRET + b"\n")
    os.chown(secret, helper_uid(), -1)
    os.chmod(secret, 0o600)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def notify_conf(d, receiver, mail=True):
    """approval.notify: the receiver's webhook and (mail) the fake
    sendmail."""
    notify = {"console_url": CONSOLE + "/", "ssh_host": "bastion.example",
              "webhook": {"url": receiver.url,
                          "secret_file": str(d / "webhook.secret"),
                          "ca_file": str(receiver.cert)}}
    if mail:
        notify["mail"] = {"command": "%s -t -oi" % (d / "sendmail"),
                          "to": ["it@hospital.example",
                                 "ward-7@hospital.example"],
                          "from": "bastion@hospital.example"}
    return notify


def notify_site(cast, d, receiver, mail=True, extra=None):
    world, p = cast
    world.vendors["globex"]["approval"] = {"required": True,
                                           "max_grant": "2h"}
    world.top["approval"] = dict(extra or {},
                                 notify=notify_conf(d, receiver, mail))
    world.start_bastion()
    return world, p


def capture_command(d):
    """A notify_command that keeps its stdin: (the script, the capture)."""
    capture = d / "out" / "stdin.json"
    script = d / "notify-command"
    script.write_text("#!/bin/sh\ncat > %s\n" % capture)
    os.chmod(script, 0o755)
    return script, capture


def captured(capture):
    util.wait_until(lambda: capture.exists() and
                    capture.read_text().endswith("\n"),
                    what="notify_command's stdin")
    return json.loads(capture.read_text())


def mail_of(d):
    """The fake sendmail's message: (its raw header block, the parsed
    message, its body text)."""
    raw = (d / "out" / "mail").read_bytes()
    assert (d / "out" / "args").read_text() == "-t -oi\n"
    head = raw.split(b"\n\n", 1)[0].decode("ascii")   # ASCII only
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["From"] == "bastion@hospital.example"
    assert [a.addr_spec for a in msg["To"].addresses] == \
        ["it@hospital.example", "ward-7@hospital.example"]
    assert msg["Content-Transfer-Encoding"] == "base64"
    return head, msg, msg.get_content()


def delivery_of(rcv):
    """The receiver's one delivery, signed and verified: its JSON."""
    assert len(rcv.deliveries) == 1
    dl = rcv.deliveries[0]
    assert dl["verified"], dl["headers"]
    assert dl["path"] == "/hooks/bastion"
    assert dl["headers"]["Content-Type"] == "application/json"
    assert len(dl["headers"]["X-Bastion-Delivery"]) == 36
    return dl, json.loads(dl["body"])


def approve_and_run(world, p, proc, rid):
    a = p["bob"].ssh("approve", rid, "1h")
    assert a.returncode == 0, a.stderr
    rc, out, err = finish(proc)
    assert rc == 0, err
    assert out == "ran-42\n"


def port_of(world):
    return world.listen[0].rsplit(":", 1)[1]


def test_mail_and_signed_webhook(cast, notify_dir):
    d = notify_dir
    rcv = Receiver(d, SECRET)
    script, capture = capture_command(d)
    try:
        world, p = notify_site(cast, d, rcv,
                               extra={"notify_command": str(script)})
        proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                            "'ticket 4711: CT 装置の点検'",
                            "echo ran-$((6*7))")
        sent = [world.bastion.wait_audit(event="notify.sent", request=rid,
                                         kind=k, timeout=20)
                for k in ("mail", "webhook")]
        assert all(e["session"] for e in sent)
        assert not world.bastion.audit_events(event="notify.failed")
        assert all("about" not in e for e in sent)
        # notify_command still gets the request as JSON, as before
        got = captured(capture)
        assert got["id"] == int(rid) and "kind" not in got

        # the mail: our headers, an RFC 2047 Subject, the body in base64
        head, msg, body = mail_of(d)
        assert "ticket" not in head and "4711" not in head
        assert str(msg["Subject"]) == \
            "[bastion] 承認待ち / approval pending #%s gina -> pacs" % rid
        assert msg["X-Bastion-Request"] == rid
        link = "%s/#/admin/requests/%s" % (CONSOLE, rid)
        ssh = ["ssh -A -p %s ADMIN@bastion.example approve %s 2h" %
               (port_of(world), rid),
               "ssh -A -p %s ADMIN@bastion.example deny %s REASON" %
               (port_of(world), rid)]
        assert "承認待ちの要求があります" in body
        assert "A request is waiting" in body
        assert "ticket 4711: CT 装置の点検" in body
        assert link in body and ssh[0] in body and ssh[1] in body

        # the webhook: one delivery, signed, the documented body (a
        # session request's has no "kind")
        dl, js = delivery_of(rcv)
        assert sorted(js) == ["event", "request", "sent_at", "ssh", "url"]
        assert js["event"] == "request.pending"
        assert js["request"]["id"] == int(rid)
        assert js["request"]["reason"] == "ticket 4711: CT 装置の点検"
        assert js["request"]["status"] == "pending"
        assert js["url"] == link and js["ssh"] == ssh
        assert abs(js["sent_at"] - time.time()) < 60
        # what the receiver checked is what was sent: a changed byte or
        # an old timestamp does not verify
        h = dict(dl["headers"])
        assert not rcv.verify(h, dl["body"].replace(b"pacs", b"pacz"))
        h["X-Bastion-Timestamp"] = str(int(h["X-Bastion-Timestamp"]) - 400)
        assert not rcv.verify(h, dl["body"])

        approve_and_run(world, p, proc, rid)
    finally:
        rcv.close()


def test_file_export_request_is_notified(cast, notify_dir, tmp_path):
    """A download held by export approval: the same mail, webhook and
    notify_command as a session request, naming the file, its size and
    SHA-256, the link to its own page and file-approve / file-deny."""
    d = notify_dir
    rcv = Receiver(d, SECRET)
    script, capture = capture_command(d)
    world, p = cast
    world.top["approval"] = {"notify": notify_conf(d, rcv),
                             "notify_command": str(script)}
    try:
        world, p = start(cast, files={"approve": "out"})
        held, remote, local, proc, ev = held_download(
            world, p, tmp_path, "dicom-export.bin", 70000)
        rid = ev["request"]
        for k in ("mail", "webhook"):
            e = world.bastion.wait_audit(event="notify.sent", request=rid,
                                         kind=k, timeout=20)
            assert e["about"] == "file_export" and e["session"], e
        assert not world.bastion.audit_events(event="notify.failed")
        link = "%s/#/admin/files/%s" % (CONSOLE, rid)
        ssh = ["ssh -A -p %s ADMIN@bastion.example file-approve %s" %
               (port_of(world), rid),
               "ssh -A -p %s ADMIN@bastion.example file-deny %s REASON" %
               (port_of(world), rid)]

        # the mail: the file's own subject, header and body
        head, msg, body = mail_of(d)
        assert str(remote) not in head
        assert str(msg["Subject"]) == "[bastion] 持ち出し承認待ち / file " \
            "export pending #%s alice <- ct-scanner" % rid
        assert msg["X-Bastion-File-Request"] == rid
        assert msg["X-Bastion-Request"] is None
        assert "ファイルの持ち出しが承認を待っています" in body
        assert "A file download is waiting" in body
        for want in (str(remote), "%d bytes" % len(held), sha(held),
                     "#" + rid, "alice (acme)", "ct-scanner", link,
                     ssh[0], ssh[1]):
            assert want in body, (want, body)
        assert "approve %s 2h" % rid not in body

        # the webhook: signed, "kind": "file_export", the file's fields
        dl, js = delivery_of(rcv)
        assert js["event"] == "request.pending"
        assert js["kind"] == "file_export"
        r = js["request"]
        assert (r["id"], r["kind"], r["engineer"], r["vendor"],
                r["device"], r["path"], r["size"], r["sha256"],
                r["status"]) == (int(rid), "file_export", "alice", "acme",
                                 "ct-scanner", str(remote), len(held),
                                 sha(held), "pending"), r
        assert r["session"] == ev["session"]
        assert js["url"] == link and js["ssh"] == ssh
        assert not rcv.verify(dl["headers"], dl["body"].replace(
            sha(held).encode(), sha(b"other").encode()))

        # notify_command: the same object on stdin
        got = captured(capture)
        assert (got["kind"], got["id"], got["sha256"]) == \
            ("file_export", int(rid), sha(held))

        # the request stands: bob's file-approve releases the bytes
        a = p["bob"].ssh("file-approve", rid)
        assert a.returncode == 0, a.stderr
        rc, out, err = finish_download(proc)
        assert rc == 0, err
        assert local.read_bytes() == held
    finally:
        rcv.close()


def test_helper_checks_a_file_request(build_dir, notify_dir, tmp_path):
    """bastion-notify alone: a file request without its hash, or of a
    kind it does not know, is refused and nothing is sent; a very long
    path is not a reason to refuse."""
    secret = own_secret(tmp_path)
    rcv = Receiver(notify_dir, SECRET)
    try:
        args = ["--webhook-url", rcv.url, "--secret-file", str(secret),
                "--ca-file", str(rcv.cert), "--deadline", "5"]
        req = {"id": 7, "engineer": "alice", "vendor": "acme",
               "device": "ct-scanner", "kind": "file_export",
               "path": "/var/log/x.tar", "size": 10,
               "sha256": sha(b"x"), "created": 1}
        for bad, why in (({"sha256": "00ff"}, "lacks path, size or sha256"),
                         ({"sha256": sha(b"x").upper()},
                          "lacks path, size or sha256"),
                         ({"size": -1}, "lacks path, size or sha256"),
                         ({"path": ""}, "lacks path, size or sha256"),
                         ({"kind": "session"}, "kind is not file_export")):
            r = run_helper(build_dir, *args,
                           request=json.dumps(dict(req, **bad)))
            assert r.returncode == 2, (bad, r.stdout)
            assert r.stdout.startswith("failed request ") and \
                why in r.stdout, (bad, r.stdout)
        assert rcv.deliveries == []
        r = run_helper(build_dir, *args, request=json.dumps(req))
        assert (r.returncode, r.stdout) == (0, "sent webhook\n"), r.stderr
        js = json.loads(rcv.deliveries[0]["body"])
        assert js["kind"] == "file_export"
        assert js.get("url") is None          # no console_url: no link
        assert js["ssh"][0].endswith("file-approve 7")
        # a path longer than the mail shows is cut there, not refused
        r = run_helper(build_dir, *args, request=json.dumps(
            dict(req, path="/d" * 3000)))
        assert (r.returncode, r.stdout) == (0, "sent webhook\n"), r.stderr
        assert len(rcv.deliveries) == 2
    finally:
        rcv.close()


def webhook_fails(cast, d, rcv, reason):
    """A webhook-only site: gina's request gives notify.failed (webhook,
    reason) and nothing sent; then the request stands and is approved
    as ever. Returns what the receiver saw."""
    world, p = notify_site(cast, d, rcv, mail=False)
    proc, rid = waiting(world, p["gina"], "pacs", "echo ran-$((6*7))")
    ev = world.bastion.wait_audit(event="notify.failed", request=rid,
                                  timeout=20)
    assert (ev["kind"], ev["reason"]) == ("webhook", reason)
    assert not world.bastion.audit_events(event="notify.sent")
    approve_and_run(world, p, proc, rid)
    return rcv.deliveries


def test_wrong_secret_fails_the_check(cast, notify_dir):
    rcv = Receiver(notify_dir, b"another-secret")    # not the bastion's
    try:
        seen = webhook_fails(cast, notify_dir, rcv, "HTTP 401 after 1 try")
        assert len(seen) == 1 and not seen[0]["verified"]
    finally:
        rcv.close()


def test_failing_receiver_is_tried_three_times(cast, notify_dir):
    rcv = Receiver(notify_dir, SECRET, mode="fail")
    try:
        seen = webhook_fails(cast, notify_dir, rcv,
                             "HTTP 503 after 3 tries")
        # three tries of one delivery, each signed (and verified) afresh
        assert len(seen) == 3 and all(x["verified"] for x in seen)
        assert len({x["headers"]["X-Bastion-Delivery"] for x in seen}) == 1
        assert len({x["body"] for x in seen}) == 1
    finally:
        rcv.close()


@pytest.mark.timeout(90)
def test_slow_receiver_does_not_hold_the_request(cast, notify_dir):
    d = notify_dir
    rcv = Receiver(d, SECRET, mode="slow")
    try:
        world, p = notify_site(cast, d, rcv)
        t0 = time.monotonic()
        proc, rid = waiting(world, p["gina"], "pacs", "echo ran-$((6*7))")
        ev = world.bastion.wait_audit(event="notify.failed", request=rid,
                                      timeout=25)
        took = time.monotonic() - t0
        assert ev["kind"] == "webhook"
        assert "timeout" in ev["reason"].lower() or \
            "timed out" in ev["reason"].lower(), ev["reason"]
        assert took < 20, took          # bounded: 9 s helper, 10 s monitor
        # tried again, within the deadline
        assert 1 <= len(rcv.deliveries) <= 3
        # the mail went out meanwhile
        world.bastion.wait_audit(event="notify.sent", request=rid,
                                 kind="mail")
        approve_and_run(world, p, proc, rid)
    finally:
        rcv.close()


def slow_sendmail(d, secs):
    """The fake sendmail, made slow: it sleeps before it keeps the mail,
    then writes "late" (not when killed first)."""
    out = d / "out"
    (d / "sendmail").write_text("#!/bin/sh\n"
                                "sleep %d\n"
                                "echo \"$@\" > %s/args\n"
                                "cat > %s/mail\n"
                                "echo late > %s/late\n"
                                % (secs, out, out, out))


def running(path):
    """The pids whose command line names path."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if path.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            continue
    return pids


def audit_time(ev):
    """An audit event's ts (2026-12-07T19:04:02.861Z) as Unix seconds."""
    return datetime.datetime.strptime(ev["ts"], "%Y-%m-%dT%H:%M:%S.%fZ") \
        .replace(tzinfo=datetime.timezone.utc).timestamp()


class Lines:
    """The engineer's stderr, read as it comes: (Unix time, line)."""

    def __init__(self, proc):
        self.lines = []
        self.thread = threading.Thread(target=self.read, args=(proc,),
                                       daemon=True)
        self.thread.start()

    def read(self, proc):
        for line in proc.stderr:
            self.lines.append((time.time(), line))

    def when(self, text):
        util.wait_until(lambda: any(text in x for _, x in self.lines),
                        timeout=20, what=repr(text))
        return next(t for t, x in self.lines if text in x)


def slow_mail_request(cast, d, rcv, secs):
    """gina's request on a site whose mail command takes secs: returns
    (world, p, proc, rid, when her "waiting for approval" came)."""
    slow_sendmail(d, secs)
    world, p = notify_site(cast, d, rcv)
    proc, rid = waiting(world, p["gina"], "pacs", "echo ran-$((6*7))")
    seen = Lines(proc).when("waiting for approval: request %s " % rid)
    return world, p, proc, rid, seen


@pytest.mark.timeout(90)
def test_engineer_is_not_held_by_the_notification(cast, notify_dir):
    """bastion-notify runs beside the request, not in it: with a mail
    command that takes 8 s, the engineer's "waiting for approval" comes at
    once and notify.sent still arrives when the mail is out."""
    d = notify_dir
    rcv = Receiver(d, SECRET)
    try:
        world, p, proc, rid, seen = slow_mail_request(cast, d, rcv, 8)
        # from the request filed (bastion-notify starts right after) to
        # the engineer's line: not the 8 s of the mail
        filed = audit_time(world.bastion.audit_events(
            event="approval.requested", request=rid)[0])
        assert seen - filed < 2, seen - filed
        # the webhook is done long before the mail
        world.bastion.wait_audit(event="notify.sent", request=rid,
                                 kind="webhook", timeout=10)
        ev = world.bastion.wait_audit(event="notify.sent", request=rid,
                                      kind="mail", timeout=20)
        assert time.time() - filed > 7        # it did take its 8 s
        assert ev["session"]
        assert (d / "out" / "late").exists()
        assert not world.bastion.audit_events(event="notify.failed")
        a = p["bob"].ssh("approve", rid, "1h")
        assert a.returncode == 0, a.stderr
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read() == "ran-42\n"
    finally:
        rcv.close()


@pytest.mark.timeout(90)
def test_session_ending_first_kills_the_notification(cast, notify_dir):
    """The engineer gives up while bastion-notify still runs: it is killed
    with what it started (the mail command) and reaped, and the mail that
    was not sent is audited notify.failed."""
    d = notify_dir
    rcv = Receiver(d, SECRET)
    try:
        world, p, proc, rid, _ = slow_mail_request(cast, d, rcv, 6)
        proc.kill()
        proc.wait()
        ev = world.bastion.wait_audit(event="notify.failed", request=rid,
                                      timeout=20)
        assert ev["kind"] == "mail"
        assert ev["reason"] == \
            "bastion-notify did not finish before the session ended"
        time.sleep(7)                   # past the slow sendmail's sleep
        assert not (d / "out" / "late").exists()
        # nothing of it is left: no process runs the fake sendmail
        assert not running(str(d / "sendmail"))
    finally:
        rcv.close()


def test_policy_checks_notify(world, tmp_path):
    base = world.policy()
    bad = [({"webhook": {"url": "http://hooks.example/x",
                         "secret_file": "/etc/bastion/webhook.secret"}},
            "is not an https:// URL"),
           ({"webhook": {"url": "http://10.0.0.1/x", "insecure_http": True,
                         "secret_file": "/etc/bastion/webhook.secret"}},
            "is not an https:// URL"),
           ({"webhook": {"url": "https://hooks.example/x"}},
            "has no \"secret_file\""),
           ({"mail": {"command": "/usr/sbin/sendmail -t -oi",
                      "to": ["Ward 7 <ward-7@hospital.example>"],
                      "from": "bastion@hospital.example"}},
            "is not a plain mail address"),
           ({"mail": {"command": "sendmail -t",
                      "to": ["it@hospital.example"],
                      "from": "bastion@hospital.example"}},
            "is not an absolute path"),
           ({"console_url": "https://x.example"}, "has neither mail nor "
            "webhook")]
    for i, (notify, want) in enumerate(bad):
        pol = dict(base, approval={"notify": notify})
        path = tmp_path / ("bad%d.yaml" % i)
        world.bastion.write_policy(pol, path)
        r = world.bastion.check_policy(path)
        assert r.returncode != 0, notify
        assert want in r.stdout + r.stderr, (notify, r.stdout + r.stderr)
    good = dict(base, approval={"notify": {
        "webhook": {"url": "http://127.0.0.1:9/x", "insecure_http": True,
                    "secret_file": "/etc/bastion/webhook.secret"},
        "console_url": CONSOLE}})
    path = tmp_path / "good.yaml"
    world.bastion.write_policy(good, path)
    r = world.bastion.check_policy(path)
    assert r.returncode == 0, r.stdout + r.stderr


def own_secret(tmp_path):
    """The secret, for bastion-notify run by the test itself."""
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    os.chmod(secret, 0o600)
    return secret


def run_helper(build_dir, *args, request=None):
    req = request or json.dumps({"id": 5, "engineer": "gina",
                                 "vendor": "globex", "device": "pacs",
                                 "reason": "x", "created": 1})
    return subprocess.run([str(build_dir / "bastion-notify")] + list(args),
                          input=req, text=True, capture_output=True,
                          timeout=30)


def test_helper_refuses_a_readable_secret(build_dir, notify_dir):
    """bastion-notify itself: a secret others can read is not used."""
    d = notify_dir
    os.chmod(d / "webhook.secret", 0o644)
    os.chown(d / "webhook.secret", os.geteuid(), -1)
    args = ["--webhook-url", "https://127.0.0.1:9/x", "--secret-file",
            str(d / "webhook.secret")]
    r = run_helper(build_dir, *args)
    assert r.returncode == 1
    assert r.stdout.startswith("failed webhook the secret_file must be")
    # and a request that is not JSON is refused as such
    r = run_helper(build_dir, *args, request="{\"id\": 3,")
    assert r.returncode == 2
    assert r.stdout.startswith("failed request the request is not a JSON")


@pytest.mark.timeout(90)
def test_slow_notify_command_is_left_running(cast, notify_dir):
    """notify_command as before bastion-notify: the monitor waits 3 s for
    it, then goes on without killing it."""
    d = notify_dir
    out = d / "out"
    script = d / "notify-command"
    script.write_text("#!/bin/sh\ncat > %s/req.json\nsleep 8\n"
                      "echo late > %s/late\n" % (out, out))
    os.chmod(script, 0o755)
    world, p = cast
    world.vendors["globex"]["approval"] = {"required": True}
    world.top["approval"] = {"notify_command": str(script)}
    world.start_bastion()
    proc, rid = waiting(world, p["gina"], "pacs", "echo ran-$((6*7))")
    t0 = time.monotonic()
    approve_and_run(world, p, proc, rid)
    assert time.monotonic() - t0 < 7.5     # not held for the whole 8 s
    assert json.loads((out / "req.json").read_text())["id"] == int(rid)
    assert not (out / "late").exists()
    util.wait_until(lambda: (out / "late").exists(), timeout=20,
                    what="notify_command to finish on its own")
    assert not world.bastion.audit_events(event="notify.failed")


def test_helper_verifies_the_receiver(build_dir, notify_dir, tmp_path):
    """bastion-notify alone (as whoever runs the test): TLS is verified
    against ca_file, never skipped; http:// needs insecure_http."""
    d = notify_dir
    secret = own_secret(tmp_path)
    rcv = Receiver(d, SECRET)
    try:
        base = ["--webhook-url", rcv.url, "--secret-file", str(secret),
                "--deadline", "5"]
        # the receiver's self-signed certificate is no CA of the system's
        r = run_helper(build_dir, *base)
        assert r.returncode == 1
        assert r.stdout.startswith("failed webhook "), r.stdout
        assert "certificate" in r.stdout.lower() or \
            "ssl" in r.stdout.lower(), r.stdout
        assert rcv.deliveries == []
        # with it as ca_file: sent, and verified by the receiver
        r = run_helper(build_dir, *base, "--ca-file", str(rcv.cert))
        assert (r.returncode, r.stdout) == (0, "sent webhook\n"), r.stderr
        assert len(rcv.deliveries) == 1 and rcv.deliveries[0]["verified"]
        # plain http: refused unless insecure_http, and then loopback only
        http = rcv.url.replace("https://", "http://")
        r = run_helper(build_dir, "--webhook-url", http, "--secret-file",
                       str(secret))
        assert r.stdout == "failed webhook http:// needs insecure_http: " \
            "true (and a loopback address)\n"
        r = run_helper(build_dir, "--webhook-url",
                       "http://192.0.2.1/hook", "--secret-file",
                       str(secret), "--insecure-http")
        assert r.stdout == "failed webhook http:// only to a loopback " \
            "address\n"
        assert len(rcv.deliveries) == 1
    finally:
        rcv.close()
