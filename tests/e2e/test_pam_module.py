"""pam_bastion.so through a real PAM stack.

Each test writes its own service file into a private directory and runs
the real libpam on it with pam_start_confdir() (tests/tools/pam_acct.c):
the module is loaded by path from $BASTION_BUILD, reads a policy the test
wrote, and nothing under /etc/pam.d is used. pam_acct catches what the
module sends to syslog (it defines syslog() itself), so the audit events
are checked as they would reach the journal:

    pam_bastion(SERVICE:account): AUDIT ts=... event=pam.account ...

The account part must refuse unknown, disabled, expired and locked people
and, with hours=, engineers outside their vendor's hours; it must fail
closed on a broken policy, a broken state store and bad arguments. The
session part must write open and close events.
"""

import datetime
import hashlib
import base64
import os
import pathlib
import re
import subprocess

import pytest
import yaml

from harness import util

REPO = pathlib.Path(__file__).resolve().parents[2]
BROKEN = sorted((REPO / "policies" / "broken").glob("*.yaml"))
SERVICE = "bastion-test"

# PAM return codes (security/_pam_types.h) as pam_acct prints them.
PAM_SERVICE_ERR = 3
PAM_SYSTEM_ERR = 4
PAM_PERM_DENIED = 6
PAM_USER_UNKNOWN = 10
PAM_ACCT_EXPIRED = 13
PAM_SESSION_ERR = 14


@pytest.fixture(scope="module")
def module_path():
    p = util.build_dir() / "pam_bastion.so"
    if not p.is_file():
        util.missing("pam_bastion.so", p)
    return p


def fingerprint(pub):
    """OpenSSH's SHA256 fingerprint of "type base64"."""
    blob = base64.b64decode(pub.split()[1])
    return "SHA256:" + base64.b64encode(
        hashlib.sha256(blob).digest()).decode().rstrip("=")


class Result:
    """One pam_acct run: its steps, exit status, and what went to syslog."""

    def __init__(self, proc, log_lines):
        self.proc = proc
        self.returncode = proc.returncode
        self.steps = proc.stdout.splitlines()
        self.syslog = log_lines
        self.events = [util.parse_logfmt(line.split("AUDIT ", 1)[1])
                       for line in log_lines if "AUDIT " in line]

    def step(self, name):
        for s in self.steps:
            if s.split()[0] == name:
                return s
        raise AssertionError("no step %s in %r (stderr: %s)"
                             % (name, self.steps, self.proc.stderr))

    def ok(self, name="acct"):
        return self.step(name) == "%s OK" % name

    def code(self, name="acct"):
        fields = self.step(name).split()
        assert fields[1] == "FAIL", self.steps
        return int(fields[2])

    def event(self, name):
        found = [e for e in self.events if e.get("event") == name]
        assert len(found) == 1, "%s: %r\nsyslog:\n%s" % (
            name, found, "\n".join(self.syslog))
        return found[0]

    def account_error(self, code):
        """Assert the account step failed with code and logged a
        pam.account event with result=error; return its reason."""
        assert self.code() == code, self
        e = self.event("pam.account")
        assert e["result"] == "error", e
        return e["reason"]

    def __repr__(self):
        return "steps=%r rc=%d\nsyslog:\n%s\nstderr: %s" % (
            self.steps, self.returncode, "\n".join(self.syslog),
            self.proc.stderr)


