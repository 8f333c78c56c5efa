"""End-to-end checks of the software security key (tests/softsk) with the
real OpenSSH 9.2 tools: ssh-keygen enrols and signs through it, ssh-agent
loads it with -P, sshd (inetd mode behind ProxyCommand, no port) verifies
its signatures, and libfido2 verifies its attestation.

What OpenSSH 9.2 checks, as these tests found and pin down:
  * `ssh-keygen -Y verify` checks the signature but NOT the user-presence
    or user-verification flags (it only logs them at -vvv), and its
    allowed_signers file has no no-touch-required/verify-required options.
    So flag tests read the flags out of the signature themselves...
  * ...and sshd is the OpenSSH verifier that enforces them: a signature
    without UP is refused unless no-touch-required, and one without UV is
    refused for a key marked verify-required in authorized_keys.

Run: BASTION_BUILD=$PWD/build-softsk /usr/bin/python3 -m pytest -q \
        -p no:cacheprovider tests/e2e/test_harness_softsk.py
"""

import concurrent.futures
import hashlib
import os
import pwd
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest  # noqa: E402

from harness.softsk import (SK_FLAG_UP, SK_FLAG_UV, SoftSK,  # noqa: E402
                            parse_sshsig, read_sk_private_key)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("BASTION_BUILD", os.path.join(REPO, "build"))
PROVIDER = os.path.join(BUILD, "tests", "softsk.so")
ATTEST_CHECK = os.path.join(BUILD, "tests", "fido_attest_check")
SSHD = "/usr/sbin/sshd"

KEY_TYPES = ["ed25519-sk", "ecdsa-sk"]
SIG_TYPES = {"ed25519-sk": "sk-ssh-ed25519@openssh.com",
             "ecdsa-sk": "sk-ecdsa-sha2-nistp256@openssh.com"}
DEFAULT_AAGUID = b"SoftSK-Test-Only".hex()
FLAG_AT = 0x40


@pytest.fixture
def sk(tmp_path):
    if not os.path.isfile(PROVIDER):
        pytest.fail("%s is not built: make B=%s %s"
                    % (PROVIDER, BUILD, PROVIDER))
    key = SoftSK(tmp_path / "softsk", PROVIDER)
    yield key
    key.stop_agent()


@pytest.fixture
def message(tmp_path):
    path = tmp_path / "message.txt"
    path.write_bytes(b"firmware 4.2.1 for infusion pump ward 7\n")
    return path


def allowed_signers(tmp_path, pub_path, principal="tech@vendor"):
    """An allowed_signers file holding the key of pub_path."""
    keytype, blob = open(pub_path).read().split()[:2]
    path = tmp_path / "allowed_signers"
    path.write_text("%s %s %s\n" % (principal, keytype, blob))
    return path


class Sshd:
    """sshd -i behind ssh's ProxyCommand: a real verifier, no port."""

    def __init__(self, tmp_path):
        self.dir = tmp_path / "sshd"
        self.dir.mkdir()
        self.hostkey = self.dir / "hostkey"
        self.authorized_keys = self.dir / "authorized_keys"
        self.log = self.dir / "sshd.log"
        self.config = self.dir / "sshd_config"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-f", str(self.hostkey)], check=True,
                       stdin=subprocess.DEVNULL)
        self.config.write_text(
            "HostKey %s\nAuthorizedKeysFile %s\nStrictModes no\n"
            "PidFile none\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "PermitRootLogin prohibit-password\nLogLevel DEBUG1\n"
            % (self.hostkey, self.authorized_keys))
        check = subprocess.run([SSHD, "-t", "-f", str(self.config)],
                               stderr=subprocess.PIPE, text=True)
        assert check.returncode == 0, check.stderr

    def authorize(self, pub_path, options=""):
        keytype, blob = open(pub_path).read().split()[:2]
        prefix = options + " " if options else ""
        self.authorized_keys.write_text("%s%s %s\n" % (prefix, keytype, blob))

    def login(self, sk, identity, agent_sock=None):
        """ssh in with identity and run `echo LOGIN-OK`."""
        user = pwd.getpwuid(os.getuid()).pw_name
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        if agent_sock is not None:
            env["SSH_AUTH_SOCK"] = str(agent_sock)
        return sk.run(
            ["ssh", "-F", "none", "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
             "-o", "IdentitiesOnly=yes", "-o", "IdentityFile=%s" % identity,
             "-o", "SecurityKeyProvider=%s" % sk.provider,
             "-o", "ProxyCommand=%s -i -f %s -E %s"
             % (SSHD, self.config, self.log),
             "%s@bastion-test" % user, "echo", "LOGIN-OK"], env=env)

    def log_text(self):
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def sshd(tmp_path):
    if not os.access(SSHD, os.X_OK):
        pytest.fail("%s missing: install openssh-server (make deps)" % SSHD)
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        # sshd running as root insists on its privilege-separation
        # directory; the Debian service creates it at boot.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    return Sshd(tmp_path)


