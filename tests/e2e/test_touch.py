"""The touch check and key enrolment end to end (issue 5, docs/FIDO2.md).

Real ssh with -A, a real ssh-agent holding the software security key
(softsk: its switches flip touch, PIN and counter while the agent runs),
the real bastiond and sshd devices; bastionctl for enrolment, keys and
unlock. Every touch test runs with ed25519-sk and ecdsa-sk keys.
"""

import os
import shutil
import struct
import subprocess
import urllib.request

import pytest

from harness import util
from harness.bastion import World
from harness.client import Person

KEY_TYPES = ["ed25519-sk", "ecdsa-sk"]
SOFTSK_AAGUID = "536f6674534b2d546573742d4f6e6c79"


# --- helpers --------------------------------------------------------------------

def engineer(world, softsk, key_type, name="erin", verify_required=False,
             vendor="acme"):
    """A new engineer of vendor with a software key of key_type."""
    p = Person(world, softsk, name, "s3cret-" + name, key_type=key_type,
               verify_required=verify_required)
    key = p.public_key()
    if verify_required:
        key = "verify-required " + key
    world.add_engineer(vendor, name, key, secret=p.secret)
    return p


def reached(r, marker="reached"):
    return r.returncode == 0 and marker in r.stdout


def refused(world, p, words, event, **ssh_kw):
    """p's session to ct-scanner is refused with words on stderr and the
    audit event; returns the event."""
    r = p.ssh("ct-scanner", "echo reached", **ssh_kw)
    assert r.returncode != 0 and "reached" not in r.stdout
    assert words in r.stderr, r.stderr
    ev = world.bastion.wait_audit(event=event, user=p.name)
    assert ev["result"] == "refused"
    return ev, r


def no_device_connect(world, user):
    return not world.bastion.audit_events(event="device.connect", user=user)


# --- the touch ----------------------------------------------------------------------

@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_touch_present_reaches_device(world, softsk, bastiond_bin, key_type):
    p = engineer(world, softsk, key_type)
    world.start_bastion()
    r = p.ssh("ct-scanner", "echo reached")
    assert reached(r), r.stderr
    assert "touch your security key to reach ct-scanner" in r.stderr
    ev = world.bastion.wait_audit(event="touch.ok", user="erin")
    assert ev["device"] == "ct-scanner" and ev["result"] == "ok"
    assert int(ev["flags"], 16) & 0x01          # user present
    assert int(ev["counter"]) == softsk.counter()
    assert ev["key"].startswith("SHA256:")
    # the touch comes before the device is reached
    names = [e["event"] for e in world.bastion.audit_events()
             if e["event"] in ("touch.ok", "device.connect")]
    assert names == ["touch.ok", "device.connect"]


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_touch_absent_refused(world, softsk, bastiond_bin, key_type):
    p = engineer(world, softsk, key_type)
    world.start_bastion()
    p.agent_sock()                  # the agent runs; then nobody touches
    softsk.set_touch(False)
    ev, _ = refused(world, p, "signed without being touched",
                    "touch.no_touch")
    assert not int(ev["flags"], 16) & 0x01
    assert no_device_connect(world, "erin")
    # (libssh let the untouched login signature through: the check is
    # what closes that gap) -- a touch again, and it works
    softsk.set_touch(True)
    assert reached(p.ssh("ct-scanner", "echo reached"))


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_verify_required_needs_pin(world, softsk, bastiond_bin, key_type):
    p = engineer(world, softsk, key_type, verify_required=True)
    world.start_bastion()
    softsk.set_uv(False)
    ev, _ = refused(world, p, "without verifying your PIN", "touch.no_pin")
    assert not int(ev["flags"], 16) & 0x04
    assert no_device_connect(world, "erin")
    softsk.set_uv(True)
    r = p.ssh("ct-scanner", "echo reached")
    assert reached(r), r.stderr
    ev = world.bastion.wait_audit(event="touch.ok", user="erin")
    assert int(ev["flags"], 16) & 0x05 == 0x05


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_counter_regression_locks_key_until_unlock(world, softsk, bastiond_bin,
                                                   bastionctl, key_type):
    p = engineer(world, softsk, key_type)
    world.start_bastion()
    assert reached(p.ssh("ct-scanner", "echo reached"))
    high = softsk.counter()
    # a clone: the same key, but its counter is behind
    softsk.set_counter(0)
    ev, r = refused(world, p, "counter went backwards",
                    "touch.counter_regression")
    assert "the key is now locked" in r.stderr
    assert ev["alert"] == "possible cloned authenticator"
    assert "not above the last one seen, %d" % high in ev["reason"]
    # the real key again, counter well ahead: still locked
    softsk.set_counter(high + 100)
    _, r = refused(world, p, "is locked", "touch.locked")
    assert "bastionctl unlock erin" in r.stderr
    assert len(world.bastion.audit_events(event="device.connect",
                                          user="erin")) == 1
    keys = bastionctl(world, "keys", "erin")
    assert keys.returncode == 0, keys.stderr
    assert "LOCKED" in keys.stdout and ev["key"] in keys.stdout
    # the admin unlocks it: the next login works
    u = bastionctl(world, "unlock", "erin")
    assert u.returncode == 0, u.stderr
    assert "unlocked: erin %s" % ev["key"] in u.stdout
    # through bastiond's control socket: the event is bastiond's
    world.bastion.wait_audit(event="key.unlock", engineer="erin")
    assert reached(p.ssh("ct-scanner", "echo reached"))
    assert "LOCKED" not in bastionctl(world, "keys", "erin").stdout
    again = bastionctl(world, "unlock", "erin")
    assert again.returncode == 0 and "no locked keys" in again.stdout