class Scene:
    """A policy with one person per case, a state directory, and a PAM
    service directory; run() drives pam_acct on it."""

    def __init__(self, tmp_path, module, pam_acct):
        self.dir = tmp_path
        self.module = module
        self.pam_acct = pam_acct
        self.confdir = tmp_path / "pam.d"
        self.confdir.mkdir()
        # Anything not named by a test is refused.
        (self.confdir / "other").write_text(
            "account required pam_deny.so\nsession required pam_deny.so\n")
        self.state_dir = tmp_path / "state"
        self.pubs = {}
        for name in ("alice", "dave", "erin", "frank", "gina", "bob",
                     "carol"):
            self.pubs[name] = util.keygen(tmp_path / "keys" / name,
                                          comment=name)
        self.policy = tmp_path / "policy.yaml"
        self.policy.write_text(yaml.safe_dump(self.policy_doc(),
                                              sort_keys=False))
        self.runs = 0
        self.service()

    def person(self, name, **extra):
        d = {"name": name, "keys": [self.pubs[name]]}
        d.update(extra)
        return d

    def policy_doc(self):
        return {
            "version": 1,
            "listen": ["127.0.0.1:2222"],
            "paths": {"host_keys": ["hostkeys/ssh_host_ed25519_key"],
                      "state_dir": "state",
                      "recordings_dir": "recordings",
                      "run_dir": "run"},
            "vendors": [
                {"name": "acme", "segments": ["127.0.1.0/24"],
                 "sources": ["127.0.0.0/8"], "allow_non_sk_keys": True,
                 "engineers": [
                     self.person("alice", valid_until="2099-12-31"),
                     self.person("dave", enabled=False),
                     self.person("erin", valid_until="2020-01-31"),
                     self.person("frank"),
                 ]},
                {"name": "globex", "segments": ["127.0.2.0/24"],
                 "sources": ["127.0.0.0/8"], "allow_non_sk_keys": True,
                 "engineers": [self.person("gina")]},
            ],
            "devices": [],
            "admins": [self.person("bob")],
            "auditors": [self.person("carol")],
        }

    def service(self, account="policy={policy}", session="policy={policy}",
                name=SERVICE):
        """Write the service file; {policy} is the scene's policy."""
        lines = []
        if account is not None:
            lines.append("account required %s %s" % (
                self.module, account.format(policy=self.policy)))
        if session is not None:
            lines.append("session required %s %s" % (
                self.module, session.format(policy=self.policy)))
        (self.confdir / name).write_text("\n".join(lines) + "\n")

    def run(self, user, *steps, service=SERVICE, rhost="203.0.113.7",
            tty="ssh", env=None):
        self.runs += 1
        log = self.dir / ("syslog-%d.log" % self.runs)
        argv = [self.pam_acct, "-l", log]
        if rhost:
            argv += ["-r", rhost]
        if tty:
            argv += ["-t", tty]
        argv += [self.confdir, service, user] + list(steps or ("acct",))
        e = dict(os.environ)
        e.update(env or {})
        p = util.run(argv, check=False, env=e)
        assert p.returncode in (0, 1), "pam_acct died: %d\n%s\n%s" % (
            p.returncode, p.stdout, p.stderr)
        lines = log.read_text().splitlines() if log.exists() else []
        return Result(p, lines)

    def lock(self, fp, engineer, reason):
        self.state_dir.mkdir(exist_ok=True)
        util.run([self.pam_acct, "--lock", self.state_dir, fp, engineer,
                  reason])


@pytest.fixture
def scene(tmp_path, module_path, tool):
    return Scene(tmp_path, module_path, tool("pam_acct"))


# -- account: who ------------------------------------------------------------

@pytest.mark.timeout(30)
def test_enabled_engineer_passes(scene):
    r = scene.run("alice")
    assert r.ok(), r
    assert r.returncode == 0
    e = r.event("pam.account")
    assert e["result"] == "ok"
    assert e["user"] == "alice"
    assert e["role"] == "engineer"
    assert e["vendor"] == "acme"
    assert e["from"] == "203.0.113.7"
    assert e["service"] == SERVICE
    assert e["policy"] == str(scene.policy)
    # The module reads the state store, it never creates it.
    assert not (scene.state_dir / "state.db").exists()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("user,role", [("bob", "admin"),
                                       ("carol", "auditor"),
                                       ("gina", "engineer")])
def test_other_roles_pass(scene, user, role):
    r = scene.run(user)
    assert r.ok(), r
    assert r.event("pam.account")["role"] == role