def login_ok(proc):
    return proc.returncode == 0 and "LOGIN-OK" in proc.stdout


# ---- enrolment ---------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_enroll_creates_sk_key(sk, tmp_path, key_type):
    pub = sk.enroll(tmp_path / "id_sk", type=key_type)
    keytype, _blob = open(pub).read().split()[:2]
    assert keytype == SIG_TYPES[key_type]
    priv = read_sk_private_key(tmp_path / "id_sk")
    assert priv["type"] == SIG_TYPES[key_type]
    assert priv["application"] == "ssh:"
    assert priv["flags"] == 0x01            # user presence required
    assert len(priv["public"]) == (32 if key_type == "ed25519-sk" else 65)
    # the key handle is sealed, not the bare private key
    assert len(priv["key_handle"]) > 48
    assert priv["key_handle"][:3] == b"SSK"
    assert any("op=enroll" in ln and "result=ok" in ln
               for ln in sk.log_lines())
    assert os.stat(sk.state_dir).st_mode & 0o777 == 0o700


def test_enroll_verify_required_stores_uv_flag(sk, tmp_path):
    sk.enroll(tmp_path / "id_sk", verify_required=True)
    assert read_sk_private_key(tmp_path / "id_sk")["flags"] == 0x05


def test_resident_keys_are_refused(sk, tmp_path):
    proc = sk.run(["ssh-keygen", "-q", "-t", "ed25519-sk", "-w", sk.provider,
                   "-f", tmp_path / "id_rk", "-N", "", "-O", "resident"])
    assert proc.returncode != 0
    assert not (tmp_path / "id_rk").exists()


# ---- signing -----------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_sign_and_verify(sk, tmp_path, message, key_type):
    pub = sk.enroll(tmp_path / "id_sk", type=key_type)
    signers = allowed_signers(tmp_path, pub)
    sk.sign(tmp_path / "id_sk", message)

    good = sk.verify(signers, "tech@vendor", message)
    assert good.returncode == 0, good.stderr
    assert 'Good "file" signature for tech@vendor' in good.stdout + good.stderr

    sig = parse_sshsig(str(message) + ".sig")
    assert sig["sig_type"] == SIG_TYPES[key_type]
    assert sig["flags"] & SK_FLAG_UP
    assert not sig["flags"] & SK_FLAG_UV
    assert sig["counter"] == 1 == sk.counter()

    tampered = tmp_path / "tampered.txt"
    tampered.write_bytes(message.read_bytes().replace(b"4.2.1", b"4.2.2"))
    bad = sk.verify(signers, "tech@vendor", tampered,
                    sig_path=str(message) + ".sig")
    assert bad.returncode != 0
    assert "Good" not in bad.stdout + bad.stderr

    wrong_ns = sk.verify(signers, "tech@vendor", message, namespace="email")
    assert wrong_ns.returncode != 0


def test_counter_increments_and_persists(sk, tmp_path, message):
    sk.enroll(tmp_path / "id_sk")
    assert sk.counter() == 0
    seen = []
    for _ in range(3):   # three ssh-keygen processes, three helpers
        sk.sign(tmp_path / "id_sk", message)
        seen.append(parse_sshsig(str(message) + ".sig")["counter"])
    assert seen == [1, 2, 3]
    assert sk.counter() == 3
    assert (tmp_path / "softsk" / "counter").read_text() == "3\n"

    # a cloned key: its counter lags behind what the verifier last saw
    sk.set_counter(1)
    sk.sign(tmp_path / "id_sk", message)
    assert parse_sshsig(str(message) + ".sig")["counter"] == 2
    assert sk.counter() == 2


def test_parallel_signers_never_share_a_counter(sk, tmp_path):
    sk.enroll(tmp_path / "id_sk")
    msgs = []
    for i in range(8):
        m = tmp_path / ("m%d" % i)
        m.write_text("message %d\n" % i)
        msgs.append(m)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda m: sk.sign(tmp_path / "id_sk", m), msgs))
    counters = sorted(parse_sshsig(str(m) + ".sig")["counter"] for m in msgs)
    assert counters == list(range(1, 9))
    assert sk.counter() == 8


