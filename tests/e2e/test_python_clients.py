"""Automation clients (issue 15, item 3): Debian's python3-paramiko (2.12)
and python3-asyncssh (2.10) against the real bastion, through
tests/e2e/clients/pyclient.py: exec, exec on a pty, and sftp (upload,
read back, list, remove) to a real device sshd.

The login is the bastion's two factors, as for OpenSSH: a registered key
(publickey) and then the PAM secret (keyboard-interactive). What each
library can do with the key is written up in docs/CLIENTS.md:

- a vendor that allows ordinary keys (`allow_non_sk_keys: true`): both
  libraries log in with a plain ed25519 key file and the secret; the
  touch check is skipped for such keys (touch.c), so no agent is needed;
- a security key (sk-ssh-ed25519) held by the engineer's ssh-agent: both
  libraries sign through the agent, and with agent forwarding on the
  session channel the bastion's touch request reaches the key.

paramiko 2.12 offers only CTR and CBC ciphers: it gets in because the
bastion offers aes256-ctr/aes128-ctr (with encrypt-then-MAC MACs only),
and the negotiated cipher and MAC are checked here.
"""

import hashlib
import json
import os
import pathlib
import subprocess

import pytest

from harness.client import Person

HERE = pathlib.Path(__file__).resolve().parent
PYCLIENT = HERE / "clients" / "pyclient.py"
PYTHON = "/usr/bin/python3"       # Debian's, where the packages are

LIBS = ("paramiko", "asyncssh")


def _have(lib):
    r = subprocess.run([PYTHON, "-c", "import " + lib],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def _need(lib):
    if not _have(lib):
        pytest.fail("python3-%s is not installed: run `make deps` "
                    "(scripts/deps.sh installs it)" % lib)


@pytest.fixture
def pysite(cast):
    """The standard cast, plus vendor tokyo that allows ordinary keys, its
    device mri, and its engineer taro with a plain ed25519 key."""
    world, p = cast
    softsk = p["alice"].softsk
    world.add_vendor("tokyo", segment=3, allow_non_sk_keys=True)
    world.add_device("tokyo", "mri", host=10)
    taro = Person(world, softsk, "taro", "s3cret-taro", key_type="ed25519",
                  agent=False)
    world.add_engineer("tokyo", "taro", taro.public_key(),
                       secret="s3cret-taro")
    p["taro"] = taro
    world.start_bastion()
    return world, p


def pyclient(world, person, lib, mode, command="", key=True, secret=None,
             forward_agent=False, data=None, timeout=90):
    """Run pyclient.py; its JSON answer (and the process)."""
    b = world.bastion
    argv = [PYTHON, str(PYCLIENT), lib, mode, "--host", b.addr,
            "--port", str(b.port), "--hostkey", " ".join(
                b.host_key_pub.split()[:2]),
            "--user", person.name + "+" + person_device(person),
            "--secret", secret or person.secret, "--timeout", "60"]
    if key:
        argv += ["--key", str(person.key)]
    else:
        argv += ["--agent-key", person.public_key()]
    if forward_agent:
        argv.append("--forward-agent")
    if command:
        argv += ["--command", command]
    if data is not None:
        argv += ["--data", str(data)]
    env = person.env(agent=not key or forward_agent)
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, timeout=timeout,
                       start_new_session=True)
    try:
        doc = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("pyclient said nothing useful: %r %r"
                             % (r.stdout, r.stderr))
    doc["_rc"] = r.returncode
    return doc


def person_device(person):
    return "mri" if person.name == "taro" else "ct-scanner"


def check_crypto(doc):
    # what the bastion offers, nothing weaker (bastiond.h)
    assert doc["cipher"] in ("aes256-ctr", "aes128-ctr",
                             "aes256-gcm@openssh.com",
                             "aes128-gcm@openssh.com",
                             "chacha20-poly1305@openssh.com"), doc
    if doc["cipher"].endswith("-ctr"):
        assert doc["mac"] in ("hmac-sha2-256-etm@openssh.com",
                              "hmac-sha2-512-etm@openssh.com"), doc


@pytest.mark.parametrize("lib", LIBS)
def test_plain_key_exec_pty_sftp(pysite, tmp_path, lib):
    """A vendor that allows ordinary keys: key file + PAM secret; exec
    (output, stderr, exit status), a pty, and an sftp round trip."""
    _need(lib)
    world, p = pysite
    taro = p["taro"]

    r = pyclient(world, taro, lib, "exec",
                 "echo out-$((6*7)); echo err-1 >&2; exit 3")
    assert r["ok"], r
    assert r["stdout"] == "out-42\n" and r["stderr"] == "err-1\n", r
    assert r["status"] == 3, r
    check_crypto(r)
    if lib == "paramiko":
        # paramiko 2.12 has neither chacha20 nor GCM: CTR + EtM it is
        assert r["cipher"] in ("aes128-ctr", "aes256-ctr"), r
        assert r["mac"].endswith("-etm@openssh.com"), r

    t = pyclient(world, taro, lib, "pty", "tty; echo on-a-pty")
    assert t["ok"] and t["status"] == 0, t
    assert "/dev/pts/" in t["stdout"] and "on-a-pty" in t["stdout"], t

    data = tmp_path / "payload.bin"
    blob = os.urandom(300 * 1024 + 17)
    data.write_bytes(blob)
    s = pyclient(world, taro, lib, "sftp", data=data)
    assert s["ok"], s
    assert s["sha256"] == hashlib.sha256(blob).hexdigest(), s
    assert s["size"] == len(blob) and s["listed"], s

    # the bastion saw and recorded each of them (the last one's end may be
    # logged just after the client has gone: waited for)
    world.bastion.wait_audit(event="session.end", user="taro", after=2)
    ends = world.bastion.audit_events(event="session.end", user="taro")
    assert len(ends) >= 3, ends


@pytest.mark.parametrize("lib", LIBS)
def test_wrong_secret_is_refused(pysite, lib):
    """The second factor is really asked: a wrong secret gets nowhere."""
    _need(lib)
    world, p = pysite
    r = pyclient(world, p["taro"], lib, "exec", "echo no", secret="wrong")
    assert not r["ok"] and r["_rc"] != 0, r
    assert "no" not in (r["stdout"] or ""), r


@pytest.mark.parametrize("lib", LIBS)
def test_security_key_through_the_agent(pysite, lib):
    """alice's sk-ssh-ed25519 key lives in her ssh-agent (the softsk
    provider plays the authenticator): the library asks the agent to sign
    the login, answers the secret, and forwards the agent so the bastion's
    touch request reaches the key."""
    _need(lib)
    world, p = pysite
    alice = p["alice"]
    r = pyclient(world, alice, lib, "exec", "echo sk-ok", key=False,
                 forward_agent=True)
    assert r["ok"], r
    assert r["stdout"] == "sk-ok\n" and r["status"] == 0, r
    check_crypto(r)
    ev = world.bastion.wait_audit(event="touch.ok", user="alice")
    assert ev


@pytest.mark.parametrize("lib", LIBS)
def test_security_key_without_agent_forwarding_is_told_why(pysite, lib):
    """Without agent forwarding the touch cannot be asked: refused."""
    _need(lib)
    world, p = pysite
    r = pyclient(world, p["alice"], lib, "exec", "echo never", key=False)
    assert r["stdout"] != "never\n", r
    world.bastion.wait_audit(event="touch.no_agent", user="alice")
