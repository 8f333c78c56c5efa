"""The auditor's offline proof of the web console's decisions:
`bastion-verify --audit FILE --webauthn` (recorder/lib/webverify.c).

A real approval goes through web.sock (bob's key: the software ES256
authenticator of test_web_control.py; bastiond checks it and appends
web.assertion and approval.approve to the chain), and gina's waiting ssh
session then runs. The chain must then verify with --webauthn, naming the
assertion and its decision. Then the chain is altered as someone who can
rewrite the file (but has no key of bob's) would: the signed action
changed (and its hash put in as the challenge), a byte of the signature
flipped, the decision pointed at another request. Each altered chain is
re-chained (every hash recomputed), so that `--audit` alone still says
intact, and only the WebAuthn check refuses it.
"""

import base64
import hashlib
import re
import subprocess

import pytest

from test_approvals import waiting  # gina's ssh, waiting for a decision
from test_web_control import (Authenticator, call, enrol, sign_in, token_of,
                              web)  # noqa: F401 (web: the fixture)

DOMAIN = b"bastion-audit-v1\n"
LINE = re.compile(r"seq=(\d+) prev=[0-9a-f]{64} (.*) hash=[0-9a-f]{64}")


def field_re(key):
    return re.compile(r'(?<= )%s=("(?:[^"\\]|\\.)*"|\S*)' % re.escape(key))


def get(line, key):
    m = field_re(key).search(line)
    assert m, (key, line)
    v = m.group(1)
    return v[1:-1] if v.startswith('"') else v


def put(line, key, value):
    assert field_re(key).search(line), (key, line)
    if not re.fullmatch(r'[^\s"=\\]+', value):
        value = '"%s"' % value
    return field_re(key).sub(lambda m: key + "=" + value, line, count=1)


def rechain(lines):
    """Every prev and hash recomputed (store/auditlog.h), as an attacker
    with write access to the file would."""
    out, prev = [], "0" * 64
    for line in lines:
        m = LINE.fullmatch(line)
        assert m, line
        head = "seq=%s prev=%s %s" % (m.group(1), prev, m.group(2))
        prev = hashlib.sha256(DOMAIN + head.encode()).hexdigest()
        out.append(head + " hash=" + prev)
    return out


def verify(build_dir, path, *extra):
    return subprocess.run(
        [str(build_dir / "bastion-verify"), "--audit", str(path)] +
        list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, timeout=60)


def index(lines, event, **match):
    found = [i for i, ln in enumerate(lines)
             if " event=%s " % event in ln and
             all(get(ln, k) == v for k, v in match.items())]
    assert len(found) == 1, (event, match, found)
    return found[0]


@pytest.mark.timeout(240)
def test_webauthn_proof_of_an_approval(web, build_dir, tmp_path):
    world, p = web
    bob = Authenticator()
    enrol(world, p["bob"], bob)
    a, _ = sign_in(world, "bob", bob)
    assert a.exit == 0, a.err
    tok, _, _ = token_of(a)
    proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                        "'ticket 4711'", "echo ran-$((6*7))")
    a = call(world, ["prepare", "approve", rid, "1h"], [("token", tok)])
    assert a.exit == 0, a.err
    ch, _ = a.challenge()
    a = call(world, ["commit", ch.hex()], [("token", tok),
                                           ("assert", bob.get(ch))])
    assert a.exit == 0, a.err
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out == "ran-42\n", err
    world.bastion.wait_audit(event="approval.approve", request=rid,
                             assertion=ch.hex())
    wa = world.bastion.wait_audit(event="web.assertion",
                                  challenge=ch.hex(), result="ok")
    assert wa["rp_id"] == "bastion.test"
    assert wa["origin"] == "https://bastion.test:8443"

    chain = world.bastion.state_dir / "audit.log"
    lines = chain.read_text().splitlines()
    r = verify(build_dir, chain, "--webauthn")
    assert r.returncode == 0, r.stdout + r.stderr
    iw = index(lines, "web.assertion", challenge=ch.hex(), result="ok")
    idc = index(lines, "approval.approve", assertion=ch.hex())
    assert ("webauthn ok: seq %s: bob approve %s, counter %d, challenge "
            "%s..., decision approval.approve seq %s\n" % (
                LINE.fullmatch(lines[iw]).group(1), rid, bob.counter, ch.hex()[:16],
                LINE.fullmatch(lines[idc]).group(1))) in r.stdout, r.stdout
    assert ("webauthn: 1 accepted assertion(s): 1 verify (1 with their "
            "decision); 0 failure(s); 1 enrolment(s)") in r.stdout, r.stdout

    def refused(name, altered, want):
        path = tmp_path / ("audit-%s.log" % name)
        path.write_text("\n".join(rechain(altered)) + "\n")
        # the re-chained file is intact as a chain ...
        plain = verify(build_dir, path)
        assert plain.returncode == 0, plain.stdout + plain.stderr
        # ... and only the WebAuthn proof refuses it
        r = verify(build_dir, path, "--webauthn")
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert "WEBAUTHN FAILED" in r.stderr and want in r.stderr, \
            (name, r.stderr)
        assert "1 failure(s)" in r.stdout, r.stdout

    # 1. the action changed (8 hours, not 1), its hash the new challenge
    action = base64.b64decode(get(lines[iw], "action"))
    one_h = b"\x00\x00\x00\x02" + b"1h"
    assert action.count(one_h) == 1
    forged = action.replace(one_h, b"\x00\x00\x00\x02" + b"8h")
    fch = hashlib.sha256(forged).hexdigest()
    alt = list(lines)
    alt[iw] = put(put(alt[iw], "action",
                      base64.b64encode(forged).decode()), "challenge", fch)
    alt[idc] = put(alt[idc], "assertion", fch)
    refused("action", alt, "the WebAuthn assertion does not verify")

    # 2. one byte of the signature flipped
    sig = bytearray(base64.b64decode(get(lines[iw], "sig")))
    sig[len(sig) // 2] ^= 0x01
    alt = list(lines)
    alt[iw] = put(alt[iw], "sig", base64.b64encode(bytes(sig)).decode())
    refused("sig", alt, "the WebAuthn assertion does not verify")

    # 3. the decision pointed at another request
    alt = list(lines)
    alt[idc] = put(alt[idc], "request", str(int(rid) + 1))
    refused("decision", alt, "the decision is about request %d, the key "
            "signed request %s" % (int(rid) + 1, rid))

    # 4. a decision naming an assertion that was never accepted
    alt = list(lines)
    alt[idc] = put(alt[idc], "assertion", "ab" * 32)
    refused("orphan", alt, "no accepted web.assertion before it carries")

    # --webauthn reads a file, never standard input
    r = subprocess.run([str(build_dir / "bastion-verify"), "--audit",
                        "--webauthn", "-"], input="", text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    assert r.returncode == 3 and "not standard input" in r.stderr
