"""The installed product under a real systemd (make check-boot).

A minimal Debian 12 tree (tests/boot/container.py) boots with systemd as
PID 1 under systemd-nspawn. Inside it, as docs/INSTALL.md says: `make
install` (from the build the suite made: the box has no compiler), a
policy with one vendor, one engineer and one device (the box's own sshd),
`bastiond --init`, the recorder's key as its own user, then
`systemctl enable --now bastion-recorder bastiond`. The tests run in file
order against that one box, each building on the state the previous one
left, as an admin would go through the first-boot checklist of
docs/OPERATIONS.md:

  units active and READY, an engineer through to the device, a local admin
  (member of bastion-admin, no -f) using bastionctl, reloads (good and
  broken), the watchdog quiet past its interval, no warning in a clean
  run, `systemd-analyze security` of the live units, stopping the recorder,
  and kill -9 of the recorder with both units back and sessions working.

The engineer's side is the host's real OpenSSH client with the software
security key, run inside the box's network namespace only. When a test
fails, the journal of both units is printed.
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
TOP = HERE.parent.parent
sys.path.insert(0, str(TOP / "tests" / "e2e"))
sys.path.insert(0, str(HERE))

from container import Container, ensure_rootfs  # noqa: E402
from harness.softsk import SoftSK  # noqa: E402
from harness.util import wait_until  # noqa: E402

BUILD = pathlib.Path(os.environ.get("BASTION_BUILD", TOP / "build"))
CACHE = pathlib.Path(os.environ.get("BASTION_BOOT_CACHE",
                                    "/var/tmp/bastion-boot"))
UNITS = ("bastiond.service", "bastion-recorder.service")
SECRET = "Boot-test-secret-1"
LISTEN = ("127.0.0.1", 2222)
DEVICE_ADDR = "127.0.1.10"
WATCHDOG_SEC = 30

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="booting a container needs root")


def policy_text(starter, alice_pub, carol_pub, host_key,
                description="Radiology, CT room 2"):
    """The installed starter policy, edited as docs/INSTALL.md says: its
    listen address and paths stay, a vendor and a device go in."""
    assert "vendors: []\ndevices: []\n" in starter, starter
    return starter.replace("vendors: []\ndevices: []\n", """\
vendors:
  - name: acme
    description: "Acme Medical (CT)"
    segments: [127.0.1.0/24]
    sources: [127.0.0.0/8]
    engineers:
      - name: alice
        keys: ["%s alice@acme"]
devices:
  - name: ct-scanner
    vendor: acme
    description: "%s"
    address: %s
    port: 22
    login: maint
    credential: /etc/bastion/keys/ct-scanner
    host_key: "%s"
auditors:
  - name: carol
    keys: ["%s carol@hospital"]
