"""The web console's control socket end to end, without a browser.

bastion-webd speaks control protocol v2 to bastiond over RUN_DIR/web.sock
(docs/WEB.md). These tests speak it from Python in webd's place, with a
software WebAuthn authenticator written here (python3-cryptography, ES256):
it builds authenticatorData and clientDataJSON and signs them exactly as a
browser's authenticator does, so bastiond's checks (proto/webauthn.c, the
store's single-use challenges, PAM service "bastion-web") run for real.

Covered: enrolment with a one-time code from the ssh admin console, sign-in,
a wrong secret, an engineer, no credential, prepare + commit of an approval
of a real pending request (gina's real ssh session then runs), a commit
without an assertion, a replayed assertion (audit result=replayed), a
request decided between prepare and commit, a caller that is not webd's
uid, and `bastion-verify --audit` on the chain afterwards.
"""

import base64
import ctypes
import hashlib
import json
import os
import pwd
import socket
import struct
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from harness.pg import state_sql
from test_admin_console import live_session  # alice's registered session
from test_approvals import waiting  # gina's ssh, waiting for a decision

ORIGIN = "https://bastion.test:8443"
RP_ID = "bastion.test"


# -- control protocol v2 --------------------------------------------------------

def _s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def request2(argv, attrs=()):
    """The bytes of a v2 request (proto/ctlproto.h)."""
    out = b"BCTL\x02" + struct.pack(">I", len(argv))
    out += b"".join(_s(a) for a in argv)
    out += struct.pack(">I", len(attrs))
    for name, value in attrs:
        out += _s(name) + _s(value)
    return out


class Answer:
    """The frames of one answer: .frames [(type, payload)], .exit, and
    the text of 'o' and 'e'."""

    def __init__(self, raw):
        self.frames = []
        i = 0
        while i + 5 <= len(raw):
            t = chr(raw[i])
            n = struct.unpack(">I", raw[i + 1:i + 5])[0]
            self.frames.append((t, raw[i + 5:i + 5 + n]))
            i += 5 + n
        assert i == len(raw), "a frame is cut: %r" % raw[i:]
        ex = [p for t, p in self.frames if t == "x"]
        self.exit = ex[-1][0] if ex else None
        self.outb = b"".join(p for t, p in self.frames if t == "o")
        self.out = self.outb.decode(errors="replace")
        self.err = b"".join(p for t, p in self.frames if t == "e").decode()

    def one(self, t):
        got = [p for k, p in self.frames if k == t]
        assert len(got) == 1, (t, self.frames)
        return got[0]

    def json(self):
        return json.loads(self.one("j"))

    def challenge(self):
        p = self.one("c")
        return p[:32], json.loads(p[32:])


def call(world, argv, attrs=(), uid=None):
    """One request on web.sock; the Answer. uid: connect as that user
    (a forked child), to see the listener refuse it."""
    path = str(world.bastion.run_dir / "web.sock")
    if uid is not None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                # the kernel reports the effective uid (SO_PEERCRED);
                # the path is still looked up as root (fsuid), so the
                # directories' modes do not stop the test before the check
                os.setegid(pwd.getpwuid(uid).pw_gid)
                os.seteuid(uid)
                ctypes.CDLL(None).setfsuid(0)
                os.write(w, _raw(path, argv, attrs))
            finally:
                os._exit(0)
        os.close(w)
        data = b""
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            data += b
        os.close(r)
        os.waitpid(pid, 0)
        return Answer(data)
    return Answer(_raw(path, argv, attrs))


def _raw(path, argv, attrs):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(request2(argv, attrs))
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    return data


def read_frame(s):
    """One frame from socket s: (type, payload)."""
    head = b""
    while len(head) < 5:
        b = s.recv(5 - len(head))
        assert b, "the connection ended"
        head += b
    n = struct.unpack(">I", head[1:])[0]
    body = b""
    while len(body) < n:
        b = s.recv(n - len(body))
        assert b, "the connection ended"
        body += b
    return chr(head[0]), body


