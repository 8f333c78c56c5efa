"""Authentication that cannot be turned against users (issue 13, items 1,
2, 3 and 9; docs/ARCHITECTURE.md "Authentication").

An attacker drives the real OpenSSH client against the real bastiond:

  1. a stranger (a key of their own, or an engineer's key from the wrong
     address) must never reach PAM, so cannot lock anyone out, and sees
     the same prompts, refusal and timing as a wrong secret; one
     connection gets fewer PAM tries than the faillock allows;
  2. without a registered key, a right secret and a wrong one, a known user
     and an unknown one, take the same time;
  3. admins and auditors prove presence (touch, PIN) like engineers;
  9. require_attestation refuses keys never enrolled with a verified
     attestation, and says what to do.

PAM is observed from the outside: the service file is a faillock-like
stack built from pam_exec (every pam_authenticate is a "call" line, every
failure a "fail" line, 5 failures lock the account, as pam_faillock deny=5
in pam/bastion), and the askpass program logs when and with which prompt
ssh asked for the secret.
"""

import os
import re
import shutil
import statistics
import stat
import subprocess
import time

import pytest

from harness import util
from harness.client import Person, add_site_people
from harness.pam import find_pam_module

DENIED = "Permission denied"
FAIL_DELAY = 2.0            # AUTH_FAIL_DELAY_MS in bastion/auth.c


# --- observing PAM and the client -----------------------------------------------

class Faillock:
    """The world's "bastion" PAM service as a faillock-like stack:

        auth required  pam_exec preauth.sh   (logs "call USER"; fails
                                               once USER has 5 failures)
        auth [success=1 default=ignore] pam_matrix
        auth [default=die] pam_exec authfail.sh   (logs "fail USER")
        auth sufficient pam_permit
        auth requisite pam_deny
        account required pam_matrix

    the shape of the shipped pam/bastion (faillock preauth, pam_unix,
    faillock authfail deny=5), with pam_exec and pam_matrix instead, so it
    needs no system accounts. extra: lines put first (e.g. pam_faildelay).
    """

    def __init__(self, world, extra=()):
        exe = find_pam_module("pam_exec.so")
        permit = find_pam_module("pam_permit.so")
        deny = find_pam_module("pam_deny.so")
        if not (exe and permit and deny):
            pytest.skip("pam_exec, pam_permit or pam_deny not installed")
        pam = world.pam
        self.dir = world.dir / "faillock"
        self.dir.mkdir(exist_ok=True)
        self.log = self.dir / "log"
        self.log.write_text("")
        pre = self.dir / "preauth.sh"
        pre.write_text(
            "#!/bin/sh\n"
            "echo \"call $PAM_USER\" >> %s\n"
            "n=$(grep -c \"^fail $PAM_USER\\$\" %s)\n"
            "[ \"$n\" -lt 5 ]\n" % (self.log, self.log))
        fail = self.dir / "authfail.sh"
        fail.write_text("#!/bin/sh\necho \"fail $PAM_USER\" >> %s\nexit 1\n"
                        % self.log)
        for f in (pre, fail):
            f.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP |
                    stat.S_IROTH | stat.S_IXOTH)
        self.dir.chmod(0o755)
        self.log.chmod(0o666)
        m = "%s passdb=%s" % (pam.matrix, pam.passdb)
        pam.write_service(pam.service, list(extra) + [
            "auth required %s quiet %s" % (exe, pre),
            "auth [success=1 default=ignore] %s" % m,
            "auth [default=die] %s quiet %s" % (exe, fail),
            "auth sufficient %s" % permit,
            "auth requisite %s" % deny,
            "account required %s" % m])

    def lines(self):
        return self.log.read_text().splitlines()

    def calls(self, user):
        return self.lines().count("call %s" % user)

    def fails(self, user):
        return self.lines().count("fail %s" % user)


def logging_askpass(person, secret):
    """Make person's askpass answer secret and log "TIME PROMPT" per call.
    Returns a function giving [(time, prompt)] so far."""
    log = person.dir / "askpass.log"
    log.write_text("")
    person.secret = secret
    person.askpass.write_text(
        "#!/bin/sh\nprintf '%%s %%s\\n' \"$(date +%%s.%%N)\" \"$1\" >> %s\n"
        "printf '%%s\\n' '%s'\n" % (log, secret))
    person.askpass.chmod(stat.S_IRWXU)

    def asked():
        out = []
        for line in log.read_text().splitlines():
            t, _, prompt = line.partition(" ")
            out.append((float(t), prompt))
        return out
    return asked