def test_unlock_with_counter_reset_accepts_restarted_key(world, softsk,
                                                         bastiond_bin,
                                                         bastionctl):
    p = engineer(world, softsk, "ed25519-sk")
    world.start_bastion()
    assert reached(p.ssh("ct-scanner", "echo reached"))
    softsk.set_counter(0)           # the key was reset by its owner
    assert not reached(p.ssh("ct-scanner", "echo reached"))
    assert bastionctl(world, "unlock", "erin",
                      "--reset-counter").returncode == 0
    assert reached(p.ssh("ct-scanner", "echo reached"))


# --- no agent, no key, no session ------------------------------------------------

def test_no_agent_forwarding_refused_with_config_hint(world, softsk,
                                                      bastiond_bin):
    p = engineer(world, softsk, "ecdsa-sk")
    world.start_bastion()
    ev, r = refused(world, p, "does not forward your agent",
                    "touch.no_agent", agent=False)
    for line in ("ssh -A", "Host bastion", "ForwardAgent yes",
                 "IdentityFile ~/.ssh/id_ecdsa_sk", "AddKeysToAgent yes",
                 "ssh-add -h"):
        assert line in r.stderr, r.stderr
    assert "ssh -A" in ev["reason"]
    assert no_device_connect(world, "erin")


def test_agent_without_the_key_refused(world, softsk, bastiond_bin):
    p = engineer(world, softsk, "ed25519-sk")
    world.start_bastion()
    empty, _ = softsk.start_agent(util.short_tmpdir("bst-ag-"))
    p.use_agent(empty)
    ev, r = refused(world, p, "does not hold the security key",
                    "touch.no_agent")
    assert "ForwardAgent yes" in r.stderr
    assert "does not hold" in ev["reason"]