# -- a software WebAuthn authenticator -------------------------------------------

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cbor(v):
    """The little CBOR a "none" attestation needs (RFC 8949)."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        if n < 256:
            return bytes([major << 5 | 24, n])
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x)
                                          for k, x in v.items())
    raise TypeError(v)


def assertion_attr(cred_id, authdata, cdj, sig, user=b""):
    return _s(cred_id) + _s(authdata) + _s(cdj) + _s(sig) + _s(user)


class Authenticator:
    """One ES256 credential, as a platform or roaming authenticator
    keeps it; counter advances with every signature."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cred_id = os.urandom(32)
        self.counter = 0

    def cdj(self, typ, challenge, origin=ORIGIN):
        return ('{"type":"%s","challenge":"%s","origin":"%s",'
                '"crossOrigin":false}' % (typ, b64url(challenge),
                                          origin)).encode()

    def create(self, challenge):
        """The "attest" attribute for navigator.credentials.create."""
        nums = self.key.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"),
                     -3: nums.y.to_bytes(32, "big")})
        self.counter += 1
        ad = (hashlib.sha256(RP_ID.encode()).digest() + b"\x41" +
              struct.pack(">I", self.counter) + bytes(16) +
              struct.pack(">H", len(self.cred_id)) + self.cred_id + cose)
        att = cbor({"fmt": "none", "attStmt": {}, "authData": ad})
        return _s(att) + _s(self.cdj("webauthn.create", challenge))

    def get(self, challenge, origin=ORIGIN):
        """The "assert" attribute for navigator.credentials.get."""
        self.counter += 1
        ad = (hashlib.sha256(RP_ID.encode()).digest() + b"\x01" +
              struct.pack(">I", self.counter))
        cdj = self.cdj("webauthn.get", challenge, origin)
        sig = self.key.sign(ad + hashlib.sha256(cdj).digest(),
                            ec.ECDSA(hashes.SHA256()))
        return assertion_attr(self.cred_id, ad, cdj, sig)


# -- the site ---------------------------------------------------------------------

SECRETS = {"bob": "web-bob-1", "carol": "web-carol-1", "gina": "web-gina-1"}


def web_setup(world):
    """A web: section in world's policy (webd's user: this test's),
    globex's pacs behind approval, PAM service bastion-web; not started."""
    world.top["web"] = {"origin": ORIGIN,
                        "daemon_user": pwd.getpwuid(os.getuid()).pw_name}
    world.vendors["globex"]["approval"] = {"required": True}
    passdb = world.pam.workdir / "web-passdb"
    passdb.write_text("".join("%s:%s:bastion-web\n" % kv
                              for kv in SECRETS.items()))
    os.chmod(passdb, 0o600)
    world.pam.write_service("bastion-web", [
        "auth required %s passdb=%s" % (world.pam.matrix, passdb),
        "account required %s passdb=%s" % (world.pam.matrix, passdb)])


@pytest.fixture
def web(cast):
    """The standard cast with web_setup(); started."""
    world, p = cast
    web_setup(world)
    world.start_bastion()
    return world, p


def enrol(world, person, authn):
    """person's key enrolled with a code from the ssh admin console."""
    r = person.ssh("web-enroll", "--json")
    assert r.returncode == 0, r.stderr
    code = json.loads(r.stdout)
    assert code["url"] == ORIGIN + "/#/enroll" and len(code["code"]) == 10
    a = call(world, ["enroll-begin", person.name], [("code", code["code"])])
    assert a.exit == 0, a.err
    ch, opts = a.challenge()
    assert opts["rp_id"] == RP_ID and opts["exclude"] == []
    assert opts["user_name"] == person.name
    assert len(base64.urlsafe_b64decode(opts["user_id"] + "==")) == 16
    a = call(world, ["enroll-finish", person.name],
             [("attest", authn.create(ch)),
              ("secret", SECRETS[person.name])])
    assert a.exit == 0, a.err
    ev = world.bastion.wait_audit(event="web.enroll", person=person.name,
                                  result="ok")
    assert ev["cred"] == b64url(authn.cred_id) and ev["alg"] == "ES256"
    # the code was for once
    a = call(world, ["enroll-begin", person.name], [("code", code["code"])])
    assert a.exit == 1 and a.err == "enrolment failed\n"


