"""Transfer windows: a touch for clients that cannot forward an agent
(issue 15, item 2; docs/FIDO2.md, "Transfer windows").

pscp, psftp and WinSCP cannot forward an agent, so they can never answer
the touch check. A touch made in a session that had the agent (here
`ssh -A dave+analyzer@bastion true` with the software security key)
opens a window in which transfers (sftp, scp) of the same engineer, to
the same device, from the same source address are admitted without a
touch of their own. The window is the monitor's, kept in the state store.

dave of initech has two keys: a security key (the touch, through OpenSSH)
and an ordinary ed25519 key for PuTTY 0.78, which has no security keys
(initech has allow_non_sk_keys: true and touch: required). Because dave
has a security key, his plain-key logins prove no touch: they are
admitted only through a window, and only for transfers. The bastion
listens on 127.0.0.1; the other source address is 127.0.0.2 (ssh's
BindAddress), inside initech's sources.
"""

import calendar
import os
import subprocess
import time
import urllib.request

import pytest

from harness import util
from harness.client import Person

OPENED = "are admitted without a touch until"
ADMITTED = "admitted without a touch: your security key was touched"


def _epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


class Site:
    """initech with analyzer and analyzer2; dave (security key + plain
    key) and erin (security key) as its engineers."""

    def __init__(self, world, softsk, window=None):
        self.world = world
        world.add_vendor("initech", segment=3,
                         sources=("127.0.0.0/29",), allow_non_sk_keys=True)
        world.add_device("initech", "analyzer", host=10)
        world.add_device("initech", "analyzer2", host=11)
        self.web = world.devices["analyzer"].serve_http(body="analyzer page")
        world.device_entries["analyzer"]["forward_ports"] = [self.web.port]
        self.dave = Person(world, softsk, "dave", "s3cret-dave")
        self.dave_plain = Person(world, softsk, "dave", "s3cret-dave",
                                 key_type="ed25519",
                                 dir=world.dir / "dave-plain", agent=False)
        world.add_engineer("initech", "dave",
                           [self.dave.public_key(),
                            self.dave_plain.public_key()],
                           secret="s3cret-dave")
        self.erin = Person(world, softsk, "erin", "s3cret-erin")
        world.add_engineer("initech", "erin", self.erin.public_key(),
                           secret="s3cret-erin")
        if window is not None:
            world.limits["touch_transfer_window"] = window
        world.start_bastion()

    def open_window(self, device="analyzer", src=None):
        """ssh -A dave+DEVICE@bastion true: the touch; returns the
        touch.window_opened event."""
        n = len(self.world.bastion.audit_events(event="touch.window_opened",
                                                user="dave"))
        extra = {"BindAddress": src} if src else None
        r = self.dave.ssh("true", login="dave+" + device, extra=extra)
        assert r.returncode == 0, r.stderr
        assert "transfers from this computer to %s %s" % (device, OPENED) \
            in r.stderr, r.stderr
        return self.world.bastion.wait_audit(
            event="touch.window_opened", user="dave", after=n)

    def sftp(self, person, device, commands="bye\n", src=None, agent=False):
        """OpenSSH sftp without -A (unless agent), from src."""
        argv = [util.SFTP, "-F", str(person.config())]
        if agent:
            argv.append("-A")
        if src:
            argv += ["-o", "BindAddress=" + src]
        return subprocess.run(
            argv + ["%s+%s@bastion" % (person.name, device)],
            input=commands, capture_output=True, text=True,
            env=person.env(agent), timeout=60, start_new_session=True)

    def used(self):
        return self.world.bastion.audit_events(event="touch.window_used")

    def refused_no_agent(self, r, user="dave"):
        assert r.returncode != 0, r.stdout
        ev = self.world.bastion.wait_audit(event="touch.no_agent", user=user)
        assert ev["result"] == "refused"
        return ev


@pytest.fixture
def site(world, softsk, bastiond_bin):
    return Site(world, softsk)