def shape(r, asked):
    """What a client sees of a refusal, with the user and port taken out:
    exit status, stderr, and the prompts it was asked."""
    def clean(s):
        s = re.sub(r"\S+@127\.0\.0\.1", "USER@HOST", s)
        return re.sub(r"port \d+", "port N", s)
    return (r.returncode, clean(r.stderr),
            tuple(clean(p) for _, p in asked()))


def source(i):
    """The i-th client address (127.0.0.10 on): failing connections come
    from addresses of their own, so the listener's per-source penalty
    (three free failures) never refuses a test's later connections."""
    return "127.0.0.%d" % (10 + i)


def bind(addr):
    return ("-o", "BindAddress=%s" % addr)


def attempt(person, asked, addr, *args, prompts=1, **kw):
    """person's ssh to ct-scanner from addr; returns (CompletedProcess,
    seconds from the last secret typed to the refusal)."""
    before = len(asked())
    r = person.ssh("ct-scanner", "echo reached", *args, options=bind(addr),
                   extra={"NumberOfPasswordPrompts": str(prompts)}, **kw)
    end = time.time()
    typed = asked()[before:]
    return r, (end - typed[-1][0]) if typed else None


def stranger(world, softsk, name="mallory"):
    """Someone with a security key of their own, registered to nobody."""
    return Person(world, softsk, name, "whatever", dir=world.dir / name)


# --- 1. no lockout by strangers ---------------------------------------------------

@pytest.mark.timeout(240)
def test_stranger_never_reaches_pam_and_cannot_lock_out(cast, softsk):
    world, p = cast
    lock = Faillock(world)
    world.start_bastion()
    m = stranger(world, softsk)
    # the stranger knows alice's name, and even her secret
    for i, secret in enumerate(("guess-1", p["alice"].secret, "guess-2")):
        asked = logging_askpass(m, secret)
        r = m.ssh("ct-scanner", "true", login="alice", options=bind(
            source(i)))
        assert r.returncode == 255 and DENIED in r.stderr, r.stderr
        assert len(asked()) == 3            # prompted like anyone
    assert lock.calls("alice") == 0 and lock.fails("alice") == 0, \
        lock.lines()
    assert not world.bastion.audit_events(event="auth.factor", user="alice",
                                          factor="pam", result="fail")
    skipped = world.bastion.audit_events(event="auth.factor", user="alice",
                                         factor="pam", result="skipped")
    assert len(skipped) == 9
    ev = world.bastion.audit_events(event="auth.result", user="alice",
                                    result="denied")
    assert all("not registered" in e["reason"] for e in ev[:3]), ev
    # nine tries later alice is not locked out
    r = p["alice"].ssh("ct-scanner", "echo reached")
    assert r.returncode == 0 and "reached" in r.stdout, r.stderr
    assert lock.calls("alice") == 1


def narrow_sources_gina_disabled(world):
    """The policy with every vendor's sources narrowed to 127.0.0.0/25 and
    gina disabled."""
    pol = world.policy()
    for v in pol["vendors"]:
        v["sources"] = ["127.0.0.0/25"]
        for e in v["engineers"]:
            if e["name"] == "gina":
                e["enabled"] = False
    return pol


