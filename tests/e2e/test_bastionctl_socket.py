"""bastionctl through bastiond's local control socket (issue 6 item 3).

A local admin's `bastionctl VERB` connects to RUN_DIR/control.sock;
bastiond checks the caller with SO_PEERCRED/SO_PEERGROUPS (root, its own
user, or a member of the policy's admin_group) and runs the verb in a
control worker, with the same code as the admin console over ssh. These
tests run bastionctl as real other users (setpriv) to show who is let in.
"""
import os
import pathlib
import pwd
import shutil
import socket
import struct
import subprocess
import uuid

import pytest

from harness import util


pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to run as other users")


@pytest.fixture
def local_admin_group():
    """A throwaway group with one member user; removed afterwards."""
    tag = uuid.uuid4().hex[:6]
    group, user = "bstadm" + tag, "bstusr" + tag
    subprocess.run(["groupadd", "-r", group], check=True)
    subprocess.run(["useradd", "-r", "-M", "-N", "-g", "nogroup", "-G",
                    group, "-s", "/usr/sbin/nologin", user], check=True)
    yield group, user
    subprocess.run(["userdel", user], check=False)
    subprocess.run(["groupdel", group], check=False)


def open_world(world, group):
    """Start the bastion with a run_dir and a policy copy that other local
    users can reach, and a copy of bastionctl they can execute (the build
    tree may sit under a private home directory). Returns (ctl, policy)."""
    pub = util.short_tmpdir("bst-pub-")
    os.chmod(pub, 0o755)
    run = pub / "run"
    run.mkdir()
    os.chmod(run, 0o711)
    world.bastion.run_dir = run
    world.top["admin_group"] = group
    world.start_bastion()
    policy = pub / "policy.yaml"
    shutil.copy(world.bastion.policy_path, policy)
    os.chmod(policy, 0o644)
    ctl = pub / "bastionctl"
    shutil.copy(world.bastion.build_dir / "bastionctl", ctl)
    os.chmod(ctl, 0o755)
    return ctl, policy