def sign_in(world, name, authn, secret=None):
    """login-begin + login-finish; the Answer of the finish."""
    a = call(world, ["login-begin", name], [("from", "192.0.2.7")])
    assert a.exit == 0, a.err
    ch, opts = a.challenge()
    return call(world, ["login-finish", name],
                [("assert", authn.get(ch)),
                 ("secret", secret or SECRETS.get(name, "x")),
                 ("from", "192.0.2.7")]), opts


def enrol_locally(world, bastionctl, name, authn):
    """name's key enrolled with a code from a local admin (bastionctl
    web-enroll: auditors need not use ssh), then signed in: (token,
    the 'a' frame's JSON)."""
    r = bastionctl(world, "web-enroll", name, "--json")
    assert r.returncode == 0, r.stderr
    ev = world.bastion.wait_audit(event="web.enroll", person=name,
                                  result="code")
    assert ev["via"] == "bastionctl"
    a = call(world, ["enroll-begin", name],
             [("code", json.loads(r.stdout)["code"])])
    assert a.exit == 0, a.err
    ch, _ = a.challenge()
    a = call(world, ["enroll-finish", name],
             [("attest", authn.create(ch)), ("secret", SECRETS[name])])
    assert a.exit == 0, a.err
    a, _ = sign_in(world, name, authn)
    assert a.exit == 0, a.err
    tok, _, who = token_of(a)
    return tok, who


def token_of(answer):
    p = answer.one("a")
    expiry = struct.unpack(">Q", p[32:40])[0]
    return p[:32], expiry, json.loads(p[40:])


# -- the tests ------------------------------------------------------------------

