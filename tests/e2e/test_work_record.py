"""Work record (issue 6 item 5): with `work_record: true` in the policy, an
interactive session whose device shell has ended asks the engineer, on
their terminal and before their channel closes, whether personal (patient)
information was accessed and which records; the answer goes into the
recording (an EVENT frame before the seal) and the audit event
`session.work_record`. docs/APPROVALS.md, "Work record".
"""

import io
import subprocess

import pexpect
import pytest

QUESTION = r"Was personal \(patient\) information accessed during this " \
    r"session\? \[y/n\]"


def pubkey(world):
    return str(world.bastion.state_dir / "recorder.key.pub")


def transcript(world, build_dir, sid):
    rec = world.bastion.wait_audit(event="session.recording", session=sid)
    r = subprocess.run([str(build_dir / "bastion-replay"), "--text", "-k",
                        pubkey(world), rec["path"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    v = subprocess.run([str(build_dir / "bastion-verify"), "-k",
                        pubkey(world), rec["path"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr    # sealed, intact
    return r.stdout


def session(world, person, **kw):
    child = person.spawn("ct-scanner", timeout=20, **kw)
    child.expect(r"session (\d+): ct-scanner")
    return child, child.match.group(1)


@pytest.fixture
def wr_site(cast):
    world, p = cast
    world.top["work_record"] = True
    world.start_bastion()
    return world, p



def asked(world, person, command="exit"):
    """person's shell on ct-scanner, ended with command; returns (child,
    session number) once the question is asked."""
    child, sid = session(world, person)
    child.sendline(command)
    child.expect(QUESTION)
    return child, sid


def unanswered(world, reason, **match):
    """The work record matching **match (session=SID) says "unanswered",
    for reason."""
    ev = world.bastion.wait_audit(event="session.work_record", **match)
    assert ev["personal_info"] == "unanswered", ev
    assert ev["reason"] == reason, ev

def test_yes_with_records_is_recorded_and_audited(wr_site, build_dir):
    world, p = wr_site
    child, sid = session(world, p["alice"])
    child.sendline("echo working")
    child.expect("working")
    child.sendline("exit")
    child.expect(QUESTION)
    child.send("y\r")
    child.expect(r"Which records \(identifiers only, never the data; "
                 r"comma-separated\): ")
    # typing with a correction (backspace) and an arrow key (ignored)
    child.send("PID-1234, PID-98X\x7f7\x1b[D\r")
    child.expect("work record saved: personal information accessed, "
                 "records PID-1234, PID-987")
    child.expect(pexpect.EOF)
    ev = world.bastion.wait_audit(event="session.work_record", session=sid)
    assert ev["personal_info"] == "yes"
    assert ev["records"] == "PID-1234, PID-987"
    assert ev["user"] == "alice" and ev["device"] == "ct-scanner"
    assert ev.get("reason") in (None, "-")
    text = transcript(world, build_dir, sid)
    assert "event work.record: personal_info=yes; records=PID-1234, " \
        "PID-987" in text, text
    # the question came after the shell ended, before the session ended
    assert text.index("working") < text.index("work.record") < \
        text.index("session.end")


def test_no_after_a_wrong_answer(wr_site, build_dir):
    world, p = wr_site
    child, sid = asked(world, p["alice"], "exit 3")
    child.send("maybe\r")
    child.expect("Please answer y or n: ")
    child.send("N\r")
    child.expect("work record saved: no personal information accessed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3        # the device's status, after all
    ev = world.bastion.wait_audit(event="session.work_record", session=sid)
    assert ev["personal_info"] == "no" and ev.get("records") in (None, "-")
    assert "personal_info=no; records=-" in transcript(world, build_dir,
                                                        sid)


def test_no_answer_in_time_is_unanswered(cast):
    world, p = cast
    world.top["work_record"] = True
    world.limits["idle_timeout"] = 4     # the answer waits no longer
    world.limits["idle_warning"] = 2
    world.start_bastion()
    child, sid = asked(world, p["alice"])
    child.expect("no answer within 4 seconds; the work record says: not "
                 "answered")
    child.expect(pexpect.EOF)
    unanswered(world, "no answer within 4 seconds", session=sid)


def test_ctrl_c_declines(wr_site):
    world, p = wr_site
    child, sid = asked(world, p["alice"])
    child.send("\x03")
    child.expect("work record saved: not answered")
    child.expect(pexpect.EOF)
    unanswered(world, "the engineer declined to answer", session=sid)


def test_killed_while_asked_is_unanswered_with_the_reason(wr_site):
    world, p = wr_site
    child, sid = session(world, p["alice"])
    world.bastion.wait_log(r"session %s: \S+ \(\S+\) on \S+ registered"
                           % sid)
    child.sendline("exit")
    child.expect(QUESTION)
    k = p["bob"].ssh("kill", sid, "end of window")
    assert k.returncode == 0, k.stderr
    child.expect(r"session closed by an admin \(bob\): end of window")
    child.expect(pexpect.EOF)
    unanswered(world, "killed by an admin (bob): end of window", session=sid)


def test_exec_without_terminal_is_not_asked(wr_site):
    world, p = wr_site
    r = p["alice"].ssh("ct-scanner", "echo plain")
    assert r.returncode == 0 and r.stdout == "plain\n", r.stderr
    assert "personal" not in r.stdout + r.stderr
    unanswered(world, "not asked: the session had no terminal",
               user="alice")


def not_asked(world, person):
    """person's shell session ends without the question: nothing said,
    and no work record for it once the session has ended."""
    child, sid = session(world, person)
    seen = io.StringIO()
    child.logfile_read = seen
    child.sendline("exit")
    child.expect(pexpect.EOF)
    world.bastion.wait_audit(event="session.end", session=sid)
    assert "personal" not in seen.getvalue()
    assert not world.bastion.audit_events(event="session.work_record",
                                          session=sid)


def test_not_asked_when_the_policy_does_not_ask(site):
    world, p = site
    not_asked(world, p["alice"])


def test_vendor_overrides_the_hospital_rule(cast):
    """work_record per vendor: acme asked although the hospital-wide rule
    is off; globex not asked although a vendor-level false beats a
    hospital-wide true."""
    world, p = cast
    world.top["work_record"] = False
    world.vendors["acme"]["work_record"] = True
    world.start_bastion()
    child, sid = session(world, p["alice"])
    child.sendline("exit")
    child.expect("personal")
    child.sendline("n")
    child.expect(pexpect.EOF)
    ev = world.bastion.wait_audit(event="session.work_record", session=sid)
    assert ev["personal_info"] == "no"
    world.bastion.stop()
    world.top["work_record"] = True
    world.vendors["acme"]["work_record"] = False
    world.start_bastion()
    not_asked(world, p["alice"])
