"""The session broker end to end: real ssh -> real bastiond -> real sshd.

Each test builds a small site (harness World: acme/ct-scanner on
127.0.1.10, globex/pacs on 127.0.2.10, real sshd devices), enrols software
security keys for its people, and drives the real OpenSSH client.
"""

import hashlib
import os
import re
import socket
import subprocess
import time

import pytest

from harness import util
from harness.client import Person, resize

DENIED = "Permission denied"


# --- sessions ---------------------------------------------------------------

def test_exec_exit_status_and_streams(site):
    world, p = site
    r = p["alice"].ssh("ct-scanner", "echo out; echo err >&2; exit 3")
    assert r.returncode == 3, r.stderr
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr
    ev = world.bastion.wait_audit(event="device.connect", user="alice",
                                  result="ok")
    assert ev["device"] == "ct-scanner" and ev["to"] == "127.0.1.10"
    end = world.bastion.wait_audit(event="session.end", user="alice")
    assert int(end["bytes_out"]) >= 4


def test_exit_signal_like_openssh(site):
    world, p = site
    direct = world.devices["ct-scanner"].ssh_direct("kill -TERM $$")
    r = p["alice"].ssh("ct-scanner", "kill -TERM $$")
    assert r.returncode == direct.returncode != 0


def test_user_plus_device_exec(site):
    world, p = site
    r = p["alice"].ssh("hostname; echo $((6*7))", login="alice+ct-scanner")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "42"