@pytest.mark.timeout(30)
@pytest.mark.parametrize("user,code,reason", [
    ("dave", PAM_PERM_DENIED, "disabled in the policy"),
    ("erin", PAM_ACCT_EXPIRED, "expired: valid_until 2020-01-31"),
    ("mallory", PAM_USER_UNKNOWN, "not in the policy"),
    ("Alice", PAM_USER_UNKNOWN, "not in the policy"),
    ("alice+ct-scanner", PAM_USER_UNKNOWN, "not in the policy"),
])
def test_refused(scene, user, code, reason):
    r = scene.run(user)
    assert r.code() == code, r
    assert r.returncode == 1
    e = r.event("pam.account")
    assert e["result"] == "refused"
    assert reason in e["reason"]
    assert e["user"] == user


@pytest.mark.timeout(30)
def test_nothing_is_said_to_the_user(scene):
    """A refused person learns nothing from the module (the conversation
    of pam_acct reports any message on stderr)."""
    for user in ("dave", "erin", "mallory"):
        r = scene.run(user)
        assert "module said" not in r.proc.stderr, r


@pytest.mark.timeout(30)
def test_hostile_user_name_cannot_forge_fields(scene):
    r = scene.run('x result=ok reason="fine"\nAUDIT event=pam.account')
    assert r.returncode == 1
    e = r.event("pam.account")
    assert e["result"] == "refused"
    assert e["reason"] == "not in the policy"


# -- account: locks in the state store ----------------------------------------

@pytest.mark.timeout(30)
def test_locked_engineer_is_refused(scene):
    scene.lock(fingerprint(scene.pubs["frank"]), "frank",
               "signature counter went backwards (12 after 40)")
    r = scene.run("frank")
    assert r.code() == PAM_PERM_DENIED, r
    e = r.event("pam.account")
    assert e["result"] == "refused"
    assert "signature counter went backwards" in e["reason"]
    assert "bastionctl unlock frank" in e["reason"]
    # one engineer's lock is not another's
    assert scene.run("alice").ok()


@pytest.mark.timeout(30)
def test_lock_by_name_covers_keys_not_in_the_policy(scene):
    """A lock recorded for the person on a key since removed from the
    policy still stands until an admin lifts it."""
    scene.lock("SHA256:" + "A" * 43, "alice", "old key cloned")
    r = scene.run("alice")
    assert r.code() == PAM_PERM_DENIED, r
    assert "old key cloned" in r.event("pam.account")["reason"]


@pytest.mark.timeout(30)
def test_lock_by_fingerprint(scene):
    """A lock on the person's key counts whoever it was recorded for (the
    key moved from one person to another in the policy)."""
    scene.lock(fingerprint(scene.pubs["gina"]), "someone-else", "cloned")
    r = scene.run("gina")
    assert r.code() == PAM_PERM_DENIED, r
    assert "bastionctl unlock someone-else" in r.event(
        "pam.account")["reason"]


@pytest.mark.timeout(30)
def test_state_store_is_only_read(scene):
    scene.lock(fingerprint(scene.pubs["frank"]), "frank", "cloned")
    db = scene.state_dir / "state.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    assert scene.run("frank").code() == PAM_PERM_DENIED
    assert scene.run("alice").ok()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


@pytest.mark.timeout(30)
@pytest.mark.parametrize("content", [b"not a database\n", b"",
                                     b"SQLite format 3\x00" + b"\xff" * 600])
def test_broken_state_store_fails_closed(scene, content):
    scene.state_dir.mkdir()
    (scene.state_dir / "state.db").write_bytes(content)
    reason = scene.run("alice").account_error(PAM_SYSTEM_ERR)
    assert "state store" in reason


@pytest.mark.timeout(30)
def test_state_store_that_is_a_directory_fails_closed(scene):
    (scene.state_dir / "state.db").mkdir(parents=True)
    r = scene.run("alice")
    assert r.code() == PAM_SYSTEM_ERR, r
    assert "not a regular file" in r.event("pam.account")["reason"]


# -- account: the policy -------------------------------------------------------