@pytest.mark.timeout(240)
def test_wrong_address_or_account_never_reaches_pam(cast, softsk):
    """alice's own key from outside acme's sources, and gina disabled:
    refused like a wrong secret, and PAM never asked."""
    world, p = cast
    lock = Faillock(world)
    world.start_bastion(narrow_sources_gina_disabled(world))
    # all at once: each refusal takes as long as a wrong secret's
    tries = []
    for i in range(2):
        tries.append(p["alice"].popen(
            "ct-scanner", "true", options=bind("127.0.0.%d" % (200 + i)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        tries.append(p["gina"].popen(
            "pacs", "true", options=bind(source(i)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for pr in tries:
        err = pr.communicate(timeout=60)[1]
        assert pr.returncode == 255 and DENIED in err, err
    assert lock.calls("alice") == 0 and lock.calls("gina") == 0, \
        lock.lines()
    reasons = [e["reason"] for e in world.bastion.audit_events(
        event="auth.result", result="denied")]
    assert any("source address" in x for x in reasons), reasons
    assert any("disabled" in x for x in reasons), reasons
    # from the allowed address alice still gets in
    r = p["alice"].ssh("ct-scanner", "echo reached")
    assert r.returncode == 0 and "reached" in r.stdout, r.stderr


@pytest.mark.timeout(240)
def test_refusals_look_and_last_like_a_wrong_secret(cast, softsk):
    """Unknown user, unregistered key, wrong address, disabled account and
    a wrong secret: same exit, same stderr, same prompts, same time."""
    world, p = cast
    lock = Faillock(world)
    world.start_bastion(narrow_sources_gina_disabled(world))
    m = stranger(world, softsk)
    cases = {       # who, as whom, secret, from
        "wrong secret": (p["alice"], "alice", "wrong", source(0)),
        "unregistered key": (m, "alice", p["alice"].secret, source(1)),
        "unknown user": (m, "nobody-here", "wrong", source(2)),
        "wrong address": (p["alice"], "alice", p["alice"].secret,
                          "127.0.0.200"),
        "disabled": (p["gina"], "gina", p["gina"].secret, source(3)),
    }
    seen, took = {}, {}
    for name, (who, login, secret, addr) in cases.items():
        asked = logging_askpass(who, secret)
        before = len(asked())
        r = who.ssh("true", login=login + "+ct-scanner", options=bind(addr),
                    extra={"NumberOfPasswordPrompts": "1"})
        end = time.time()
        typed = asked()[before:]
        assert typed, (name, r.stderr)
        took[name] = end - typed[-1][0]
        seen[name] = shape(r, lambda: typed)
    assert len(set(seen.values())) == 1, seen
    assert DENIED in next(iter(seen.values()))[1]
    # each refusal comes the same delay after the answer, PAM or not
    for name, t in took.items():
        assert FAIL_DELAY - 0.1 < t < FAIL_DELAY + 1.0, took
    assert max(took.values()) - min(took.values()) < 0.5, took
    # and only the wrong secret (alice's key, allowed address) met PAM
    assert lock.calls("alice") == 1 and lock.calls("gina") == 0, \
        lock.lines()


@pytest.mark.timeout(180)
def test_one_connection_gets_fewer_pam_tries_than_faillock_allows(cast):
    """A client that would try ten secrets is cut off after three, so one
    connection cannot lock its own account (deny=5)."""
    world, p = cast
    lock = Faillock(world)
    world.start_bastion()
    secret = p["alice"].secret
    asked = logging_askpass(p["alice"], "wrong")
    r = p["alice"].ssh("ct-scanner", "true",
                       extra={"NumberOfPasswordPrompts": "10"})
    assert r.returncode == 255
    assert len(asked()) == 3, asked()
    assert lock.calls("alice") == 3 and lock.fails("alice") == 3
    world.bastion.wait_audit(event="auth.result", user="alice",
                             reason="too many attempts")
    logging_askpass(p["alice"], secret)
    r = p["alice"].ssh("ct-scanner", "echo reached")
    assert r.returncode == 0 and "reached" in r.stdout, r.stderr


# --- 2. no secret oracle -----------------------------------------------------------

@pytest.mark.timeout(300)
def test_no_timing_oracle_without_a_registered_key(cast, softsk):
    """With a PAM failure delay in the stack (pam_faildelay, as pam_unix
    has one), a stranger's right and wrong secrets, and a known and an
    unknown user, are refused after the same time."""
    world, p = cast
    faildelay = find_pam_module("pam_faildelay.so")
    if not faildelay:
        pytest.skip("pam_faildelay.so not installed")
    Faillock(world, extra=["auth optional %s delay=1500000" % faildelay])
    world.start_bastion()
    m = stranger(world, softsk)
    samples = {"right secret": [], "wrong secret": [], "unknown user": []}
    n = 0
    for _ in range(3):
        for name in samples:
            asked = logging_askpass(m, p["alice"].secret
                                    if name != "wrong secret" else "nope")
            r, t = attempt(m, asked, source(n), login="nobody-here"
                           if name == "unknown user" else "alice")
            n += 1
            assert r.returncode == 255 and DENIED in r.stderr, r.stderr
            samples[name].append(t)
    med = {k: statistics.median(v) for k, v in samples.items()}
    assert abs(med["right secret"] - med["wrong secret"]) < 0.4, samples
    assert abs(med["right secret"] - med["unknown user"]) < 0.4, samples
    # and the owner's wrong secret (PAM's delay taken over) is no
    # different
    asked = logging_askpass(p["alice"], "nope")
    r, t = attempt(p["alice"], asked, "127.0.0.1")
    assert r.returncode == 255
    assert abs(t - med["wrong secret"]) < 0.4, (t, samples)


# --- 3. every role proves presence --------------------------------------------------

@pytest.mark.timeout(240)
def test_admin_and_auditor_must_touch_before_any_verb(site, softsk):
    world, p = site
    for name in ("bob", "carol"):
        p[name].agent_sock()
    softsk.set_touch(False)
    for name, verb in (("bob", "sessions"), ("carol", "recordings")):
        r = p[name].ssh(verb)
        assert r.returncode != 0, (name, r.stdout, r.stderr)
        assert "signed without being touched" in r.stderr, r.stderr
        ev = world.bastion.wait_audit(event="touch.no_touch", user=name)
        assert ev["result"] == "refused"
        assert ev["role"] == ("admin" if name == "bob" else "auditor")
        assert not int(ev["flags"], 16) & 0x01
        assert not world.bastion.audit_events(event="console.verb",
                                              user=name)
    softsk.set_touch(True)
    for name, verb, console in (("bob", "sessions", "admin"),
                                ("carol", "recordings", "auditor")):
        r = p[name].ssh(verb)
        assert r.returncode == 0, r.stderr
        assert ("touch your security key to use the %s console" % console
                in r.stderr), r.stderr
        ev = world.bastion.wait_audit(event="touch.ok", user=name)
        assert int(ev["flags"], 16) & 0x01
        world.bastion.wait_audit(event="console.verb", user=name)


@pytest.mark.timeout(180)
def test_admin_without_agent_gets_the_same_hint(site):
    world, p = site
    for name, verb in (("bob", "requests"), ("carol", "recordings")):
        r = p[name].ssh(verb, agent=False)
        assert r.returncode != 0
        for line in ("does not forward your agent", "ssh -A",
                     "Host bastion", "ForwardAgent yes",
                     "IdentityFile ~/.ssh/id_ed25519_sk",
                     "AddKeysToAgent yes"):
            assert line in r.stderr, (name, r.stderr)
        world.bastion.wait_audit(event="touch.no_agent", user=name)
        assert not world.bastion.audit_events(event="console.verb",
                                              user=name)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_verify_required_key_needs_pin_for_every_role(world, softsk,
                                                      bastiond_bin, role):
    who = Person(world, softsk, "vera", "s3cret-vera", verify_required=True)
    add = world.add_admin if role == "admin" else world.add_auditor
    add("vera", "verify-required " + who.public_key(), secret=who.secret)
    world.start_bastion()
    verb = "sessions" if role == "admin" else "recordings"
    who.agent_sock()
    softsk.set_uv(False)
    r = who.ssh(verb)
    assert r.returncode != 0
    assert "without verifying your PIN" in r.stderr, r.stderr
    world.bastion.wait_audit(event="touch.no_pin", user="vera")
    softsk.set_uv(True)
    r = who.ssh(verb)
    assert r.returncode == 0, r.stderr
    assert "and enter its PIN if asked" in r.stderr
    ev = world.bastion.wait_audit(event="touch.ok", user="vera")
    assert int(ev["flags"], 16) & 0x05 == 0x05


# --- 9. attestation that gates login ------------------------------------------------

def attested_engineer(world, softsk, name, vendor="acme"):
    """An engineer whose login key was made with an attestation; returns
    (Person, pub, attestation, challenge)."""
    p = Person(world, softsk, name, "s3cret-" + name)
    d = p.dir / "attested"
    d.mkdir()
    chal = d / "key.chal"
    chal.write_bytes(os.urandom(32))
    att = d / "key.att"
    key = d / "id_ed25519_sk"
    pub = softsk.enroll(key, attestation_path=att, challenge_path=chal,
                        comment=name)
    p.key = key
    p.pub = open(pub).read().strip()
    world.add_engineer(vendor, name, p.public_key(), secret=p.secret)
    return p, pub, att, chal


def roots(tmp_path, softsk):
    d = tmp_path / "roots"
    d.mkdir(exist_ok=True)
    shutil.copy(os.path.join(softsk.state_dir, "ca.pem"), d / "ca.pem")
    return d


@pytest.mark.timeout(240)
def test_require_attestation_refuses_unattested_key_and_says_what_to_do(
        world, softsk, bastiond_bin, bastionctl, tmp_path):
    erin, pub, att, chal = attested_engineer(world, softsk, "erin")
    world.vendors["acme"]["require_attestation"] = True
    lock = Faillock(world)
    world.start_bastion()

    def refused(words):
        r = erin.ssh("ct-scanner", "echo reached")
        assert r.returncode == 255 and "reached" not in r.stdout
        for w in ("bastion: key SHA256:", words, "vendor acme",
                  "verified attestation", "-O write-attestation=",
                  "bastionctl enroll erin --require-attestation"):
            assert w in r.stderr, r.stderr
        ev = world.bastion.audit_events(event="auth.result", user="erin",
                                        result="denied")[-1]
        assert words in ev["reason"] and "bastionctl enroll erin --key " \
            "KEY.pub --attestation FILE --challenge FILE --roots DIR " \
            "--require-attestation" in ev["reason"], ev
        assert lock.calls("erin") == 0          # the key cannot log in:
        return ev                               # PAM is not bothered

    refused("was never enrolled")
    assert not world.bastion.audit_events(event="device.connect")
    # enrolled, but without an attestation: still refused
    r = bastionctl(world, "enroll", "erin", "--key", pub)
    assert r.returncode == 0, r.stderr
    refused("was enrolled without an attestation")
    # enrolled with a verified attestation: in
    r = bastionctl(world, "enroll", "erin", "--key", pub, "--attestation",
                   att, "--challenge", chal, "--roots",
                   roots(tmp_path, softsk), "--require-attestation")
    assert r.returncode == 0, r.stderr
    r = erin.ssh("ct-scanner", "echo reached")
    assert r.returncode == 0 and "reached" in r.stdout, r.stderr
    assert lock.calls("erin") == 1


@pytest.mark.timeout(240)
def test_require_attestation_hospital_wide_with_vendor_override(
        world, softsk, bastiond_bin):
    people = add_site_people(world, softsk)
    world.top["require_attestation"] = True
    world.vendors["globex"]["require_attestation"] = False
    world.start_bastion()
    r = people["alice"].ssh("ct-scanner", "echo reached")
    assert r.returncode == 255 and "was never enrolled" in r.stderr, \
        r.stderr
    # globex opted out; admins and auditors are not enrolled engineers
    r = people["gina"].ssh("pacs", "echo reached")
    assert r.returncode == 0 and "reached" in r.stdout, r.stderr
    assert people["bob"].ssh("sessions").returncode == 0
    assert people["carol"].ssh("recordings").returncode == 0


def test_require_attestation_in_the_policy_check(world, softsk, bastiond_bin,
                                                 tmp_path):
    world.add_engineer("acme", "alice", util.read_pub(
        softsk.enroll(tmp_path / "id_alice")))
    world.top["require_attestation"] = True
    world.write_policy()
    r = world.bastion.check_policy()
    assert r.returncode == 0, r.stdout + r.stderr
    # a vendor that allows plain keys cannot require an attestation
    pol = world.policy()
    pol["vendors"][0]["allow_non_sk_keys"] = True
    world.bastion.write_policy(pol)
    r = world.bastion.check_policy()
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "require_attestation: true (hospital-wide) and " \
        "allow_non_sk_keys: true contradict" in out, out
    pol["vendors"][0]["require_attestation"] = False
    world.bastion.write_policy(pol)
    assert world.bastion.check_policy().returncode == 0
    pol["vendors"][0]["require_attestation"] = "sometimes"
    world.bastion.write_policy(pol)
    r = world.bastion.check_policy()
    assert r.returncode != 0
    assert "require_attestation is \"sometimes\", not a boolean" in \
        r.stdout + r.stderr