def test_no_touch_clears_user_presence(sk, tmp_path, message):
    pub = sk.enroll(tmp_path / "id_sk")
    signers = allowed_signers(tmp_path, pub)
    sk.set_touch(False)
    sk.sign(tmp_path / "id_sk", message)
    sig = parse_sshsig(str(message) + ".sig")
    assert not sig["flags"] & SK_FLAG_UP

    # OpenSSH 9.2's `ssh-keygen -Y verify` does not enforce the touch: it
    # accepts the signature and only reports flags 0x00 at -vvv.  Whoever
    # verifies sk signatures with it must check the flags separately.
    proc = sk.verify(signers, "tech@vendor", message, verbose=True)
    assert proc.returncode == 0, proc.stderr
    assert "signature details: counter = 1, flags = 0x00" in proc.stderr

    sk.set_touch(True)
    sk.sign(tmp_path / "id_sk", message)
    assert parse_sshsig(str(message) + ".sig")["flags"] & SK_FLAG_UP


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_sshd_refuses_signature_without_touch(sk, sshd, tmp_path, key_type):
    pub = sk.enroll(tmp_path / "id_sk", type=key_type)
    sshd.authorize(pub)
    first = sshd.login(sk, tmp_path / "id_sk")
    assert login_ok(first), first.stderr

    sk.set_touch(False)
    refused = sshd.login(sk, tmp_path / "id_sk")
    assert not login_ok(refused)
    assert "Permission denied" in refused.stderr
    assert ("user presence (authenticator touch) requirement not met"
            in sshd.log_text())

    # the key's owner may waive the touch: then the same signature passes
    sshd.authorize(pub, "no-touch-required")
    assert login_ok(sshd.login(sk, tmp_path / "id_sk"))


def test_verify_required_needs_uv(sk, sshd, tmp_path, message):
    pub = sk.enroll(tmp_path / "id_sk", verify_required=True)
    sshd.authorize(pub, "verify-required")

    # no "uv": the key signs anyway, without the UV bit, and sshd refuses
    sk.sign(tmp_path / "id_sk", message)
    assert not parse_sshsig(str(message) + ".sig")["flags"] & SK_FLAG_UV
    refused = sshd.login(sk, tmp_path / "id_sk")
    assert not login_ok(refused)
    assert "user verification requirement not met" in sshd.log_text()

    sk.set_uv(True)
    sk.sign(tmp_path / "id_sk", message)
    assert parse_sshsig(str(message) + ".sig")["flags"] == \
        SK_FLAG_UP | SK_FLAG_UV
    accepted = sshd.login(sk, tmp_path / "id_sk")
    assert login_ok(accepted), accepted.stderr


def test_fail_switch_unplugs_the_key(sk, tmp_path, message):
    sk.enroll(tmp_path / "id_sk")
    sk.sign(tmp_path / "id_sk", message)
    assert sk.counter() == 1

    sk.set_fail(True)
    proc = sk.sign(tmp_path / "id_sk", message, check=False)
    assert proc.returncode != 0
    assert "device not found" in proc.stderr
    assert not os.path.exists(str(message) + ".sig")
    assert sk.counter() == 1          # a failed signature moves nothing
    enroll = sk.run(["ssh-keygen", "-q", "-t", "ed25519-sk", "-w",
                     sk.provider, "-f", tmp_path / "id_other", "-N", ""])
    assert enroll.returncode != 0
    assert any("result=device-not-found" in ln for ln in sk.log_lines())

    sk.set_fail(False)
    sk.sign(tmp_path / "id_sk", message)
    assert sk.counter() == 2


def test_key_handle_only_opens_on_its_own_key(sk, tmp_path, message):
    sk.enroll(tmp_path / "id_sk")
    other = SoftSK(tmp_path / "other-key", PROVIDER)
    other.enroll(tmp_path / "id_other")   # gives "other" its own secret
    proc = other.sign(tmp_path / "id_sk", message, check=False)
    assert proc.returncode != 0
    assert "device not found" in proc.stderr
    assert other.counter() == 0


