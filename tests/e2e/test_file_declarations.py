"""Files in the work record, and open declarations (issue 18, item 6;
docs/FILES.md "Work record and declarations"), with real OpenSSH sftp and
ssh against the real bastiond and a real sshd device.

With `work_record: true`, every file that crosses the airlock opens its
session's declaration in the state store. A session without a terminal
(sftp) cannot be asked: its declaration stays open, the engineer's next
interactive session greets them with it and its work record lists the
files and asks whether any held personal data and whether that was
erased (session.file_declaration); or the engineer answers later with
`ssh ENGINEER@bastion declare SESSION personal=...`. The monthly report
counts the files moved and lists the declarations still open.
"""

import json
import os
import re
import subprocess

import pexpect
import pytest

from harness import util

from test_privsep import selftest
from test_sftp_airlock import sha, start, wait_transfer
from test_work_record import QUESTION

FILES_Q = r"Did any of the files listed above hold personal \(patient\) " \
    r"data\? \[y/n\] "
ERASED_Q = r"Has that data been erased on your side\? \[y/n/later\] "


@pytest.fixture
def decl_site(cast):
    """The standard site with work_record: true, bastion started."""
    world, p = cast
    world.top["work_record"] = True
    return start((world, p))


def upload(world, person, tmp_path, name="fw.img", size=30000):
    """An sftp put of size random bytes to ct-scanner (no terminal): its
    session number, the path on the device and the bytes."""
    data = os.urandom(size)
    src = tmp_path / ("src-" + name)
    src.write_bytes(data)
    dest = tmp_path / name
    r = person.sftp("put %s %s\nbye\n" % (src, dest), "ct-scanner")
    assert r.returncode == 0, r.stderr
    ev = wait_transfer(world, direction="in", path=str(dest))
    assert ev["result"] == "ok" and ev["sha256"] == sha(data)
    world.bastion.wait_audit(event="session.end", session=ev["session"])
    return ev["session"], dest, data


def report(world, bastionctl, *args):
    r = bastionctl(world, "report", *args)
    assert r.returncode in (0, 1), r.stderr       # 1: a live recording
    return r


def open_declarations(world, bastionctl):
    doc = json.loads(report(world, bastionctl, "--json").stdout)
    return doc["files"]["open_declarations"], doc


def declare(person, *words):
    return person.ssh("declare", *words)


def at_files_question(person):
    """person's shell on ct-scanner ended, the session's own question
    answered "n": the pexpect child at the files' question."""
    child = person.spawn("ct-scanner", timeout=20)
    child.expect(r"session (\d+): ct-scanner")
    child.sendline("exit")
    child.expect(QUESTION)
    child.send("n\r")
    child.expect(FILES_Q)
    return child