def test_sftp_with_agent_forwarding(cast, tmp_path):
    world, p = cast
    world.start_bastion()
    src = tmp_path / "up.txt"
    src.write_text("touched\n")
    r = p["alice"].sftp("put %s %s/got.txt\nbye\n" % (src, tmp_path),
                        "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "got.txt").read_text() == "touched\n"
    world.bastion.wait_audit(event="touch.ok", user="alice")
    # sftp without -A cannot answer the check: right after alice's touch
    # from this address her transfer window admits it (issue 15,
    # test_touch_window.py); gina has made no touch
    r = p["alice"].sftp("bye\n", "ct-scanner", agent=False)
    assert r.returncode == 0 and "admitted without a touch" in r.stderr
    r = p["gina"].sftp("bye\n", "pacs", agent=False)
    assert r.returncode != 0 and "sftp -A" in r.stderr


@pytest.fixture
def web_site(cast):
    world, p = cast
    web = world.devices["ct-scanner"].serve_http(body="CT service page")
    world.device_entries["ct-scanner"]["forward_ports"] = [web.port]
    world.start_bastion()
    return world, p, web


def test_stdio_forward_without_session_refused(web_site):
    world, p, web = web_site
    r = p["alice"].ssh(options=["-W", "ct-scanner:%d" % web.port],
                       login="alice+ct-scanner",
                       input="GET / HTTP/1.0\r\n\r\n")
    assert r.returncode != 0
    assert "CT service page" not in r.stdout
    assert "cannot carry that request" in r.stderr, r.stderr
    ev = world.bastion.wait_audit(event="touch.no_agent", user="alice")
    assert "forward-only" in ev["reason"]
    assert not world.bastion.audit_events(event="forward.open")


def test_forward_only_connection_refused(web_site):
    world, p, web = web_site
    lport = util.free_port("127.0.0.1")
    fwd = p["alice"].popen(options=["-N", "-L", "%d:ct-scanner:%d" % (
        lport, web.port)], login="alice+ct-scanner",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        util.wait_tcp("127.0.0.1", lport, timeout=20)
        with pytest.raises(Exception):
            urllib.request.urlopen("http://127.0.0.1:%d/" % lport,
                                   timeout=10).read()
        _, err = fwd.communicate(timeout=20)
    finally:
        if fwd.poll() is None:
            fwd.kill()
            fwd.wait(10)
    assert fwd.returncode != 0
    assert "port forwarding needs a touch" in err, err
    assert "ssh -A -L PORT:DEVICE:PORT alice+DEVICE@bastion" in err
    world.bastion.wait_audit(event="touch.no_agent", user="alice")
    assert not world.bastion.audit_events(event="forward.open")


def test_forward_beside_a_session_after_touch(web_site):
    world, p, web = web_site
    lport = util.free_port("127.0.0.1")
    fwd = p["alice"].popen("sleep 30", options=["-L", "%d:ct-scanner:%d" % (
        lport, web.port)], login="alice+ct-scanner",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        util.wait_tcp("127.0.0.1", lport, timeout=20)
        world.bastion.wait_audit(event="touch.ok", user="alice")
        body = urllib.request.urlopen("http://127.0.0.1:%d/" % lport,
                                      timeout=10).read().decode()
        assert "CT service page" in body
        world.bastion.wait_audit(event="forward.open", result="ok")
    finally:
        fwd.kill()
        fwd.wait(10)


def test_vendor_touch_off_skips_check(world, softsk, bastiond_bin):
    p = engineer(world, softsk, "ed25519-sk")
    world.vendors["acme"]["touch"] = "off"
    world.start_bastion()
    r = p.ssh("ct-scanner", "echo reached", agent=False)
    assert reached(r), r.stderr
    ev = world.bastion.wait_audit(event="touch.skipped", user="erin")
    assert "touch: off" in ev["reason"]


# --- enrolment and attestation --------------------------------------------------

@pytest.fixture
def paper(tmp_path, build_dir):
    """A policy on paper (no devices, no bastion running): vendor acme with
    engineer erin, for bastionctl."""
    w = World(tmp_path / "paper", build_dir=build_dir, standard=False)
    w.add_vendor("acme", segment=1)
    yield w
    w.close()


def make_attested_key(softsk, dir, key_type, name="new"):
    """A key made with -O challenge= -O write-attestation=; returns paths
    (pub, attestation, challenge)."""
    dir.mkdir(parents=True, exist_ok=True)
    chal = dir / (name + ".chal")
    chal.write_bytes(os.urandom(32))
    att = dir / (name + ".att")
    pub = softsk.enroll(dir / ("id_" + name), type=key_type,
                        attestation_path=att, challenge_path=chal,
                        comment="erin@laptop")
    return pub, att, chal


def roots_with(tmp_path, softsk, name="roots"):
    d = tmp_path / name
    d.mkdir()
    shutil.copy(os.path.join(softsk.state_dir, "ca.pem"), d / "ca.pem")
    return d


@pytest.fixture
def erin(paper, softsk, tmp_path):
    """erin in the paper policy (logged in with some other key)."""
    login_pub = softsk.enroll(tmp_path / "id_login")
    paper.add_engineer("acme", "erin", util.read_pub(login_pub))
    paper.write_policy()
    return paper


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_enroll_valid_attestation(erin, softsk, bastionctl, tmp_path,
                                  key_type):
    pub, att, chal = make_attested_key(softsk, tmp_path / "k", key_type)
    roots = roots_with(tmp_path, softsk)
    r = bastionctl(erin, "enroll", "erin", "--key", pub, "--attestation",
                   att, "--challenge", chal, "--require-attestation",
                   "--roots", roots, "--aaguid", SOFTSK_AAGUID)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "attestation:  verified, chains to a trusted root" in out
    assert "aaguid:       %s" % SOFTSK_AAGUID in out
    assert "Authenticator Attestation" in out        # the subject's OU
    line = " ".join(open(pub).read().split()[:2])
    assert '- "%s erin@laptop"' % line in out
    assert "event=key.enroll" in r.stderr and "result=ok" in r.stderr
    keys = bastionctl(erin, "keys")
    assert keys.returncode == 0, keys.stderr
    assert "pending" in keys.stdout and SOFTSK_AAGUID in keys.stdout
    assert "Authenticator Attestation" in keys.stdout
    # once in the policy, the key is listed under erin with its enrolment
    erin.vendors["acme"]["engineers"][0]["keys"].append(
        "%s erin@laptop" % line)
    erin.write_policy()
    keys = bastionctl(erin, "keys", "erin")
    assert "pending" not in keys.stdout
    assert "attested: aaguid %s" % SOFTSK_AAGUID in keys.stdout


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_enroll_untrusted_root_refused(erin, softsk, bastionctl, tmp_path,
                                       key_type):
    from harness.softsk import SoftSK
    other = SoftSK(tmp_path / "other-sk", softsk.provider)
    other.enroll(tmp_path / "id_other")         # makes the other CA
    pub, att, chal = make_attested_key(softsk, tmp_path / "k", key_type)
    r = bastionctl(erin, "enroll", "erin", "--key", pub, "--attestation",
                   att, "--challenge", chal, "--require-attestation",
                   "--roots", roots_with(tmp_path, other))
    assert r.returncode == 1
    assert "not from a trusted root" in r.stderr, r.stderr
    assert "result=refused" in r.stderr
    assert "pending" not in bastionctl(erin, "keys").stdout


def test_enroll_aaguid_not_allowed(erin, softsk, bastionctl, tmp_path):
    pub, att, chal = make_attested_key(softsk, tmp_path / "k", "ed25519-sk")
    r = bastionctl(erin, "enroll", "erin", "--key", pub, "--attestation",
                   att, "--challenge", chal, "--roots",
                   roots_with(tmp_path, softsk), "--aaguid",
                   "cb69481e-8ff7-4039-93ec-0a2729a154a8")
    assert r.returncode == 1
    assert "AAGUID" in r.stderr and SOFTSK_AAGUID in r.stderr


def _strings(blob):
    """Offsets and lengths of the SSH strings of an attestation blob."""
    out, pos = [], 0
    while pos + 4 <= len(blob):
        n = struct.unpack(">I", blob[pos:pos + 4])[0]
        out.append((pos + 4, n))
        pos += 4 + n
        if len(out) == 4:           # magic, cert, sig, authdata
            break
    return out


@pytest.mark.parametrize("damage,words", [
    ("truncated", "malformed"),
    ("signature", "signature does not verify"),
    ("challenge", "signature does not verify"),
    ("other key", "another key"),
])
def test_enroll_tampered_attestation_refused(erin, softsk, bastionctl,
                                             tmp_path, damage, words):
    pub, att, chal = make_attested_key(softsk, tmp_path / "k", "ecdsa-sk")
    blob = bytearray(att.read_bytes())
    if damage == "truncated":
        att.write_bytes(bytes(blob[:len(blob) // 2]))
    elif damage == "signature":
        off, n = _strings(bytes(blob))[2]
        blob[off + n - 1] ^= 0x01           # last byte of s
        att.write_bytes(bytes(blob))
    elif damage == "challenge":
        chal.write_bytes(os.urandom(32))
    else:
        pub, _, _ = make_attested_key(softsk, tmp_path / "k2", "ecdsa-sk",
                                      name="other")
    r = bastionctl(erin, "enroll", "erin", "--key", pub, "--attestation",
                   att, "--challenge", chal, "--roots",
                   roots_with(tmp_path, softsk))
    assert r.returncode == 1
    assert words in r.stderr, r.stderr


def test_enroll_without_attestation_and_usage(erin, softsk, bastionctl,
                                              tmp_path):
    pub = softsk.enroll(tmp_path / "id_plain", type="ecdsa-sk")
    r = bastionctl(erin, "enroll", "erin", "--key", pub, "--verify-required")
    assert r.returncode == 0, r.stderr
    assert "attestation:  none" in r.stdout
    assert '- "verify-required sk-ecdsa-sha2-nistp256@openssh.com ' \
        in r.stdout
    # --require-attestation without one is a usage error
    r = bastionctl(erin, "enroll", "erin", "--key", pub,
                   "--require-attestation")
    assert r.returncode == 2 and "--require-attestation needs" in r.stderr
    # only engineers; only security keys
    r = bastionctl(erin, "enroll", "nobody", "--key", pub)
    assert r.returncode == 1 and 'no engineer "nobody"' in r.stderr
    plain = tmp_path / "id_ed"
    util.keygen(plain, "ed25519")
    r = bastionctl(erin, "enroll", "erin", "--key", str(plain) + ".pub")
    assert r.returncode == 1 and "not a FIDO security key" in r.stderr