def test_debug_goes_to_stderr_only(sk, tmp_path, message):
    sk.enroll(tmp_path / "id_sk")
    sk.set_fail(True)
    proc = sk.run(["ssh-keygen", "-Y", "sign", "-n", "file", "-f",
                   tmp_path / "id_sk", message],
                  env=dict(os.environ, SOFTSK_DEBUG="1"))
    assert proc.returncode != 0
    assert 'softsk: "fail" switch set' in proc.stderr
    # with debug on, a working signature still gets through ssh-sk-helper,
    # whose stdout is the protocol pipe
    sk.set_fail(False)
    proc = sk.run(["ssh-keygen", "-Y", "sign", "-n", "file", "-f",
                   tmp_path / "id_sk", message],
                  env=dict(os.environ, SOFTSK_DEBUG="1"))
    assert proc.returncode == 0, proc.stderr
    assert parse_sshsig(str(message) + ".sig")["counter"] == 1


# ---- through a running ssh-agent ---------------------------------------


def test_agent_signs_and_sees_switches_flip(sk, sshd, tmp_path, message):
    pub = sk.enroll(tmp_path / "id_sk")
    signers = allowed_signers(tmp_path, pub)
    sock, pid = sk.start_agent(tmp_path / "agent")
    assert pid > 0
    sk.ssh_add(tmp_path / "id_sk", sock)
    listed = sk.run(["ssh-add", "-l"], env=dict(os.environ,
                                                SSH_AUTH_SOCK=sock))
    assert "(ED25519-SK)" in listed.stdout

    sk.sign(pub, message, agent_sock=sock)
    assert sk.verify(signers, "tech@vendor", message).returncode == 0
    assert parse_sshsig(str(message) + ".sig")["flags"] & SK_FLAG_UP
    sshd.authorize(pub)
    assert login_ok(sshd.login(sk, pub, agent_sock=sock))

    # the agent keeps running; the key now goes untouched
    sk.set_touch(False)
    sk.sign(pub, message, agent_sock=sock)
    assert not parse_sshsig(str(message) + ".sig")["flags"] & SK_FLAG_UP
    refused = sshd.login(sk, pub, agent_sock=sock)
    assert not login_ok(refused)
    assert ("user presence (authenticator touch) requirement not met"
            in sshd.log_text())

    sk.set_touch(True)
    sk.set_fail(True)
    unplugged = sk.sign(pub, message, agent_sock=sock, check=False)
    assert unplugged.returncode != 0
    assert "agent refused operation" in unplugged.stderr

    sk.set_fail(False)
    assert login_ok(sshd.login(sk, pub, agent_sock=sock))
    sk.stop_agent(pid)
    assert not os.path.exists(sock)


def test_agent_refuses_provider_outside_its_allowlist(sk, tmp_path):
    copy = tmp_path / "elsewhere" / "softsk.so"
    copy.parent.mkdir()
    shutil.copy(PROVIDER, copy)
    sk.enroll(tmp_path / "id_sk")
    sock, _pid = sk.start_agent(tmp_path / "agent")
    proc = sk.run(["ssh-add", "-S", copy, tmp_path / "id_sk"],
                  env=dict(os.environ, SSH_AUTH_SOCK=sock))
    assert proc.returncode != 0


# ---- attestation -------------------------------------------------------


def split_attestation(blob):
    """The ssh-sk-attest-v01 fields: cert, signature, CBOR authdata."""
    fields, pos = [], 0
    for _ in range(4):
        (n,) = struct.unpack(">I", blob[pos:pos + 4])
        fields.append(blob[pos + 4:pos + 4 + n])
        pos += 4 + n
    assert blob[pos:pos + 4] == b"\0\0\0\0"          # reserved flags
    assert blob[pos + 4:] == b"\0\0\0\0"             # reserved string
    magic, cert, sig, authdata = fields
    assert magic == b"ssh-sk-attest-v01"
    return cert, sig, authdata