def test_window_admits_sftp_without_agent(site, tmp_path):
    ev = site.open_window()
    assert ev["device"] == "analyzer" and ev["from"] == "127.0.0.1"
    assert ev["key"].startswith("SHA256:") and ev["window"] == "300"
    until = _epoch(ev["until"])
    assert 290 <= until - time.time() <= 301, ev
    # the touch came first, then the window
    names = [e["event"] for e in site.world.bastion.audit_events(user="dave")
             if e["event"].startswith("touch.")]
    assert names[-2:] == ["touch.ok", "touch.window_opened"], names

    src = tmp_path / "up.txt"
    src.write_text("no agent\n")
    r = site.sftp(site.dave, "analyzer",
                  "put %s %s/got.txt\nbye\n" % (src, tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "got.txt").read_text() == "no agent\n"
    assert ADMITTED in r.stderr, r.stderr
    used = site.world.bastion.wait_audit(event="touch.window_used",
                                         user="dave")
    assert used["device"] == "analyzer" and used["from"] == "127.0.0.1"
    assert used["until"] == ev["until"] and used["opened_by"] == ev["session"]
    assert used["touched_key"] == ev["key"]
    # a window admits transfers only: a command without an agent is not
    r = site.dave.ssh("echo reached", login="dave+analyzer", agent=False)
    assert r.returncode != 0 and "reached" not in r.stdout
    assert "does not forward your agent" in r.stderr, r.stderr
    assert len(site.used()) == 1


def test_window_admits_pscp_with_a_plain_key(site, tmp_path):
    for tool in ("pscp", "plink", "puttygen"):
        util.need_tool(tool, "putty-tools")
    b = site.world.bastion
    ppk = site.dave_plain.dir / "dave.ppk"
    subprocess.run(["puttygen", str(site.dave_plain.key), "-O", "private",
                    "-o", str(ppk)], check=True, capture_output=True)
    fp = subprocess.run(["ssh-keygen", "-lf", "-"], input=b.host_key_pub,
                        capture_output=True, text=True,
                        check=True).stdout.split()[1]
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env["HOME"] = str(site.dave_plain.dir)

    def putty(tool, *args):
        # PuTTY 0.78 through this bastion sometimes hangs after the
        # transfer, or loses the end of a refusal to an early disconnect
        # (issue 15, item 1, fixed on its own branch): a hang is cut here
        # and judged by the data and the audit events
        try:
            return subprocess.run(
                [tool, "-batch", "-noagent", "-hostkey", fp, "-P",
                 str(b.port), "-i", str(ppk), "-pw", "s3cret-dave"] +
                list(args), stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=25, env=env, start_new_session=True)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(e.cmd, -1, e.output or "",
                                               (e.stderr or b"").decode())

    blob = tmp_path / "firmware.bin"
    blob.write_bytes(os.urandom(64 * 1024))
    target = "dave+analyzer@" + b.addr

    # no window yet: refused, and told what to do with both clients
    r = putty("pscp", "-sftp", "-q", str(blob),
              "%s:%s" % (target, tmp_path / "early.bin"))
    assert r.returncode != 0
    assert not (tmp_path / "early.bin").exists()
    ev = site.refused_no_agent(r)
    assert "not a security key" in ev["reason"], ev
    # the same refusal through OpenSSH (which reads it to the end)
    r = site.dave_plain.ssh("sftp", login="dave+analyzer", options=["-s"],
                            input="", agent=False)
    assert r.returncode != 0
    assert "is not a security key" in r.stderr, r.stderr
    for words in ("plink -A dave+analyzer@bastion", "ssh -A", "pscp",
                  "WinSCP", "within 5 minutes"):
        assert words in r.stderr, (words, r.stderr)

    site.open_window()
    for mode in ("-sftp", "-scp"):
        dest = tmp_path / ("fw%s.bin" % mode)
        r = putty("pscp", mode, "-q", str(blob), "%s:%s" % (target, dest))
        assert dest.exists() and dest.read_bytes() == blob.read_bytes(), \
            (mode, r.returncode, r.stderr)
    assert len(site.used()) == 2
    # the plain key is for transfers only, window or not
    n = len(b.audit_events(event="touch.no_agent", user="dave"))
    r = putty("plink", "-ssh", target, "echo reached")
    assert "reached" not in r.stdout
    r = site.dave_plain.ssh("echo reached", login="dave+analyzer",
                            agent=False)
    assert "reached" not in r.stdout
    assert "only a file transfer" in r.stderr, r.stderr
    assert len(b.audit_events(event="touch.no_agent", user="dave")) == n + 2
    assert len(site.used()) == 2


def test_window_admits_no_forward(site):
    """A connection a window admitted for sftp carries no -L forward (a
    forward needs a touch of its own)."""
    site.open_window()
    lport = util.free_port("127.0.0.1")
    # (sftp itself clears forwardings: ssh -s sftp is what a client that
    # asks for both sends)
    p = site.dave.popen("sftp", login="dave+analyzer", agent=False,
                        options=["-L", "%d:analyzer:%d" % (
                            lport, site.web.port), "-s"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
    try:
        util.wait_tcp("127.0.0.1", lport, timeout=20)
        site.world.bastion.wait_audit(event="touch.window_used", user="dave")
        with pytest.raises(Exception):
            urllib.request.urlopen("http://127.0.0.1:%d/" % lport,
                                   timeout=10).read()
        ev = site.world.bastion.wait_audit(event="forward.refused",
                                           user="dave")
        assert "transfer window" in ev["reason"], ev
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert not site.world.bastion.audit_events(event="forward.open")
    # the monitor never saw a forward request: the child refused it
    assert not site.world.bastion.audit_events(event="monitor.violation")


def test_window_is_bound_to_source_device_and_engineer(site):
    site.open_window()
    before = len(site.used())
    # another source address: no window
    r = site.sftp(site.dave, "analyzer", src="127.0.0.2")
    site.refused_no_agent(r)
    assert ADMITTED not in r.stderr
    # another device: no window
    r = site.sftp(site.dave, "analyzer2")
    assert r.returncode != 0
    # another engineer of the same vendor: no window
    r = site.sftp(site.erin, "analyzer")
    site.refused_no_agent(r, user="erin")
    assert len(site.used()) == before
    # each refusal names what to do, with OpenSSH and with PuTTY
    for words in ("sftp -A", "scp -A", "plink -A erin+analyzer@bastion",
                  "pscp", "psftp", "WinSCP", "within 5 minutes"):
        assert words in r.stderr, (words, r.stderr)
    # the same source as the touch still gets in
    r = site.sftp(site.dave, "analyzer")
    assert r.returncode == 0, r.stderr
    assert len(site.used()) == before + 1
    # a window from 127.0.0.2 admits from there
    site.open_window(src="127.0.0.2")
    r = site.sftp(site.dave, "analyzer", src="127.0.0.2")
    assert r.returncode == 0, r.stderr
    assert site.used()[-1]["from"] == "127.0.0.2"


def test_lock_closes_the_window(site, bastionctl):
    site.open_window()
    r = bastionctl(site.world, "lock", "dave", "badge", "lost")
    assert r.returncode == 0, r.stdout + r.stderr
    r = bastionctl(site.world, "unlock", "dave", "--account")
    assert r.returncode == 0, r.stdout + r.stderr
    # unlocked again, but the touch before the lock admits nothing
    r = site.sftp(site.dave, "analyzer")
    site.refused_no_agent(r)
    assert not site.used()
    # a new touch opens a new window
    site.open_window()
    assert site.sftp(site.dave, "analyzer").returncode == 0
    assert len(site.used()) == 1


def test_window_expires(world, softsk, bastiond_bin):
    site = Site(world, softsk, window="2s")
    ev = site.open_window()
    assert ev["window"] == "2"
    until = _epoch(ev["until"])
    # time is the subject: the window must run out, as the store counts
    # it (whole seconds)
    time.sleep(max(0.0, until + 0.2 - time.time()))
    r = site.sftp(site.dave, "analyzer")
    site.refused_no_agent(r)
    assert not site.used()
    assert "within 2 seconds" in r.stderr, r.stderr


def test_window_off(world, softsk, bastiond_bin):
    site = Site(world, softsk, window="0")
    r = site.dave.ssh("true", login="dave+analyzer")
    assert r.returncode == 0, r.stderr
    assert OPENED not in r.stderr
    world.bastion.wait_audit(event="touch.ok", user="dave")
    assert not world.bastion.audit_events(event="touch.window_opened")
    r = site.sftp(site.dave, "analyzer")
    site.refused_no_agent(r)
    assert "limits.touch_transfer_window is 0" in r.stderr, r.stderr


@pytest.mark.parametrize("value,words", [
    ("2h", "too long"),
    ("soon", "not a duration"),
])
def test_window_setting_is_checked(world, bastiond_bin, value, words):
    world.limits["touch_transfer_window"] = value
    world.write_policy()
    r = world.bastion.check_policy()
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "touch_transfer_window" in out and words in out, out
    world.limits["touch_transfer_window"] = "10m"
    world.write_policy()
    r = world.bastion.check_policy()
    assert r.returncode == 0, r.stdout + r.stderr