def ctl_as(user, ctl, policy, *args):
    """Run bastionctl as user (None: root) with that user's groups."""
    pre = []
    if user is not None:
        pw = pwd.getpwnam(user)
        pre = ["setpriv", "--reuid", str(pw.pw_uid), "--regid",
               str(pw.pw_gid), "--init-groups", "--"]
    return subprocess.run(pre + [str(ctl), "-f", str(policy)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=30, cwd="/")


def test_root_goes_through_the_socket(cast):
    world, _ = cast
    ctl, policy = open_world(world, "root")
    sock = world.bastion.run_dir / "control.sock"
    st = os.stat(sock)
    assert oct(st.st_mode & 0o777) == "0o660"
    r = ctl_as(None, ctl, policy, "grants")
    assert r.returncode == 0, r.stderr
    ev = world.bastion.wait_audit(event="console.verb", via="bastionctl")
    assert ev["user"] == "root" and ev["verb"] == "grants"
    assert ev["status"] == "ok"


def test_member_of_admin_group_is_let_in(cast, local_admin_group):
    world, _ = cast
    group, user = local_admin_group
    ctl, policy = open_world(world, group)
    r = ctl_as(user, ctl, policy, "requests", "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("[")
    ev = world.bastion.wait_audit(event="console.verb", user=user)
    assert ev["via"] == "bastionctl" and ev["status"] == "ok"


def test_outsider_cannot_reach_the_socket(cast, local_admin_group):
    """The socket's mode (0660, group admin_group) keeps other users out
    before bastiond even looks at them."""
    world, _ = cast
    group, _ = local_admin_group
    ctl, policy = open_world(world, group)
    r = ctl_as("nobody", ctl, policy, "grants")
    assert r.returncode == 1
    assert "permission denied" in r.stderr and group in r.stderr
    assert not world.bastion.audit_events(event="console.verb",
                                          user="nobody")


def test_outsider_refused_by_peer_credentials(cast, local_admin_group):
    """Even with the socket's mode opened up by mistake, SO_PEERCRED
    refuses a caller outside the group, says why and logs it."""
    world, _ = cast
    group, _ = local_admin_group
    ctl, policy = open_world(world, group)
    os.chmod(world.bastion.run_dir / "control.sock", 0o666)
    r = ctl_as("nobody", ctl, policy, "revoke", "1")
    assert r.returncode == 1
    assert "refused" in r.stderr and "not root and not in group " + \
        group in r.stderr
    ev = world.bastion.wait_audit(event="ctl.refused", user="nobody")
    assert group in ev["reason"]
    assert not world.bastion.audit_events(event="console.verb",
                                          user="nobody")


def raw_exchange(path, payload, shut=True):
    """Send raw bytes to the control socket; return the decoded frames."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(str(path))
    try:
        s.sendall(payload)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except BrokenPipeError:
        pass        # answered and closed before reading it all: read why
    data = util.recv_all(s)
    s.close()
    frames = []
    while len(data) >= 5:
        t, n = data[0:1], struct.unpack(">I", data[1:5])[0]
        frames.append((t, data[5:5 + n]))
        data = data[5 + n:]
    assert data == b"", "a partial frame was left over"
    return frames


def request(*words):
    body = b"BCTL" + bytes([1]) + struct.pack(">I", len(words))
    for w in words:
        w = w.encode() if isinstance(w, str) else w
        body += struct.pack(">I", len(w)) + w
    return body


@pytest.mark.parametrize("payload", [
    b"",                                        # nothing at all
    b"GET / HTTP/1.0\r\n\r\n",                  # not our protocol
    b"BCTL\x02" + struct.pack(">I", 1),         # another version
    b"BCTL\x01" + struct.pack(">I", 100000),    # absurd argument count
    b"BCTL\x01" + struct.pack(">I", 1) + struct.pack(">I", 1 << 30),
    request("grants") + b"trailing",            # bytes after the request
    request(b"gra\x00nts"),                     # NUL inside a word
    b"BCTL\x01" + b"\xff" * 20000,              # over the size limit
], ids=["empty", "http", "version", "argc", "hugeword", "trailing", "nul",
        "oversized"])
def test_malformed_requests_get_a_clear_error(cast, payload):
    world, _ = cast
    world.start_bastion()
    frames = raw_exchange(world.bastion.run_dir / "control.sock", payload)
    assert frames and frames[-1][0] == b"x"
    assert frames[-1][1] in (b"\x01", b"\x02")
    text = b"".join(f[1] for f in frames if f[0] == b"e").decode()
    assert "bad request" in text or "not an admin verb" in text
    # bastiond is still serving
    frames = raw_exchange(world.bastion.run_dir / "control.sock",
                          request("grants", "--json"))
    assert frames[-1] == (b"x", b"\x00")
    out = b"".join(f[1] for f in frames if f[0] == b"o").decode()
    assert out.strip() == "[]"


def test_unknown_verb_is_refused(cast):
    world, _ = cast
    world.start_bastion()
    frames = raw_exchange(world.bastion.run_dir / "control.sock",
                          request("shell", "/bin/sh"))
    assert frames[-1] == (b"x", b"\x02")
    assert b"not an admin verb" in frames[0][1]


def test_without_bastiond_root_acts_directly(cast):
    world, _ = cast
    world.start_bastion()
    world.bastion.stop()
    assert not (world.bastion.run_dir / "control.sock").exists()
    r = subprocess.run([str(world.bastion.build_dir / "bastionctl"), "-f",
                        str(world.bastion.policy_path), "grants"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "no live grants\n"
    assert "bastiond is not running" in r.stderr


def test_workers_that_cannot_start_leave_the_listener_whole(cast):
    """After an upgrade replaced (here: removed) the bastiond binary, new
    workers cannot be started: the vendor and the local admin are told,
    the listener logs it and keeps running (libuv keeps a failed spawn's
    handle linked; closing it properly is what this exercises, under
    ASan in make check-asan), and stops cleanly."""
    world, p = cast
    copy = util.short_tmpdir("bst-bin-")
    for name in ("bastiond", "bastion-recorder"):
        shutil.copy(world.bastion.build_dir / name, copy / name)
    world.bastion.binary = copy / "bastiond"
    world.start_bastion()
    os.unlink(copy / "bastiond")
    for _ in range(3):
        r = p["alice"].ssh("ct-scanner", "echo never", timeout=30)
        assert r.returncode != 0 and "never" not in r.stdout
        frames = raw_exchange(world.bastion.run_dir / "control.sock",
                              request("grants"))
        assert frames[-1] == (b"x", b"\x01")
        assert b"could not start a worker" in frames[0][1]
    world.bastion.wait_log(r"cannot start a worker")
    world.bastion.wait_log(r"cannot start a control worker")
    assert world.bastion.running
    world.bastion.stop()
    assert world.bastion.returncode == 0