def cbor_bytes_payload(item):
    """The payload of a definite-length CBOR byte string."""
    head, info = item[0] >> 5, item[0] & 0x1f
    assert head == 2, "authdata is not a CBOR byte string"
    if info < 24:
        n, off = info, 1
    elif info == 24:
        n, off = item[1], 2
    elif info == 25:
        n, off = struct.unpack(">H", item[1:3])[0], 3
    else:
        raise AssertionError("unexpected CBOR length form %d" % info)
    assert len(item) == off + n
    return item[off:]


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + [str(a) for a in args], input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_attestation_is_packed_and_verifies(sk, tmp_path, key_type):
    challenge = tmp_path / "challenge"
    challenge.write_bytes(os.urandom(32))
    att = tmp_path / "id_sk.att"
    sk.enroll(tmp_path / "id_sk", type=key_type, attestation_path=att,
              challenge_path=challenge)
    blob = att.read_bytes()
    assert blob[:21] == b"\0\0\0\x11ssh-sk-attest-v01"
    cert, sig, authdata_cbor = split_attestation(blob)
    raw = cbor_bytes_payload(authdata_cbor)
    priv = read_sk_private_key(tmp_path / "id_sk")

    # authenticator data with the attested credential
    assert raw[:32] == hashlib.sha256(b"ssh:").digest()
    assert raw[32] == SK_FLAG_UP | FLAG_AT
    assert raw[37:53] == b"SoftSK-Test-Only"
    (cred_len,) = struct.unpack(">H", raw[53:55])
    assert raw[55:55 + cred_len] == priv["key_handle"]
    cose = raw[55 + cred_len:]
    if key_type == "ed25519-sk":
        assert cose == (bytes([0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06,
                               0x21, 0x58, 0x20]) + priv["public"])
    else:
        assert cose == (bytes([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01,
                               0x21, 0x58, 0x20]) + priv["public"][1:33]
                        + bytes([0x22, 0x58, 0x20]) + priv["public"][33:])

    # the certificate chains to the state directory's test CA ...
    (tmp_path / "att.der").write_bytes(cert)
    pem = openssl("x509", "-inform", "DER", "-in", tmp_path / "att.der")
    assert pem.returncode == 0
    (tmp_path / "att.pem").write_bytes(pem.stdout)
    chain = openssl("verify", "-CAfile", tmp_path / "softsk" / "ca.pem",
                    tmp_path / "att.pem")
    assert chain.returncode == 0, chain.stderr
    text = openssl("x509", "-noout", "-text", "-in",
                   tmp_path / "att.pem").stdout.decode()
    assert "OU = Authenticator Attestation" in text
    assert "1.3.6.1.4.1.45724.1.1.4" in text
    assert "CA:FALSE" in text

    # ... and its key signed authData || SHA256(challenge) ("packed")
    pub = openssl("x509", "-noout", "-pubkey", "-in", tmp_path / "att.pem")
    (tmp_path / "att.pub").write_bytes(pub.stdout)
    (tmp_path / "att.sig").write_bytes(sig)
    signed = raw + hashlib.sha256(challenge.read_bytes()).digest()
    ok = openssl("dgst", "-sha256", "-verify", tmp_path / "att.pub",
                 "-signature", tmp_path / "att.sig", data=signed)
    assert ok.returncode == 0, ok.stderr
    forged = openssl("dgst", "-sha256", "-verify", tmp_path / "att.pub",
                     "-signature", tmp_path / "att.sig",
                     data=raw + hashlib.sha256(b"other").digest())
    assert forged.returncode != 0


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_attestation_verifies_with_libfido2(sk, tmp_path, key_type):
    if not os.access(ATTEST_CHECK, os.X_OK):
        pytest.skip("%s not built (make B=%s %s)"
                    % (ATTEST_CHECK, BUILD, ATTEST_CHECK))
    challenge = tmp_path / "challenge"
    challenge.write_bytes(os.urandom(32))
    att = tmp_path / "id_sk.att"
    pub = sk.enroll(tmp_path / "id_sk", type=key_type, attestation_path=att,
                    challenge_path=challenge, application="ssh:bastion")
    ok = subprocess.run([ATTEST_CHECK, att, pub, challenge],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    assert "fmt=packed\n" in ok.stdout
    assert "aaguid=%s\n" % DEFAULT_AAGUID in ok.stdout
    assert "flags=0x41\n" in ok.stdout

    other = tmp_path / "other-challenge"
    other.write_bytes(os.urandom(32))
    bad = subprocess.run([ATTEST_CHECK, att, pub, other],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert bad.returncode != 0
    assert "FIDO_ERR_INVALID_SIG" in bad.stderr
    wrong_rp = subprocess.run([ATTEST_CHECK, att, pub, challenge, "ssh:"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wrong_rp.returncode != 0

    # a changed "aaguid" file shows up in the next enrolment
    sk.set_aaguid("00112233445566778899aabbccddeeff")
    pub2 = sk.enroll(tmp_path / "id_sk2", type=key_type,
                     attestation_path=tmp_path / "id_sk2.att",
                     challenge_path=challenge)
    ok2 = subprocess.run([ATTEST_CHECK, tmp_path / "id_sk2.att", pub2,
                          challenge], stdout=subprocess.PIPE, text=True)
    assert ok2.returncode == 0
    assert "aaguid=00112233445566778899aabbccddeeff\n" in ok2.stdout