@pytest.mark.timeout(240)
def test_enrol_sign_in_approve_and_replay(web, build_dir):
    world, p = web
    bob = Authenticator()
    enrol(world, p["bob"], bob)
    a, opts = sign_in(world, "bob", bob)
    assert opts["allow"] == [b64url(bob.cred_id)]
    assert a.exit == 0, a.err
    tok, expiry, who = token_of(a)
    assert who == {"person": "bob", "role": "admin", "idle": 900}
    assert 8 * 3600 - 60 < expiry - time.time() <= 8 * 3600
    ev = world.bastion.wait_audit(event="web.login", person="bob",
                                  result="ok")
    assert ev["role"] == "admin" and ev["from"] == "192.0.2.7"
    a = call(world, ["whoami"], [("token", tok)])
    assert a.exit == 0 and a.json()["person"] == "bob"
    # a token that is not one
    a = call(world, ["whoami"], [("token", os.urandom(32))])
    assert a.exit == 1 and "not signed in" in a.err

    proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                        "'ticket 4711'", "echo ran-$((6*7))")
    a = call(world, ["requests", "--json"], [("token", tok),
                                             ("format", "json")])
    assert a.exit == 0, a.err
    assert [r["id"] for r in a.json()] == [int(rid)]
    # a state change is never run directly
    a = call(world, ["approve", rid, "1h"], [("token", tok)])
    assert a.exit == 2 and "prepare and commit" in a.err

    a = call(world, ["prepare", "approve", rid, "1h"], [("token", tok)])
    assert a.exit == 0, a.err
    ch, summary = a.challenge()
    assert summary["request"] == int(rid) and summary["verb"] == "approve"
    assert summary["engineer"] == "gina" and summary["device"] == "pacs"
    assert summary["duration"] == 3600
    assert summary["reason"] == "ticket 4711"
    # commit without an assertion: refused, nothing decided
    a = call(world, ["commit", ch.hex()], [("token", tok)])
    assert a.exit == 1 and "touch of your security key" in a.err
    assert not world.bastion.audit_events(event="approval.approve")
    # an assertion over another challenge: refused, and the challenge is
    # spent (a failed try never leaves it for a second one)
    a = call(world, ["commit", ch.hex()],
             [("token", tok), ("assert", bob.get(os.urandom(32)))])
    assert a.exit == 1 and "not accepted" in a.err
    world.bastion.wait_audit(event="web.assertion", challenge=ch.hex(),
                             result="refused")
    a = call(world, ["prepare", "approve", rid, "1h"], [("token", tok)])
    assert a.exit == 0, a.err
    ch2, summary2 = a.challenge()
    assert ch2 != ch and summary2 == summary
    ch = ch2
    # the assertion is over that challenge: approved, gina's session runs
    signed = bob.get(ch)
    a = call(world, ["commit", ch.hex()], [("token", tok),
                                           ("assert", signed)])
    assert a.exit == 0, a.err
    assert "approved" in a.out
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == "ran-42\n"
    ev = world.bastion.wait_audit(event="approval.approve", request=rid)
    assert ev["via"] == "web" and ev["admin"] == "bob"
    assert ev["assertion"] == ch.hex()
    wa = world.bastion.wait_audit(event="web.assertion", challenge=ch.hex(),
                                  result="ok")
    assert wa["person"] == "bob" and wa["cred"] == b64url(bob.cred_id)
    # the action signed is in the chain: its hash is the challenge
    assert hashlib.sha256(base64.b64decode(wa["action"])).digest() == ch

    # the same assertion again: the challenge is spent
    a = call(world, ["commit", ch.hex()], [("token", tok),
                                           ("assert", signed)])
    assert a.exit == 1, a.err
    world.bastion.wait_audit(event="web.assertion", challenge=ch.hex(),
                             result="replayed")
    assert len(world.bastion.audit_events(event="approval.approve")) == 1

    # logout ends the token
    a = call(world, ["logout"], [("token", tok)])
    assert a.exit == 0
    a = call(world, ["whoami"], [("token", tok)])
    assert a.exit == 1

    verify = subprocess.run(
        [str(build_dir / "bastion-verify"), "--audit",
         str(world.bastion.state_dir / "audit.log")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.timeout(240)
def test_sign_in_refusals(web):
    world, p = web
    bob, carol, gina = Authenticator(), Authenticator(), Authenticator()
    enrol(world, p["bob"], bob)
    # a wrong secret
    a, _ = sign_in(world, "bob", bob, secret="wrong")
    assert a.exit == 1 and a.err == "sign-in failed\n"
    assert not [t for t, _ in a.frames if t == "a"]
    world.bastion.wait_audit(event="web.login", person="bob",
                             result="refused",
                             reason="the PAM secret was refused")
    # an auditor without a credential (the key is not carol's): offered
    # a made-up id, as an unknown name is
    a, opts = sign_in(world, "carol", carol)
    assert len(opts["allow"]) == 1
    assert a.exit == 1 and a.err == "sign-in failed\n"
    world.bastion.wait_audit(event="web.login", person="carol",
                             result="refused",
                             reason="no such credential of that person")
    # an unknown name gets the same shape of answer, a made-up id
    a, opts2 = sign_in(world, "mallory", carol)
    assert a.exit == 1 and a.err == "sign-in failed\n"
    assert len(opts2["allow"]) == 1 and opts2["allow"] != opts["allow"]
    # an engineer, even with a credential slipped into the store
    # (either backend: the values are base64url and hex, nothing to quote)
    nums = gina.key.public_key().public_numbers()
    state_sql(world.bastion,
              "INSERT INTO web_credential(person, cred_id, alg, pubkey, "
              "created, enrolled_by) VALUES ('gina', '%s', -7, '04%s%s', "
              "0, 'test')" % (b64url(gina.cred_id),
                              nums.x.to_bytes(32, "big").hex(),
                              nums.y.to_bytes(32, "big").hex()))
    a, _ = sign_in(world, "gina", gina)
    assert a.exit == 1 and a.err == "sign-in failed\n"
    world.bastion.wait_audit(event="web.login", person="gina",
                             result="refused",
                             reason="engineers do not use the console")
    # nor can an engineer get an enrolment code
    r = p["bob"].ssh("web-enroll", "gina")
    assert r.returncode != 0
    # a replayed sign-in assertion
    a = call(world, ["login-begin", "bob"])
    ch, _ = a.challenge()
    signed = bob.get(ch)
    a = call(world, ["login-finish", "bob"], [("assert", signed),
                                               ("secret", SECRETS["bob"])])
    assert a.exit == 0, a.err
    a = call(world, ["login-finish", "bob"], [("assert", signed),
                                               ("secret", SECRETS["bob"])])
    assert a.exit == 1 and a.err == "sign-in failed\n"
    # an assertion made for another origin
    a = call(world, ["login-begin", "bob"])
    ch, _ = a.challenge()
    a = call(world, ["login-finish", "bob"],
             [("assert", bob.get(ch, origin="https://evil.test:8443")),
              ("secret", SECRETS["bob"])])
    assert a.exit == 1 and a.err == "sign-in failed\n"
    # bob has failed 3 times now; 2 more, then even the right key and
    # secret are refused for a while (5 in 15 minutes)
    for _ in range(2):
        a, _ = sign_in(world, "bob", bob, secret="wrong")
        assert a.exit == 1
    a, _ = sign_in(world, "bob", bob)
    assert a.exit == 1 and a.err == "sign-in failed\n"
    world.bastion.wait_audit(event="web.login", person="bob",
                             result="refused", reason="too many failed "
                             "sign-ins (5 in 15 minutes)")


@pytest.mark.timeout(240)
def test_changed_between_prepare_and_commit(web):
    world, p = web
    bob = Authenticator()
    enrol(world, p["bob"], bob)
    a, _ = sign_in(world, "bob", bob)
    tok, _, _ = token_of(a)
    proc, rid = waiting(world, p["gina"], "pacs", "--reason", "'t 1'",
                        "echo no")
    a = call(world, ["prepare", "approve", rid, "2h"], [("token", tok)])
    assert a.exit == 0, a.err
    ch, _ = a.challenge()
    # the console's feed: a frame when the decision comes
    feed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    feed.settimeout(20)
    feed.connect(str(world.bastion.run_dir / "web.sock"))
    feed.sendall(request2(["feed"], [("token", tok)]))
    feed.shutdown(socket.SHUT_WR)
    assert read_frame(feed) == ("j", b'{"kind":"open"}')
    # meanwhile the request is denied over ssh
    r = p["bob"].ssh("deny", rid, "not today")
    assert r.returncode == 0, r.stderr
    assert read_frame(feed) == ("j", b'{"kind":"request"}')
    proc.communicate(timeout=60)
    # a new request is pushed too
    proc2, rid2 = waiting(world, p["gina"], "pacs", "--reason", "'t 2'",
                          "echo no")
    assert read_frame(feed) == ("j", b'{"kind":"request"}')
    feed.close()
    proc2.kill()
    proc2.communicate(timeout=30)
    a = call(world, ["commit", ch.hex()], [("token", tok),
                                           ("assert", bob.get(ch))])
    assert a.exit == 1 and "changed since it was prepared" in a.err
    world.bastion.wait_audit(event="web.assertion", challenge=ch.hex(),
                             result="changed")
    assert not world.bastion.audit_events(event="approval.approve")

    # lock and unlock an engineer, each with its own touch
    for words, event in ((["lock", "alice", "left", "the", "company"],
                          "engineer.lock"),
                         (["unlock", "alice", "--account"],
                          "engineer.unlock")):
        a = call(world, ["prepare"] + words, [("token", tok)])
        assert a.exit == 0, a.err
        ch, summary = a.challenge()
        assert summary["verb"] == words[0] and summary["engineer"] == "alice"
        a = call(world, ["commit", ch.hex()], [("token", tok),
                                               ("assert", bob.get(ch))])
        assert a.exit == 0, a.err
        ev = world.bastion.wait_audit(event=event, engineer="alice")
        assert ev["via"] == "web" and ev["assertion"] == ch.hex()
    # locked meanwhile: a prepared lock no longer holds
    a = call(world, ["prepare", "lock", "alice", "again"], [("token", tok)])
    ch, _ = a.challenge()
    r = p["bob"].ssh("lock", "alice", "by ssh")
    assert r.returncode == 0, r.stderr
    a = call(world, ["commit", ch.hex()], [("token", tok),
                                           ("assert", bob.get(ch))])
    assert a.exit == 1 and "changed since it was prepared" in a.err


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to be another uid")
def test_only_webd_uid_is_admitted(web):
    world, p = web
    sock = world.bastion.run_dir / "web.sock"
    assert (sock.stat().st_mode & 0o777) == 0o660
    # let any local user reach the check (the mode alone keeps them out)
    os.chmod(sock, 0o666)
    nobody = pwd.getpwnam("nobody").pw_uid
    a = call(world, ["login-begin", "bob"], uid=nobody)
    assert a.exit == 1
    assert "web.sock serves only bastion-webd" in a.err
    ev = world.bastion.wait_audit(event="ctl.refused", user="nobody")
    assert "web.sock" in ev["reason"]
    assert not world.bastion.audit_events(event="web.login")
    # webd's own uid is answered
    a = call(world, ["login-begin", "bob"])
    assert a.exit == 0, a.err


@pytest.mark.timeout(120)
def test_watch_streams_terminal_frames(web, bastionctl):
    """watch on the web: 't' frames, time-stamped, the screen's bytes
    sanitised as for a terminal (no clipboard escape); an auditor may
    not watch."""
    world, p = web
    bob, carol = Authenticator(), Authenticator()
    enrol(world, p["bob"], bob)
    a, _ = sign_in(world, "bob", bob)
    tok, _, _ = token_of(a)
    proc, sid = live_session(world, p["alice"], command=(
        "echo tick-start; sleep 2; printf '\\033]52;c;QUJD\\007'; "
        "echo tick-$((6*7)); sleep 1"))
    a = call(world, ["watch", sid], [("token", tok)])
    assert a.exit == 0, a.err
    terms = [pl for t, pl in a.frames if t == "t"]
    assert terms, a.frames
    stamps = [struct.unpack(">Q", pl[:8])[0] for pl in terms]
    assert stamps == sorted(stamps)
    screen = b"".join(pl[8:] for pl in terms)
    assert b"tick-start" in screen and b"tick-42" in screen
    assert b"52;c" not in screen
    assert "watching session %s" % sid in a.err
    ev = world.bastion.wait_audit(event="session.watch", session=sid)
    assert ev["via"] == "web" and ev["admin"] == "bob"
    proc.communicate(timeout=30)
    # an auditor's token does not reach watch; carol's code comes from
    # a local admin with bastionctl (auditors need not use ssh)
    ctok, who = enrol_locally(world, bastionctl, "carol", carol)
    assert who["role"] == "auditor"
    a = call(world, ["watch", sid], [("token", ctok)])
    assert a.exit == 2 and "not a verb the console runs" in a.err
    # the auditor's own verbs run: alice's session is listed
    a = call(world, ["recordings"], [("token", ctok)])
    assert a.exit == 0, a.err
    assert "alice" in a.out and "ct-scanner" in a.out
    world.bastion.wait_audit(event="console.verb", user="carol", via="web",
                             verb="recordings", status="ok")
    # and the player's cast of alice's recording: asciicast v2, sanitised
    a = call(world, ["cast", sid], [("token", ctok)])
    assert a.exit == 0, a.err
    assert "verified" in a.err
    lines = a.out.splitlines()
    assert json.loads(lines[0])["version"] == 2
    events = [json.loads(x) for x in lines[1:]]
    shown = "".join(e[2] for e in events if e[1] == "o")
    assert "tick-42" in shown and "52;c" not in shown
    world.bastion.wait_audit(event="recording.access", user="carol",
                             verb="cast")
    # the evidence bundle: only with a touch, as an action
    a = call(world, ["export", sid], [("token", ctok)])
    assert a.exit == 2 and "prepare and commit" in a.err
    a = call(world, ["prepare", "export", sid], [("token", ctok)])
    assert a.exit == 0, a.err
    ch, summary = a.challenge()
    assert summary["verb"] == "export" and summary["session"] == sid
    a = call(world, ["commit", ch.hex()], [("token", ctok),
                                           ("assert", carol.get(ch))])
    assert a.exit == 0, a.err
    assert a.outb[257:262] == b"ustar"
    wa = world.bastion.wait_audit(event="web.assertion", person="carol",
                                  result="ok")
    assert wa["challenge"] == ch.hex()