def test_stdin_pipe_and_eof(site):
    world, p = site
    data = os.urandom(100000)
    r = p["alice"].ssh("ct-scanner", "sha256sum", input=data, binary=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_20mib_each_way_intact(site, tmp_path):
    world, p = site
    data = os.urandom(20 * 1024 * 1024)
    up = p["alice"].ssh("ct-scanner", "sha256sum", input=data, binary=True,
                        timeout=120)
    assert up.returncode == 0, up.stderr
    assert up.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    down = p["alice"].ssh(
        "ct-scanner", "head -c 20971520 /dev/urandom > %s/blob; "
        "sha256sum < %s/blob >&2; cat %s/blob" % ((tmp_path,) * 3),
        binary=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert len(down.stdout) == 20 * 1024 * 1024
    assert hashlib.sha256(down.stdout).hexdigest() in down.stderr.decode()


def test_interactive_shell_banner_and_resize(site):
    world, p = site
    child = p["alice"].spawn("ct-scanner", rows=24, cols=80)
    child.expect(r"session (\d+): ct-scanner — CT scanner, radiology room 2 "
                 r"\(127\.0\.1\.10\)")
    child.sendline("stty size; echo marker-$((1+1))")
    child.expect("24 80")
    child.expect("marker-2")
    resize(child, 40, 100)
    child.sendline("exit 5")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 5


def pexpect_eof():
    import pexpect
    return pexpect.EOF


def test_menu_lists_only_own_devices(site):
    world, p = site
    child = p["alice"].spawn()
    child.expect("Choose a device")
    menu = child.before
    assert "ct-scanner" in menu and "pacs" not in menu
    child.sendline("1")
    child.expect("session \\d+: ct-scanner")
    child.sendline("echo in-$((2+3))")
    child.expect("in-5")
    child.sendline("exit")
    child.expect(pexpect_eof())


def test_no_device_without_terminal_explains(site):
    world, p = site
    r = p["alice"].ssh()
    assert r.returncode != 0
    assert "name a device" in r.stderr and "ct-scanner" in r.stderr


def test_sftp_through_user_plus_device(site, tmp_path):
    world, p = site
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(300000))
    back = tmp_path / "down.bin"
    r = p["alice"].sftp("put %s %s/remote.bin\nget %s/remote.bin %s\nbye\n"
                        % (src, tmp_path, tmp_path, back), "ct-scanner")
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == src.read_bytes()


# --- authentication -----------------------------------------------------------

def test_wrong_secret_refused(site):
    world, p = site
    p["alice"].set_secret("not-the-secret")
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 255 and DENIED in r.stderr
    assert world.bastion.audit_events(event="auth.result", user="alice",
                                      result="denied")
    assert not world.bastion.audit_events(event="device.connect")


def test_unregistered_key_refused_same_message(site, softsk):
    world, p = site
    other = Person(world, softsk, "alice-other-key", p["alice"].secret,
                   dir=world.dir / "people" / "alice2")
    r = other.ssh("ct-scanner", "true", login="alice")
    assert r.returncode == 255 and DENIED in r.stderr
    ev = world.bastion.wait_audit(event="auth.result", user="alice",
                                  result="denied")
    assert "not registered" in ev["reason"]


def test_key_alone_refused(site):
    world, p = site
    r = p["alice"].ssh("ct-scanner", "true", extra={
        "PreferredAuthentications": "publickey"})
    assert r.returncode == 255 and DENIED in r.stderr


def test_secret_alone_refused(site):
    world, p = site
    r = p["alice"].ssh("ct-scanner", "true", extra={
        "PreferredAuthentications": "keyboard-interactive"})
    assert r.returncode == 255 and DENIED in r.stderr


def test_non_sk_key_refused_where_sk_required(cast, softsk):
    world, p = cast
    # a vendor that allows plain keys: a plain ed25519 key works
    plain = Person(world, softsk, "dave", "s3cret-dave", key_type="ed25519")
    world.add_vendor("initech", segment=3, allow_non_sk_keys=True)
    world.add_device("initech", "analyzer", host=10)
    world.add_engineer("initech", "dave", plain.public_key(),
                       secret="s3cret-dave")
    world.start_bastion()
    ok = plain.ssh("analyzer", "echo plain-ok")
    assert ok.returncode == 0 and "plain-ok" in ok.stdout, ok.stderr
    # acme requires security keys: alice with a plain key (and the right
    # secret) is refused; the loader refuses registering one for her
    # (policies/broken), so at login it is an unregistered key.
    alice_plain = Person(world, softsk, "alice", p["alice"].secret,
                         key_type="ed25519", dir=world.dir / "alice-plain")
    r = alice_plain.ssh("ct-scanner", "true")
    assert r.returncode == 255 and DENIED in r.stderr
    assert p["alice"].ssh("ct-scanner", "true").returncode == 0


@pytest.mark.parametrize("change,reason", [
    ({"enabled": False}, "disabled"),
    ({"valid_until": "2020-01-31"}, "expired"),
])
def test_disabled_and_expired_refused(cast, change, reason):
    world, p = cast
    pol = world.policy()
    for v in pol["vendors"]:
        for e in v["engineers"]:
            if e["name"] == "alice":
                e.update(change)
    world.start_bastion(pol)
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 255 and DENIED in r.stderr
    ev = world.bastion.wait_audit(event="auth.result", user="alice",
                                  result="denied")
    assert reason in ev["reason"]
    # gina is unaffected
    assert p["gina"].ssh("pacs", "true").returncode == 0


def test_source_network_enforced(cast):
    world, p = cast
    pol = world.policy()
    for v in pol["vendors"]:
        if v["name"] == "acme":
            v["sources"] = ["127.0.0.5/32"]
    world.start_bastion(pol)
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 255 and DENIED in r.stderr
    ev = world.bastion.wait_audit(event="auth.result", user="alice",
                                  result="denied")
    assert "source" in ev["reason"]
    ok = p["alice"].ssh("ct-scanner", "echo from-5",
                        extra={"BindAddress": "127.0.0.5"})
    assert ok.returncode == 0 and "from-5" in ok.stdout, ok.stderr


# --- own segment only ---------------------------------------------------------

def test_other_vendors_device_refused(site):
    world, p = site
    r = p["gina"].ssh("ct-scanner", "true")
    assert r.returncode != 0
    assert "may not reach" in r.stderr and "pacs" in r.stderr
    assert "ct-scanner" not in r.stderr.split("Your devices:")[1]
    assert world.bastion.audit_events(event="device.refused", user="gina")
    r = p["gina"].ssh("true", login="gina+ct-scanner")
    assert r.returncode != 0 and "may not reach" in r.stderr


def test_forward_to_listed_port_carries_data(cast):
    world, p = cast
    # a forward-only connection (-N) carries no session to ask the agent
    # for a touch (see test_touch.py); this test is about segments
    world.vendors["acme"]["touch"] = "off"
    dev = world.devices["ct-scanner"]
    web = dev.serve_http(body="CT service page")
    world.device_entries["ct-scanner"]["forward_ports"] = [web.port]
    world.start_bastion()
    fwd, lport = p["alice"].forward("ct-scanner", web.port)
    try:
        assert "CT service page" in util.http_get(lport).decode()
        ev = world.bastion.wait_audit(event="forward.open", result="ok")
        assert ev["to"] == "127.0.1.10:%d" % web.port
    finally:
        fwd.terminate()
        try:
            fwd.wait(10)
        except subprocess.TimeoutExpired:   # teardown only: never hang
            fwd.kill()
            fwd.wait(10)


@pytest.mark.parametrize("dest", [
    "ct-scanner:22",            # not listed
    "ct-scanner:9999",          # not listed
    "pacs:PORT",                # another vendor
    "127.0.2.10:PORT",          # another segment
    "127.0.0.1:PORT",           # the bastion itself
    "127.1.10:PORT",            # shorthand (inet_aton: 127.1.0.10)
    "127.1:PORT",               # shorthand
    "2130706698:PORT",          # decimal 127.0.1.10
    "0x7f00010a:PORT",          # hex 127.0.1.10
    "[::ffff:127.0.1.10]:PORT", # v4-mapped 127.0.1.10
    "127.000.001.010:PORT",     # leading zeros
    "localhost:PORT",           # DNS
])
def test_forward_refusals(cast, dest):
    world, p = cast
    world.vendors["acme"]["touch"] = "off"     # -W: no session, see above
    dev = world.devices["ct-scanner"]
    web = dev.serve_http(body="CT service page")
    world.device_entries["ct-scanner"]["forward_ports"] = [web.port]
    world.start_bastion()
    dest = dest.replace("PORT", str(web.port))
    r = p["alice"].ssh(options=["-W", dest], login="alice+ct-scanner",
                       input="GET / HTTP/1.0\r\n\r\n")
    assert r.returncode != 0
    assert "CT service page" not in r.stdout
    assert "refused" in r.stderr or "prohibited" in r.stderr or \
        "open failed" in r.stderr
    # the worker's events reach the log through the listener: wait
    world.bastion.wait_audit(event="forward.refused")
    # the spelling the policy uses works
    ok = p["alice"].ssh(options=["-W", "ct-scanner:%d" % web.port],
                        login="alice+ct-scanner",
                        input="GET / HTTP/1.0\r\n\r\n")
    assert "CT service page" in ok.stdout, ok.stderr


def test_remote_forward_refused(site):
    world, p = site
    r = p["alice"].ssh("sleep 5", options=["-R", "18022:127.0.0.1:22",
                       "-o", "ExitOnForwardFailure=yes"],
                       login="alice+ct-scanner", timeout=30)
    assert r.returncode != 0
    assert "forwarding failed" in r.stderr or "not allowed" in r.stderr


# --- device connection --------------------------------------------------------

def test_pinned_host_key_mismatch_refused(cast, tmp_path):
    world, p = cast
    other = tmp_path / "otherkey"
    util.keygen(other, "ed25519")
    world.device_entries["ct-scanner"]["host_key"] = " ".join(
        (tmp_path / "otherkey.pub").read_text().split()[:2])
    world.start_bastion()
    r = p["alice"].ssh("ct-scanner", "echo should-not-run")
    assert r.returncode != 0
    assert "should-not-run" not in r.stdout
    assert "does not match the key pinned" in r.stderr
    ev = world.bastion.wait_audit(event="device.connect", result="fail")
    assert "does not match" in ev["reason"]


def test_device_down_clear_message(site):
    world, p = site
    world.devices["ct-scanner"].stop()
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode != 0
    assert "cannot reach ct-scanner at 127.0.1.10" in r.stderr


# --- scale and memory ---------------------------------------------------------

def test_50_concurrent_sessions(cast):
    world, p = cast
    world.limits["max_unauthenticated"] = 100
    world.start_bastion()
    procs = [p["alice" if i % 2 else "gina"].popen(
        "ct-scanner" if i % 2 else "pacs", "echo n=%d; exit %d" % (i, i % 7),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(50)]
    for i, pr in enumerate(procs):
        out, err = pr.communicate(timeout=120)
        assert pr.returncode == i % 7, err
        assert out.decode() == "n=%d\n" % i


def test_paused_reader_keeps_worker_small(site):
    world, p = site
    pr = p["alice"].popen("ct-scanner", "head -c 1073741824 /dev/zero",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        util.wait_until(lambda: util.worker_pids(world.bastion), 20,
                        what="a worker")
        pr.stdout.read(65536)   # the session is flowing...
        # ...and now nobody reads: wait until the device's writer is held
        # up (a worker that buffered without bound would keep it going
        # until the gigabyte is through)
        util.wait_blocked_writing(
            world.devices["ct-scanner"].session_pid("head "))
        peak = max(util.rss_kib(pid)
                   for pid in util.worker_pids(world.bastion))
        assert peak > 0
        # ASan's shadow memory and quarantine inflate RSS; the bound is
        # for the real build
        limit = 96 if util.sanitized() else 32
        assert peak < limit * 1024, "worker RSS %d KiB" % peak
    finally:
        pr.kill()
        pr.wait(10)


# --- the server itself ---------------------------------------------------------

def test_ssh_audit_clean(site):
    world, p = site
    r = subprocess.run(["ssh-audit", "-n", "-p", str(world.bastion.port),
                        world.bastion.addr], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    out = r.stdout
    assert "(kex) curve25519-sha256" in out, out
    assert "SSH-2.0-bastion" in out      # no library version to match CVEs
    # Debian 12's ssh-audit (2.5.0) predates strict key exchange, the
    # Terrapin fix, and calls it an unknown algorithm. That one line is the
    # tool's gap, not a weakness: drop it, and everything else must be clean.
    lines = [l for l in out.splitlines()
             if "kex-strict-s-v00@openssh.com" not in l]
    text = "\n".join(lines)
    assert "[fail]" not in text and "[warn]" not in text, out
    assert "(cve)" not in text, out
    # (its exit code counts the unknown algorithm too, so it is not used)


def test_login_grace_closes_silent_connection(cast):
    world, p = cast
    world.limits["login_grace"] = 2
    world.start_bastion()
    s = socket.create_connection((world.bastion.addr, world.bastion.port),
                                 timeout=10)
    s.settimeout(10)
    t0 = time.monotonic()
    data = util.recv_all(s)
    assert data.startswith(b"SSH-2.0-")
    assert 1.5 < time.monotonic() - t0 < 8


def test_failing_source_gets_growing_penalty(site):
    world, p = site
    p["alice"].set_secret("wrong")
    for _ in range(4):
        r = p["alice"].ssh("ct-scanner", "true", extra={
            "NumberOfPasswordPrompts": "1"})
        assert r.returncode == 255
    # the penalty is counted when a failed worker exits (slow under ASan)
    world.bastion.wait_no_workers()
    p["alice"].set_secret("s3cret-alice")       # the right one, now
    r = p["alice"].ssh("ct-scanner", "true")
    assert r.returncode == 255
    ev = world.bastion.wait_audit(event="conn.refused")
    assert "penalty" in ev["reason"]


def cap_filled(world):
    """Start the bastion with room for two unauthenticated connections and
    fill it: returns the two silent connections (each has its worker's
    banner), for the caller to close."""
    world.limits["max_unauthenticated"] = 2
    world.limits["login_grace"] = 20
    world.start_bastion()
    world.bastion.wait_no_workers()     # the readiness probe's
    held = []
    for _ in range(2):
        s = socket.create_connection((world.bastion.addr,
                                      world.bastion.port), timeout=10)
        held.append(s)
        assert s.recv(64).startswith(b"SSH-2.0-")
    return held


def test_refused_connection_flood_is_rate_limited_in_the_audit_log(cast):
    """With the unauthenticated cap full, a flood of connections is
    refused every time, but the audit chain takes at most 5 conn.refused a
    second, then one conn.refused_suppressed with the count."""
    world, p = cast
    held = cap_filled(world)
    try:
        t0 = time.monotonic()
        tries = 0
        while time.monotonic() - t0 < 1.5 or tries < 40:
            s = socket.create_connection((world.bastion.addr,
                                          world.bastion.port), timeout=10)
            s.settimeout(10)
            assert s.recv(64) == b""        # closed at once, no banner
            s.close()
            tries += 1
        # one more, a second later, carries the count of those left out
        # (time is the subject: the audit's rate limit is per second)
        time.sleep(1.1)
        s = socket.create_connection((world.bastion.addr,
                                      world.bastion.port), timeout=10)
        s.settimeout(10)
        assert s.recv(64) == b""
        s.close()
        tries += 1
        ev = world.bastion.wait_audit(event="conn.refused_suppressed")
        assert int(ev["count"]) > 0
        logged = len(world.bastion.audit_events(event="conn.refused"))
        suppressed = sum(int(e["count"]) for e in world.bastion.audit_events(
            event="conn.refused_suppressed"))
        assert logged < tries and logged + suppressed == tries
    finally:
        for s in held:
            s.close()


def test_failures_look_identical_to_the_client(cast, softsk):
    """Unknown user, unregistered key, wrong secret and a disabled account
    all end in the same words: nothing tells which factor failed."""
    world, p = cast
    pol = world.policy()
    for v in pol["vendors"]:
        for e in v["engineers"]:
            if e["name"] == "gina":
                e["enabled"] = False
    world.start_bastion(pol)
    stranger = Person(world, softsk, "mallory", p["alice"].secret,
                      dir=world.dir / "mallory")
    p["alice"].set_secret("wrong")
    # all at once: each refusal takes as long as a wrong secret's
    pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    running = {
        "unknown user": stranger.popen("ct-scanner", "true", login="mallory",
                                       **pipes),
        "unregistered key": stranger.popen("ct-scanner", "true",
                                           login="alice", **pipes),
        "disabled": p["gina"].popen("pacs", "true", **pipes),
        "wrong secret": p["alice"].popen("ct-scanner", "true", **pipes),
    }
    outcomes = {}
    for k, pr in running.items():
        out, err = pr.communicate(timeout=60)
        outcomes[k] = subprocess.CompletedProcess(pr.args, pr.returncode,
                                                  out, err)

    def shape(r):
        return (r.returncode, re.sub(r"\S+@127\.0\.0\.1", "USER@HOST",
                                     r.stderr))
    shapes = {k: shape(r) for k, r in outcomes.items()}
    assert len(set(shapes.values())) == 1, shapes
    assert DENIED in next(iter(shapes.values()))[1]


def test_second_factor_through_pam_wrapper(world, softsk, bastiond_bin):
    """The same PAM stack reached the other way: pam_start() redirected by
    pam_wrapper (LD_PRELOAD) instead of the policy's pam_service_dir."""
    from harness.client import add_site_people
    world.bastion.pam_mode = "wrapper"
    p = add_site_people(world, softsk)
    pol = world.policy()
    assert "pam_service_dir" not in pol["paths"]
    world.start_bastion(pol)
    ok = p["alice"].ssh("ct-scanner", "echo wrapped")
    assert ok.returncode == 0 and "wrapped" in ok.stdout, ok.stderr
    p["gina"].set_secret("wrong")
    bad = p["gina"].ssh("pacs", "true")
    assert bad.returncode == 255 and DENIED in bad.stderr


def test_unauthenticated_cap_drops_extra_connections(cast):
    world, p = cast
    held = cap_filled(world)
    try:
        extra = socket.create_connection((world.bastion.addr,
                                          world.bastion.port), timeout=10)
        extra.settimeout(10)
        assert extra.recv(64) == b""        # closed without a banner
        extra.close()
        ev = world.bastion.wait_audit(event="conn.refused")
        assert "unauthenticated" in ev["reason"]
    finally:
        for s in held:
            s.close()
    # once they are gone, engineers get in again
    r = p["alice"].ssh_when_ready("ct-scanner", "echo in")
    assert r.stdout == "in\n"


def shell_with_limits(cast, **limits):
    """The bastion started with limits (and a warning 2 s before the
    end); alice's shell on ct-scanner. Returns (world, pexpect child)."""
    world, p = cast
    world.limits.update(limits, idle_warning=2)
    world.start_bastion()
    child = p["alice"].spawn("ct-scanner", timeout=20)
    child.expect("session \\d+: ct-scanner")
    return world, child


def test_idle_timeout_warns_then_cuts(cast):
    world, child = shell_with_limits(cast, idle_timeout=4)
    child.expect("idle and will be closed in")
    child.expect("session closed: idle for 4 seconds")
    child.expect(pexpect_eof())
    ev = world.bastion.wait_audit(event="session.end", user="alice")
    assert ev["reason"] == "idle timeout"
    world.bastion.wait_audit(event="session.idle_warning")


def test_maximum_session_length(cast):
    world, child = shell_with_limits(cast, max_session=4)
    # keep it busy: the limit is not about idling (time is the subject:
    # a line every half second, past the 4 s limit)
    for _ in range(8):
        child.sendline("echo busy")
        time.sleep(0.5)
        if not child.isalive():
            break
    child.expect("maximum session length")
    ev = world.bastion.wait_audit(event="session.end", user="alice")
    assert ev["reason"] == "maximum session length"


def test_refused_forward_reason_reaches_the_session(cast):
    """libssh 0.10 sends CHANNEL_OPEN_FAILURE with an empty description,
    so a refused -L shows only "administratively prohibited"; when the
    connection has a session channel, the bastion's reason is written to
    its stderr (issue 15, item 4; docs/CLIENTS.md)."""
    world, p = cast
    world.vendors["acme"]["touch"] = "off"
    world.start_bastion()
    lport = util.free_port("127.0.0.1")
    # the session lasts until we send it a line
    proc = p["alice"].popen("ct-scanner", "echo up; read go",
                            options=["-L", "%d:ct-scanner:9999" % lport],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        util.wait_tcp("127.0.0.1", lport, timeout=20)
        with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
            s.settimeout(10)
            assert s.recv(100) == b""       # closed: the forward refused
        out, err = proc.communicate("go\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.startswith("up"), err
    assert re.search(r"bastion: forward to ct-scanner:9999 refused: \S",
                     err), err
    ev = world.bastion.wait_audit(event="forward.refused", user="alice")
    assert ev["to"] == "ct-scanner:9999" and ev["reason"] in err