""" % (alice_pub, description, DEVICE_ADDR, host_key, carol_pub))


class Site:
    """The booted box with the bastion installed, and alice's side."""

    def __init__(self, box, work):
        self.box = box
        self.work = work
        self.sk = SoftSK(work / "softsk", BUILD / "tests" / "softsk.so")
        self.agent = None
        self.install_log = ""

    # -- engineer -------------------------------------------------------------

    def engineer_setup(self):
        sock_dir = tempfile.mkdtemp(prefix="bbt-ag-")
        self.agent, _ = self.sk.start_agent(sock_dir)
        self.keys = {}
        for who in ("alice", "carol"):
            key = self.work / ("id_" + who)
            self.sk.enroll(key, type="ed25519-sk", comment=who)
            self.keys[who] = key
            self.sk.ssh_add(key, self.agent)
        self.key = self.keys["alice"]
        self.alice_pub, self.carol_pub = (" ".join(pathlib.Path(
            str(self.keys[w]) + ".pub").read_text().split()[:2])
            for w in ("alice", "carol"))
        askpass = self.work / "askpass"
        askpass.write_text("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % SECRET)
        askpass.chmod(0o700)
        self.askpass = askpass

    def ssh_config(self):
        host_pub = self.box.path(
            "/etc/bastion/hostkeys/ssh_host_ed25519_key.pub").read_text()
        kh = self.work / "known_hosts"
        kh.write_text("[%s]:%d %s\n" % (LISTEN[0], LISTEN[1],
                                        " ".join(host_pub.split()[:2])))
        cfg = self.work / "ssh_config"
        cfg.write_text(
            "Host bastion\n"
            "    HostName %s\n    Port %d\n"
            "    IdentitiesOnly yes\n    SecurityKeyProvider %s\n"
            "    UserKnownHostsFile %s\n    GlobalKnownHostsFile /dev/null\n"
            "    StrictHostKeyChecking yes\n    UpdateHostKeys no\n"
            "    PreferredAuthentications publickey,keyboard-interactive\n"
            "    PasswordAuthentication no\n    ConnectTimeout 10\n"
            % (LISTEN[0], LISTEN[1], self.sk.provider, kh))
        self.cfg = cfg

    def ssh(self, *args, who="alice", timeout=60, binary=False):
        env = self.sk.env()
        env.update(SSH_ASKPASS=str(self.askpass),
                   SSH_ASKPASS_REQUIRE="force", DISPLAY=":0",
                   SSH_AUTH_SOCK=str(self.agent))
        return self.box.net(["ssh", "-F", self.cfg, "-A", "-T",
                             "-o", "IdentityFile=%s" % self.keys[who],
                             "%s@bastion" % who] + list(args),
                            env=env, timeout=timeout, binary=binary)

    # -- the hospital's side ----------------------------------------------------

    def install(self):
        """Copy the sources and the suite's build in, then `make install`
        as docs/INSTALL.md says."""
        dst = self.box.path("/root/bastion")
        dst.mkdir(parents=True)
        subprocess.run(
            "tar -C %s --exclude=./.git --exclude='./build*' -cf - . | "
            "tar -C %s -xpf -" % (TOP, dst), shell=True, check=True)
        (dst / "build").mkdir()
        subprocess.run(
            "tar -C %s --exclude=./tests -cf - . | tar -C %s -xpf -"
            % (BUILD, dst / "build"), shell=True, check=True)
        # the build is the one `make check-boot` just brought up to date;
        # the box has no compiler, so make must not think otherwise
        subprocess.run(["find", str(dst / "build"), "-exec", "touch", "-h",
                        "-d", "@%d" % int(time.time() + 1), "{}", "+"],
                       check=True)
        p = self.box.run(["make", "-C", "/root/bastion", "install"],
                         check=False, timeout=120)
        self.install_log = p.stdout + p.stderr
        assert p.returncode == 0, self.install_log

    def configure(self):
        b = self.box
        # the device: the box's own sshd, with a login for the bastion
        b.sh("useradd -m -s /bin/sh maint && usermod -p '*' maint && "
             "install -d -m 0700 -o maint -g maint /home/maint/.ssh")
        cred = self.work / "ct-scanner"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-C", "bastion@hospital", "-f", str(cred)],
                       check=True)
        b.path("/etc/bastion/keys").mkdir(mode=0o700)
        b.path("/etc/bastion/keys/ct-scanner").write_bytes(cred.read_bytes())
        os.chmod(b.path("/etc/bastion/keys/ct-scanner"), 0o600)
        ak = b.path("/home/maint/.ssh/authorized_keys")
        ak.write_text(pathlib.Path(str(cred) + ".pub").read_text())
        b.sh("chown maint:maint /home/maint/.ssh/authorized_keys")
        self.device_host_key = " ".join(b.path(
            "/etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])
        # people: the engineer's PAM secret; a local admin
        for who in ("alice", "carol"):
            b.run(["useradd", "-M", "-s", "/usr/sbin/nologin", who])
            b.run(["chpasswd"], input="%s:%s\n" % (who, SECRET))
        b.run(["useradd", "-M", "-s", "/bin/sh", "-G", "bastion-admin",
               "hadmin"])
        self.write_policy()
        b.run(["bastiond", "-f", "/etc/bastion/policy.yaml", "--check"])
        b.run(["bastiond", "-f", "/etc/bastion/policy.yaml", "--init"])
        b.run(["runuser", "-u", "bastion-rec", "--", "bastion-recorder",
               "--init", "-k", "/var/lib/bastion/recorder/recorder.key"])
        self.started = time.monotonic()
        b.run(["systemctl", "enable", "--now", "bastion-recorder",
               "bastiond"], timeout=60)

    def write_policy(self, **kw):
        p = self.box.path("/etc/bastion/policy.yaml")
        if not hasattr(self, "starter"):
            self.starter = p.read_text()
            assert '"%s:%d"' % LISTEN in self.starter, self.starter
        p.write_text(policy_text(self.starter, self.alice_pub,
                                 self.carol_pub, self.device_host_key,
                                 **kw))
        os.chmod(p, 0o640)

    def wait_active(self, unit, timeout=30, not_pid=None):
        """Wait until unit is active/running (with a MainPID other than
        not_pid); returns its MainPID."""
        s = {}

        def running():
            s.update(self.box.show(unit, "ActiveState", "SubState",
                                   "MainPID"))
            if (s.get("ActiveState") == "active" and
                    s.get("SubState") == "running" and
                    s.get("MainPID", "0") not in ("0", str(not_pid))):
                return int(s["MainPID"])
            return None
        return wait_until(running, timeout, interval=0.2,
                          what=lambda: "%s running: %r" % (unit, s))

    def wait_state(self, unit, states, timeout=30):
        st = [None]

        def reached():
            st[0] = self.box.show(unit, "ActiveState")["ActiveState"]
            return st[0] if st[0] in states else None
        return wait_until(reached, timeout, interval=0.2, what=lambda:
                          "%s is %s, not %s" % (unit, st[0], states))

    def session_works(self):
        p = self.ssh("ct-scanner", "id -un; echo boot-ok")
        assert p.returncode == 0 and "boot-ok" in p.stdout, (
            "engineer session failed (%d)\nstdout: %s\nstderr: %s"
            % (p.returncode, p.stdout, p.stderr))
        assert p.stdout.splitlines()[0] == "maint", p.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory, request):
    if not (BUILD / "bastiond").exists():
        pytest.fail("no build in %s (make tests first)" % BUILD)
    tree = ensure_rootfs(CACHE)
    work = tmp_path_factory.mktemp("boot")
    box = Container(tree, CACHE / "run")
    box.start()
    s = Site(box, work)
    try:
        s.engineer_setup()
        s.install()
        s.configure()
        yield s
    finally:
        failed = request.session.testsfailed > 0
        if failed or os.environ.get("BASTION_BOOT_JOURNAL"):
            sys.__stderr__.write(
                "\n==== make install ====\n%s\n"
                "==== journal of bastiond and bastion-recorder ====\n%s\n"
                "==== console ====\n%s\n" % (
                    s.install_log, box.journal(*UNITS),
                    box.console.read_text()[-4000:]))
        s.sk.stop_agent()
        box.stop()
        if not failed:
            box.remove()


def test_pam_module_where_libpam_looks(site):
    """make install put pam_bastion.so beside pam_unix.so (the box has
    neither pkg-config nor dpkg-architecture)."""
    out = site.box.sh("dirname $(find / -xdev -name pam_unix.so | head -1)"
                      ).stdout.strip()
    assert site.box.path(out + "/pam_bastion.so").exists(), (
        "pam_bastion.so not in %s\n%s" % (out, site.install_log))


def test_units_active_and_ready(site):
    for u in UNITS:
        site.wait_active(u)
    s = site.box.show("bastiond.service", "StatusText", "Type", "NRestarts")
    assert re.search(r"\d+ connections?", s["StatusText"]), s
    r = site.box.show("bastion-recorder.service", "StatusText")
    assert r["StatusText"], "the recorder sent no STATUS=: %r" % r


def test_engineer_reaches_the_device(site):
    site.ssh_config()
    site.session_works()
    # the session is in the journal with its recording (session.end is
    # written after the client has its exit status: the child seals the
    # recording first and hands the event to its monitor)
    def ended():
        j = site.box.journal("bastiond.service")
        return j if "event=session.end" in j else None
    j = wait_until(ended, 10, interval=0.2,
                   what="event=session.end in the journal")
    assert "event=session.start" in j and "event=session.end" in j, j[-3000:]
    recs = list(site.box.path("/var/lib/bastion/recordings").rglob("*.brec"))
    assert recs, "no recording was written"


def test_auditor_exports_a_bundle_that_verifies(site):
    """carol (auditor, her own touch) exports the session's evidence
    bundle over ssh; bastion-verify checks it offline against the
    recorder's public key: the recorder, in its own unit, signed it."""
    j = site.box.journal("bastiond.service")
    recs = re.findall(r"event=session\.recording .*?recording=(\S+)", j)
    assert recs, j[-2000:]
    wait_until(lambda: ("recording=%s" % recs[0]) in site.box.journal(
        "bastiond.service") and "event=recording.sealed" in
        site.box.journal("bastion-recorder.service"), 15, interval=0.2,
        what="the recording sealed")
    p = site.ssh("export", recs[0], who="carol", binary=True)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    bundle = site.work / "bundle.tar"
    bundle.write_bytes(p.stdout)
    pub = site.box.path("/var/lib/bastion/recorder/recorder.key.pub")
    v = subprocess.run([str(BUILD / "bastion-verify"), "-k", str(pub),
                        str(bundle)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "the MANIFEST is signed by the recorder key" in v.stdout, v.stdout


def test_recorder_reads_fetched_recordings_read_only(site):
    """bastion-recorder.service sees STATE_DIR/fetched (other nodes'
    recordings the console fetched from the object store) read only at
    /run/bastion-recorder/chain/fetched, as its own user, so that it can
    sign their export; nothing else of the state directory."""
    b = site.box
    pid = site.wait_active("bastion-recorder.service")
    b.sh("printf probe > /var/lib/bastion/state/fetched/probe.brec; "
         "chmod 0640 /var/lib/bastion/state/fetched/probe.brec")
    try:
        # the recorder's credentials: its user, and the group its unit
        # adds (SupplementaryGroups=bastion-audit)
        rec = ["nsenter", "-t", str(pid), "-m", "--", "setpriv",
               "--reuid=bastion-rec", "--regid=bastion-rec",
               "--groups=bastion-audit", "--"]
        r = b.run(rec + ["cat", "/run/bastion-recorder/chain/fetched/"
                         "probe.brec"], check=False)
        assert r.returncode == 0 and r.stdout == "probe", r.stderr + b.run(
            ["ls", "-ln", "/var/lib/bastion/state/fetched"]).stdout
        r = b.run(rec + ["touch", "/run/bastion-recorder/chain/fetched/x"],
                  check=False)
        assert r.returncode != 0, "the recorder could write fetched/"
        r = b.run(rec + ["ls", "/run/bastion-recorder/chain"])
        assert sorted(r.stdout.split()) == ["audit.log", "fetched"], r.stdout
    finally:
        b.run(["rm", "-f", "/var/lib/bastion/state/fetched/probe.brec"])


def test_bastionctl_by_a_member_of_the_admin_group(site):
    """A local admin in bastion-admin, without -f, who cannot read the
    policy (0640 root), runs verbs through the control socket."""
    b = site.box
    sock = b.run(["stat", "-c", "%G %a", "/run/bastion/control.sock"]
                 ).stdout.split()
    assert sock[0] == "bastion-admin" and sock[1] == "660", sock
    p = b.run(["runuser", "-u", "hadmin", "--", "bastionctl", "vendors"],
              check=False)
    assert p.returncode == 0 and "acme" in p.stdout, (p.stdout, p.stderr)
    p = b.run(["runuser", "-u", "hadmin", "--", "bastionctl", "sessions"],
              check=False)
    assert p.returncode == 0, (p.stdout, p.stderr)
    # someone outside the group is refused with what to do
    b.run(["useradd", "-M", "-s", "/bin/sh", "mallory"])
    p = b.run(["runuser", "-u", "mallory", "--", "bastionctl", "sessions"],
              check=False)
    assert p.returncode != 0 and "bastion-admin" in p.stderr, p.stderr


def test_reload_with_a_good_policy(site):
    pid = site.wait_active("bastiond.service")
    site.write_policy(description="Radiology, CT room 3")
    site.box.run(["systemctl", "reload", "bastiond"])
    wait_until(lambda: "event=policy.reloaded" in site.box.journal(
        "bastiond.service"), 15, interval=0.2, what="event=policy.reloaded")
    assert site.wait_active("bastiond.service") == pid
    site.session_works()


def test_watchdog_quiet_past_its_interval(site):
    # time is the subject: the watchdog's interval passes without a restart
    left = site.started + WATCHDOG_SEC + 5 - time.monotonic()
    if left > 0:
        time.sleep(left)
    s = site.box.show("bastiond.service", "NRestarts", "WatchdogUSec",
                      "WatchdogTimestampMonotonic", "ActiveState")
    assert s["ActiveState"] == "active" and s["NRestarts"] == "0", s
    assert s["WatchdogUSec"] == str(WATCHDOG_SEC * 1000000) or \
        s["WatchdogUSec"] == "%ds" % WATCHDOG_SEC, s
    assert int(s["WatchdogTimestampMonotonic"]) > 0, s
    j = site.box.journal()
    assert "Watchdog timeout" not in j, j[-3000:]


def test_no_warning_in_a_clean_run(site):
    """Everything so far was normal operation: nothing at warning
    priority or above from either unit."""
    j = site.box.journal(*UNITS, priority="warning")
    lines = [ln for ln in j.splitlines() if ln and not
             ln.startswith("-- ")]
    assert not lines, "\n".join(lines)


def test_security_rating_of_the_live_units(site):
    for u in UNITS:
        out = site.box.run(["systemd-analyze", "security", "--no-pager", u],
                           check=False).stdout
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
        assert m, out[-2000:]
        assert float(m.group(1)) <= 2.0, "%s: %s" % (u, m.group(0))


def test_security_rating_of_the_web_console_unit(site):
    """bastion-webd.service as installed (loaded, not started: the box
    has no browser), at most 2.0 as the issue asks."""
    out = site.box.run(["systemd-analyze", "security", "--no-pager",
                        "bastion-webd.service"], check=False).stdout
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, out[-2000:]
    assert float(m.group(1)) <= 2.0, m.group(0)


def test_reload_with_a_broken_policy(site):
    pid = site.wait_active("bastiond.service")
    before = set(site.box.journal("bastiond.service",
                                  priority="warning").splitlines())
    good = site.box.path("/etc/bastion/policy.yaml").read_text()
    site.box.path("/etc/bastion/policy.yaml").write_text(
        good.replace("segments: [127.0.1.0/24]", "segments: [127.0.9.0/24]"))
    try:
        p = site.box.run(["systemctl", "reload", "bastiond"], check=False)
        assert p.returncode != 0, "a broken policy was reloaded"
        assert site.wait_active("bastiond.service") == pid
        # the problem reaches the journal at error priority, with the
        # file and what to change (the stream's line may reach the journal
        # after systemd's own "Reload failed")
        def said():
            j = "\n".join(ln for ln in site.box.journal(
                "bastiond.service", priority="warning").splitlines()
                if ln not in before)
            return "policy.yaml" in j and "ct-scanner" in j
        wait_until(said, 10, interval=0.2, what="the policy's problem in "
                   "the journal at warning priority")
    finally:
        site.box.path("/etc/bastion/policy.yaml").write_text(good)
    site.session_works()


def test_stopping_the_recorder_stops_the_broker(site):
    b = site.box
    b.run(["systemctl", "stop", "bastion-recorder"])
    site.wait_state("bastiond.service", ("inactive", "failed"))
    b.run(["systemctl", "start", "bastiond"], timeout=60)
    for u in UNITS:
        site.wait_active(u)
    site.session_works()


def test_recorder_killed_both_come_back(site):
    b = site.box
    rec = site.wait_active("bastion-recorder.service")
    brk = site.wait_active("bastiond.service")
    b.run(["kill", "-9", str(rec)])
    site.wait_active("bastion-recorder.service", timeout=30, not_pid=rec)
    site.wait_active("bastiond.service", timeout=30)
    # sessions start again (a few seconds may pass while both settle)
    last = []

    def session():
        last[:] = [site.ssh("ct-scanner", "echo boot-ok")]
        return last[0].returncode == 0 and "boot-ok" in last[0].stdout
    wait_until(session, 30, interval=1, what=lambda: (
        "a session after the recorder was killed (broker pid %d before)"
        "\n%s" % (brk, last[0].stderr if last else "")))