@pytest.mark.timeout(120)
@pytest.mark.parametrize("broken", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_policy_fails_closed(scene, broken):
    """Every policy bastiond --check refuses, the module refuses too: no
    crash, a logged reason naming the file and its first problem."""
    scene.service(account="policy=%s" % broken)
    r = scene.run("alice")
    reason = r.account_error(PAM_SYSTEM_ERR)
    assert str(broken) in reason
    assert "bastiond -f %s --check" % broken in reason
    assert any("pam_bastion(%s:account)" % SERVICE in line and
               "AUDIT" not in line for line in r.syslog), r


@pytest.mark.timeout(30)
@pytest.mark.parametrize("what", ["missing", "directory", "garbage"])
def test_unreadable_policy_fails_closed(scene, what):
    p = scene.dir / "bad-policy.yaml"
    if what == "directory":
        p.mkdir()
    elif what == "garbage":
        p.write_bytes(b"\x00\x01version: [[[\n")
    scene.service(account="policy=%s" % p)
    r = scene.run("alice")
    assert r.code() == PAM_SYSTEM_ERR, r
    assert r.event("pam.account")["result"] == "error"


@pytest.mark.timeout(30)
def test_default_policy_path(scene):
    """Without policy= the module reads /etc/bastion/policy.yaml."""
    scene.service(account="")
    r = scene.run("alice")
    e = r.event("pam.account")
    assert e["policy"] == "/etc/bastion/policy.yaml"
    if not os.path.exists("/etc/bastion/policy.yaml"):
        assert r.code() == PAM_SYSTEM_ERR, r
        assert "/etc/bastion/policy.yaml" in e["reason"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("args", [
    "polcy={policy}",
    "policy=relative/policy.yaml",
    "policy={policy} debgu",
    "policy={policy} hours=acme",
    "policy={policy} [hours=acme:mon-fri 8:00-18:00]",
    "policy={policy} [hours=Acme:mon-fri 08:00-18:00]",
    "policy={policy} [hours=acme:weekdays 08:00-18:00]",
])
def test_bad_arguments_fail_closed(scene, args):
    scene.service(account=args)
    reason = scene.run("alice").account_error(PAM_SERVICE_ERR)
    assert "argument" in reason


@pytest.mark.timeout(30)
def test_debug_argument(scene):
    scene.service(account="policy={policy} debug")
    r = scene.run("alice")
    assert r.ok(), r
    assert any("account of alice: Success" in line for line in r.syslog), r
    scene.service(account="policy={policy}")
    r = scene.run("alice")
    assert not any("account of alice" in line for line in r.syslog), r


# -- account: allowed hours ----------------------------------------------------

def hhmm(t):
    return t.strftime("%H:%M")


def daily_window(start, end):
    return "daily %s-%s" % (hhmm(start), hhmm(end))


@pytest.fixture
def now_utc():
    """The current UTC time, away from midnight so that a test does not
    straddle a change of day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if now.hour == 23 and now.minute >= 55 or now.hour == 0 and \
            now.minute < 2:
        pytest.skip("too close to midnight UTC for a day-based window")
    return now


UTC = {"TZ": "UTC0"}


@pytest.mark.timeout(30)
def test_inside_allowed_hours(scene, now_utc):
    h = datetime.timedelta(hours=1)
    scene.service(account="policy={policy} [hours=acme:%s]"
                  % daily_window(now_utc - h, now_utc + h))
    r = scene.run("alice", env=UTC)
    assert r.ok(), r


@pytest.mark.timeout(30)
def test_outside_allowed_hours(scene, now_utc):
    h = datetime.timedelta(hours=1)
    scene.service(account="policy={policy} [hours=acme:%s]"
                  % daily_window(now_utc + 2 * h, now_utc + 3 * h))
    r = scene.run("alice", env=UTC)
    assert r.code() == PAM_PERM_DENIED, r
    e = r.event("pam.account")
    assert e["result"] == "refused"
    assert "outside the allowed hours of vendor acme" in e["reason"]
    # another vendor's engineer has no rule: unrestricted
    assert scene.run("gina", env=UTC).ok()


@pytest.mark.timeout(30)
def test_allowed_days(scene, now_utc):
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    today = days[now_utc.weekday()]
    tomorrow = days[(now_utc.weekday() + 1) % 7]
    scene.service(account="policy={policy} "
                  "[hours=acme:%s 00:00-24:00]" % tomorrow)
    assert scene.run("alice", env=UTC).code() == PAM_PERM_DENIED
    scene.service(account="policy={policy} [hours=acme:%s 00:00-24:00] "
                  "[hours=acme:%s 00:00-24:00]" % (tomorrow, today))
    assert scene.run("alice", env=UTC).ok()


@pytest.mark.timeout(30)
def test_default_hours_rule(scene, now_utc):
    """'*' applies to vendors without their own rule, and never to admins
    or auditors."""
    h = datetime.timedelta(hours=1)
    outside = daily_window(now_utc + 2 * h, now_utc + 3 * h)
    inside = daily_window(now_utc - h, now_utc + h)
    scene.service(account="policy={policy} [hours=*:%s] [hours=acme:%s]"
                  % (outside, inside))
    assert scene.run("alice", env=UTC).ok()
    r = scene.run("gina", env=UTC)
    assert r.code() == PAM_PERM_DENIED, r
    assert "vendor globex" in r.event("pam.account")["reason"]
    assert scene.run("bob", env=UTC).ok()
    assert scene.run("carol", env=UTC).ok()


@pytest.mark.timeout(30)
def test_hours_are_local_time(scene, now_utc):
    """The window is read in the host's time zone, as the policy's."""
    tokyo = now_utc + datetime.timedelta(hours=9)
    m = datetime.timedelta(minutes=30)
    scene.service(account="policy={policy} [hours=acme:%s]"
                  % daily_window(tokyo - m, tokyo + m))
    assert scene.run("alice", env={"TZ": "JST-9"}).ok()
    assert scene.run("alice", env=UTC).code() == PAM_PERM_DENIED


# -- session ------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_session_open_close_are_audited(scene):
    r = scene.run("alice", "acct", "open", "close", tty="pts/3")
    assert r.steps == ["acct OK", "open OK", "close OK"], r
    acct = r.event("pam.account")
    opened = r.event("pam.session_open")
    closed = r.event("pam.session_close")
    for e in (opened, closed):
        assert e["result"] == "ok"
        assert e["user"] == "alice"
        assert e["from"] == "203.0.113.7"
        assert e["tty"] == "pts/3"
        assert e["service"] == SERVICE
        # one login, one id: account and session events tie together
        assert e["pam_id"] == acct["pam_id"]
    assert re.fullmatch(r"[0-9a-f]{16}", acct["pam_id"])
    assert re.fullmatch(r"\d+", closed["duration"])
    assert [line for line in r.syslog if "AUDIT" in line][1].startswith(
        "<%d> pam_bastion(%s:session): AUDIT ts=" % (
            (10 << 3) | 5, SERVICE)), r   # LOG_AUTHPRIV | LOG_NOTICE


@pytest.mark.timeout(30)
def test_session_ids_differ_between_logins(scene):
    a = scene.run("alice", "open").event("pam.session_open")["pam_id"]
    b = scene.run("alice", "open").event("pam.session_open")["pam_id"]
    assert a != b


@pytest.mark.timeout(30)
def test_session_without_account_part(scene):
    """Only the session lines: the events are still written."""
    scene.service(account=None)
    r = scene.run("gina", "open", "close", rhost=None, tty=None)
    assert r.steps == ["open OK", "close OK"], r
    assert r.event("pam.session_open")["from"] == "-"
    assert r.event("pam.session_close")["user"] == "gina"


@pytest.mark.timeout(30)
def test_session_does_not_read_the_policy(scene):
    """The session part only records; the account part is the gate (a
    broken policy refuses there, and the session events still come)."""
    scene.service(account="policy=%s" % BROKEN[0],
                  session="policy=%s" % BROKEN[0])
    r = scene.run("alice", "open", "close")
    assert r.steps == ["open OK", "close OK"], r


@pytest.mark.timeout(30)
def test_session_bad_arguments(scene):
    scene.service(session="policy={policy} bogus")
    r = scene.run("alice", "open", "close")
    assert r.code("open") == PAM_SESSION_ERR, r
    assert r.code("close") == PAM_SESSION_ERR, r
    assert r.event("pam.session_open")["result"] == "error"
    assert r.event("pam.session_close")["result"] == "error"


# -- the module file and the shipped service files -------------------------------

@pytest.mark.timeout(30)
def test_only_entry_points_are_exported(module_path):
    """-fvisibility=hidden and --exclude-libs: the layers inside the module
    must not interpose on the host's symbols (bastiond has its own
    policy_load)."""
    out = util.run(["nm", "-D", "--defined-only", module_path]).stdout
    names = sorted(line.split()[-1] for line in out.splitlines()
                   if line.split() and line.split()[-2] in "TDBRW")
    assert names == ["pam_sm_acct_mgmt", "pam_sm_close_session",
                     "pam_sm_open_session"], names


@pytest.mark.timeout(30)
def test_module_carries_only_the_layers_it_uses(module_path):
    """The module links base, policy and store only (Makefile PAM_LAYERS),
    and the linker takes from them what it calls: no admin verb, monitor
    pipe, control socket, recording or bastiond code is loaded into sshd."""
    out = util.run(["nm", module_path]).stdout
    names = {line.split()[-1] for line in out.splitlines()
             if len(line.split()) == 3 and line.split()[1] in "tT"}
    assert "policy_load" in names and "locks_check" in names, sorted(names)
    foreign = sorted(n for n in names if n.startswith(
        ("appr_", "mon_", "ctlp_", "rec_", "agent_", "sess_", "relay_",
         "listener_", "monitor_")))
    assert foreign == [], foreign


def _service_lines(path):
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line.split())
    return out


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["bastion", "bastion.sss"])
def test_shipped_service_files_use_the_module(name):
    lines = _service_lines(REPO / "pam" / name)
    types = {t for t, *_ in lines}
    assert types <= {"auth", "account", "session", "password"}, lines
    for kind in ("account", "session"):
        mine = [rest for t, *rest in lines if t == kind and
                any(w.endswith("pam_bastion.so") for w in rest)]
        assert mine, "%s has no %s line with pam_bastion.so" % (name, kind)
    # the account check must be able to refuse: required or requisite
    acct = [rest for t, *rest in lines if t == "account" and
            any(w.endswith("pam_bastion.so") for w in rest)]
    assert acct[0][0] in ("required", "requisite"), acct


@pytest.mark.timeout(30)
def test_shipped_service_file_runs(scene):
    """pam/bastion as shipped (with the module's path and policy filled
    in), for the account running the tests: pam_faillock, pam_unix and
    pam_bastion all agree, and the session part writes its events."""
    me = util.current_user()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", me):
        pytest.skip("login name %r is not a policy name" % me)
    doc = scene.policy_doc()
    doc["admins"].append({"name": me, "keys": [util.keygen(
        scene.dir / "keys" / "me", comment=me)]})
    scene.policy.write_text(yaml.safe_dump(doc, sort_keys=False))
    text = (REPO / "pam" / "bastion").read_text()
    text = re.sub(r"(?m)^(\S+\s+\S+\s+)pam_bastion\.so\b(.*)$",
                  lambda m: "%s%s%s policy=%s" % (
                      m.group(1), scene.module, m.group(2), scene.policy),
                  text)
    (scene.confdir / "shipped").write_text(text)
    r = scene.run(me, "acct", "open", "close", service="shipped")
    if r.steps[0].startswith("acct FAIL") and "pam_bastion" not in \
            "".join(r.syslog):
        pytest.skip("the system's pam_unix refuses %s here: %r" % (me, r))
    assert r.steps == ["acct OK", "open OK", "close OK"], r
    assert r.event("pam.account")["role"] == "admin"
    r = scene.run("dave", "acct", service="shipped")
    assert r.returncode == 1, r