def test_interactive_session_lists_the_sftp_files_and_answers(
        decl_site, tmp_path, bastionctl, build_dir):
    world, p = decl_site
    sid, dest, data = upload(world, p["alice"], tmp_path)
    child = p["alice"].spawn("ct-scanner", timeout=20)
    child.expect(r"session (\d+): ct-scanner")
    pty_sid = child.match.group(1)
    child.expect("you have 1 open file declaration: ssh alice@bastion "
                 "declare")
    child.sendline("exit")
    child.expect("Files you moved through the bastion that wait for a "
                 r"declaration \(1 file\(s\)\):")
    child.expect(r"session %s on ct-scanner, 1 file\(s\):" % sid)
    child.expect(r"in\s+%s, %d bytes, sha256 %s\.\.\." % (
        re.escape(str(dest)), len(data), sha(data)[:16]))
    child.expect(QUESTION)
    child.send("n\r")
    child.expect("work record saved: no personal information accessed")
    child.expect(FILES_Q)
    child.send("maybe\r")
    child.expect("Please answer y or n: ")
    child.send("y\r")
    child.expect(ERASED_Q)
    child.send("y\r")
    child.expect(r"file declaration saved: personal data, erased \(1 "
                 r"session\(s\) closed\)")
    child.expect(pexpect.EOF)
    ev = world.bastion.wait_audit(event="session.file_declaration",
                                  session=sid)
    assert ev["personal"] == "yes" and ev["erased"] == "yes", ev
    assert ev["result"] == "closed" and ev["via"] == "work_record", ev
    assert ev["answered_in"] == pty_sid and ev["user"] == "alice", ev
    assert ev["files"] == "1" and ev["device"] == "ct-scanner", ev
    # nothing open any more; the files still counted in the month
    decls, doc = open_declarations(world, bastionctl)
    assert decls == [], decls
    moved = doc["files"]["moved"]
    assert {"vendor": "acme", "direction": "in", "files": 1,
            "bytes": len(data), "refused": 0} in moved, moved
    # the answer is in the interactive session's recording too
    rec = world.bastion.wait_audit(event="session.recording",
                                   session=pty_sid)
    world.bastion.wait_audit(event="session.end", session=pty_sid)
    util_replay = subprocess.run(
        [str(build_dir / "bastion-replay"), "--text", "-k",
         str(world.bastion.state_dir / "recorder.key.pub"), rec["path"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60)
    assert "file.declaration: personal=yes; erased=yes; closed=1; open=0" \
        in util_replay.stdout, util_replay.stdout + util_replay.stderr


def test_many_files_listed_as_far_as_they_fit(decl_site, tmp_path):
    """40 files of one sftp session: the work record lists them line by
    line, as many as the store's list holds, then how many more."""
    world, p = decl_site
    names = ["file-with-a-long-name-%02d.bin" % i for i in range(40)]
    for n in names:
        (tmp_path / ("src-" + n)).write_bytes(n.encode())
    r = p["alice"].sftp("".join("put %s %s\n" % (tmp_path / ("src-" + n),
                                                  tmp_path / n)
                                for n in names) + "bye\n", "ct-scanner")
    assert r.returncode == 0, r.stderr
    util.wait_until(lambda: len(world.bastion.audit_events(
        event="file.transfer", direction="in")) == 40, 20,
        what="40 file.transfer events")
    child = p["alice"].spawn("ct-scanner", timeout=20)
    child.expect(r"session (\d+): ct-scanner")
    child.sendline("exit")
    child.expect(r"wait for a declaration \(40 file\(s\)\):")
    child.expect(r"session \d+ on ct-scanner, 40 file\(s\):")
    child.expect(r"in\s+%s, %d bytes" % (re.escape(str(tmp_path / names[0])),
                                         len(names[0])))
    child.expect(r"\.\.\. and (\d+) more\r\n")
    more = int(child.match.group(1))
    assert 0 < more < 40, more
    shown = child.before
    assert str(tmp_path / names[39 - more]) in shown, shown
    child.expect(QUESTION)
    child.send("n\r")
    child.expect(FILES_Q)
    child.send("n\r")
    child.expect(r"file declaration saved: no personal data \(1 "
                 r"session\(s\) closed\)")
    child.expect(pexpect.EOF)


def test_erasure_later_stays_open_until_declared(decl_site, tmp_path,
                                                 bastionctl):
    world, p = decl_site
    sid, dest, data = upload(world, p["alice"], tmp_path)
    child = at_files_question(p["alice"])
    child.send("y\r")
    child.expect(ERASED_Q)
    child.send("later\r")
    child.expect("it stays open until the data is erased")
    child.expect(pexpect.EOF)
    ev = world.bastion.wait_audit(event="session.file_declaration",
                                  session=sid)
    assert ev["erased"] == "pending" and ev["result"] == "open", ev
    decls, _ = open_declarations(world, bastionctl)
    assert [(d["session"], d["erased"]) for d in decls] == \
        [(int(sid), "pending")], decls
    r = declare(p["alice"], sid, "personal=yes", "erased=yes")
    assert r.returncode == 0, r.stderr
    assert "the declaration is closed" in r.stdout, r.stdout
    decls, _ = open_declarations(world, bastionctl)
    assert decls == []


@pytest.mark.parametrize("how", ["ctrl-c", "timeout"])
def test_no_answer_for_the_files_leaves_them_open(cast, tmp_path,
                                                  bastionctl, how):
    world, p = cast
    world.top["work_record"] = True
    if how == "timeout":
        world.limits["idle_timeout"] = 4     # the answer waits no longer
        world.limits["idle_warning"] = 2
    world, p = start((world, p))
    sid, _, _ = upload(world, p["alice"], tmp_path)
    child = at_files_question(p["alice"])
    if how == "ctrl-c":
        child.send("\x03")
    else:
        child.expect("no answer within 4 seconds")
    child.expect("the file declarations stay open: ssh alice@bastion "
                 "declare")
    child.expect(pexpect.EOF)
    decls, _ = open_declarations(world, bastionctl)
    assert [(d["session"], d["personal"]) for d in decls] == \
        [(int(sid), "")], decls
    assert not world.bastion.audit_events(event="session.file_declaration")


def test_sftp_only_session_leaves_an_open_declaration_closed_by_declare(
        decl_site, tmp_path, bastionctl):
    world, p = decl_site
    sid, dest, data = upload(world, p["alice"], tmp_path, size=4096)
    decls, doc = open_declarations(world, bastionctl)
    assert len(decls) == 1, decls
    d = decls[0]
    assert d["session"] == int(sid) and d["engineer"] == "alice", d
    assert d["vendor"] == "acme" and d["device"] == "ct-scanner", d
    assert d["files"] == 1 and d["bytes"] == 4096, d
    assert str(dest) in d["list"] and sha(data)[:16] in d["list"], d
    # the text report and the CSV say the same
    text = report(world, bastionctl).stdout
    assert "Open file declarations" in text
    assert re.search(r"session %s: alice \(acme\) on ct-scanner, since .*: "
                     r"1 file\(s\), 4096 bytes" % sid, text), text
    csv = report(world, bastionctl, "--csv").stdout
    row = [l for l in csv.splitlines() if l.startswith('"%s"' % sid)
           or l.startswith('\ufeff"%s"' % sid)]
    assert row and '"in 1 (4096 bytes); out 0 (0 bytes)","open since' in \
        row[0], csv
    # the engineer's list, then the answer
    r = declare(p["alice"])
    assert r.returncode == 0, r.stderr
    assert "session %s on ct-scanner" % sid in r.stdout, r.stdout
    assert str(dest) in r.stdout, r.stdout
    r = declare(p["alice"], sid, "personal=no")
    assert r.returncode == 0, r.stderr
    assert "session %s: declared (personal=no); the declaration is " \
        "closed" % sid in r.stdout, r.stdout
    ev = world.bastion.wait_audit(event="session.file_declaration",
                                  session=sid, via="declare")
    assert ev["personal"] == "no" and ev["result"] == "closed", ev
    decls, _ = open_declarations(world, bastionctl)
    assert decls == []
    assert "You have no open file declarations." in \
        declare(p["alice"]).stdout
    # a second answer is refused: it is closed
    r = declare(p["alice"], sid, "personal=no")
    assert r.returncode != 0
    assert "already closed" in r.stderr, r.stderr


def test_another_engineer_cannot_declare(decl_site, tmp_path, bastionctl):
    world, p = decl_site
    sid, _, _ = upload(world, p["alice"], tmp_path)
    r = declare(p["gina"], sid, "personal=no")
    assert r.returncode != 0
    assert "session %s has no file declaration of yours" % sid in r.stderr, \
        r.stderr
    ev = world.bastion.wait_audit(event="session.file_declaration",
                                  session=sid, result="refused")
    assert ev["user"] == "gina", ev
    assert ev["reason"] == "another engineer's session", ev
    assert ev["vendor"] == "-" and ev["device"] == "-", ev  # nothing shown
    decls, _ = open_declarations(world, bastionctl)
    assert [d["session"] for d in decls] == [int(sid)]
    # and gina's own list does not show it
    assert "You have no open file declarations." in \
        declare(p["gina"]).stdout


@pytest.mark.parametrize("words,why", [
    (["abc", "personal=no"], 'declare: "abc" is not a session number'),
    (["{sid}", "personal=maybe"], "personal= must be yes or no"),
    (["{sid}", "personal=yes"], "personal=yes needs erased=yes, erased=no "
     "or erased=pending"),
    (["{sid}", "personal=no", "erased=yes"],
     "erased= goes only with personal=yes"),
    (["{sid}", "personal=no", "personal=no"], "personal given twice"),
    (["{sid}", "secret=1"], '"secret=1" is not personal= or erased='),
    (["{sid}"], "personal= must be yes or no"),
])
def test_bad_input_gets_a_clear_error(decl_site, tmp_path, bastionctl,
                                      words, why):
    world, p = decl_site
    sid, _, _ = upload(world, p["alice"], tmp_path)
    r = declare(p["alice"], *[w.format(sid=sid) for w in words])
    assert r.returncode != 0
    assert why in r.stderr, r.stderr
    decls, _ = open_declarations(world, bastionctl)
    assert [d["session"] for d in decls] == [int(sid)]      # unchanged


@pytest.fixture
def decl_hooked(cast, build_dir):
    """decl_site on bastiond-testhooks with the privsep hook on
    (test_privsep.py)."""
    world, p = cast
    world.top["work_record"] = True
    world.bastion.binary = build_dir / "bastiond-testhooks"
    world.start_bastion(extra_env={"BASTION_PRIVSEP_SELFTEST": "1"})
    return world, p


def test_child_cannot_answer_what_the_monitor_did_not_list(decl_hooked,
                                                           tmp_path,
                                                           bastionctl):
    """A (compromised) child that hands the monitor an answer without the
    work record's listing is killed, and nothing is answered."""
    world, p = decl_hooked
    sid, _, _ = upload(world, p["alice"], tmp_path)
    r, hsid = selftest(world, p["alice"], "decl-answer", "x")
    assert r.returncode != 0
    world.bastion.wait_log(r"privsep selftest: answering file declarations")
    v = world.bastion.wait_audit(event="monitor.violation", session=hsid)
    assert v["request"] == "decl", v
    assert v["reason"] == "nothing listed to answer", v
    assert "privsep selftest: declarations answered" not in \
        world.bastion.log()
    assert not world.bastion.audit_events(event="session.file_declaration")
    decls, _ = open_declarations(world, bastionctl)
    assert [(d["session"], d["personal"]) for d in decls] == \
        [(int(sid), "")], decls
