"""Tables people can read (issue 15, item 5).

Every table an admin or auditor gets, from real sessions on a site whose
names and descriptions are partly Japanese: `requests`, `grants`,
`sessions` and `vendors` (the admin console, the same code as bastionctl),
the auditor's `recordings`, bastionctl's `report`, and the header of
`bastion-replay --text`. For each:

- every line is under 100 display columns (a CJK character takes two),
  unless --wide was asked for, which cuts nothing;
- the newest comes first;
- each row's fields start in the column of their heading, measured in
  display columns, however wide the characters before them;
- no line ends in a blank, and the output ends with a newline.

And the particular complaints: `recordings` has STATUS and DURATION
columns; the report's work record reads as words, not key=value, and a
session still running is "live" with exit 0; the replay header says how a
session that ran on a grant was let in; `vendors` says the touch is not
checked for the plain keys a vendor allows.
"""

import json
import os
import re
import subprocess
import time
import unicodedata

import pytest

from harness import util
from harness.client import Person, add_site_people

# test_audit.py's helpers (the chain, finished sessions)
from test_audit import append_chain, approved_session, chain_path, \
    finished_session, wait_sealed

WIDTH = 99

CT_DESC = "CTスキャナ — 放射線科 CT室2 (東病棟)"
PACS_DESC = "画像保管サーバ PACS、サーバ室B"
YAMADA = "山田 太郎"
REASON = "チケット4711: 検出器ボードの交換 replace detector board"


# -- measuring what a terminal shows --------------------------------------------

def cwidth(c):
    if unicodedata.combining(c) or c in "\u200b\u200c\u200d\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(c) in "WF" else 1


def dwidth(s):
    return sum(cwidth(c) for c in s)


def columns(line):
    """Map display column -> (index of the char starting there) for line;
    a column inside a wide character maps to None."""
    m = {}
    col = 0
    for i, c in enumerate(line):
        w = cwidth(c)
        if w == 0:
            continue
        m[col] = i
        for k in range(1, w):
            m[col + k] = None
        col += w
    return m


def heading_starts(header):
    """Display columns where the header's fields start (2+ blanks apart;
    headings themselves have single blanks, "START (UTC)")."""
    starts, col, prev_blank = [], 0, 2
    for c in header:
        if c != " " and prev_blank >= 2:
            starts.append(col)
        prev_blank = prev_blank + 1 if c == " " else 0
        col += cwidth(c)
    return starts


def check_table(lines, width=WIDTH):
    """lines[0] is the header. Every row's fields start under their
    headings (by display width); lines within width (0: no limit); no
    trailing blanks."""
    assert lines, "no table"
    starts = heading_starts(lines[0])
    assert len(starts) >= 2, lines[0]
    for ln in lines:
        assert ln == ln.rstrip(), "trailing blank: %r" % ln
        if width:
            assert dwidth(ln) <= width, "%d columns: %s" % (dwidth(ln), ln)
        m = columns(ln)
        for s in starts:
            assert s in m and m[s] is not None, \
                "column %d inside a character: %s\n%s" % (s, ln, lines[0])
            i = m[s]
            assert ln[i] != " ", "nothing starts at column %d: %r\n%r" % (
                s, ln, lines[0])
            if s > 0:
                assert ln[i - 1] == " " and (i < 2 or ln[i - 2] == " "), \
                    "field at column %d not aligned: %r\n%r" % (
                        s, ln, lines[0])


def block(text, header_prefix, stop=lambda ln: ln.strip() == ""):
    """The table whose header line starts with header_prefix: it and the
    rows after it, up to a blank line (or stop(line))."""
    lines = text.split("\n")
    for k, ln in enumerate(lines):
        if ln.startswith(header_prefix):
            out = [ln]
            for row in lines[k + 1:]:
                if stop(row) or row.strip() == "":
                    break
                out.append(row)
            return out
    raise AssertionError("no %r table in:\n%s" % (header_prefix, text))


def check_output(text, width=WIDTH):
    """The whole output: a newline at the end, every line within width,
    none ends in a blank."""
    assert text.endswith("\n"), repr(text[-200:])
    for ln in text.split("\n"):
        assert ln == ln.rstrip(), "trailing blank: %r" % ln
        if width:
            assert dwidth(ln) <= width, "%d columns: %s" % (dwidth(ln), ln)


# -- the site -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def scene(module_cast):
    """The scene the tests of this module read (one per module: it takes
    seconds to build)."""
    world, p = module_cast
    yield from build_scene(world, p, world.softsk)


@pytest.fixture
def own_scene(cast, softsk):
    """The scene, for a test that changes it."""
    world, p = cast
    yield from build_scene(world, p, softsk)


def build_scene(world, p, softsk):
    """The standard cast plus a vendor allowing plain keys (taro, an
    ed25519 key), Japanese descriptions and names, approval on globex;
    sessions: alice twice on ct-scanner, gina on pacs by request, then on
    the grant it gave; alice live at the end. Yields the scene (a dict),
    then ends alice's live session."""
    world.vendors["acme"]["description"] = "アクメ医療機器 株式会社"
    world.device_entries["ct-scanner"]["description"] = CT_DESC
    world.device_entries["pacs"]["description"] = PACS_DESC
    world.vendors["acme"]["engineers"][0]["full_name"] = YAMADA
    world.vendors["globex"]["approval"] = {"required": True}
    world.add_vendor("tokyo", segment=3, allow_non_sk_keys=True,
                     description="東京メンテナンス")
    world.add_device("tokyo", "mri", host=10,
                     description="MRI 装置 — 地下1階 MRI室")
    taro = Person(world, softsk, "taro", "s3cret-taro", key_type="ed25519")
    world.add_engineer("tokyo", "taro", taro.public_key(),
                       secret="s3cret-taro", full_name="鈴木 花子")
    p["taro"] = taro
    world.start_bastion()
    s = {"world": world, "p": p}
    s["alice1"] = finished_session(world, p["alice"], "ct-scanner",
                                   "echo one")
    s["alice2"] = finished_session(world, p["alice"], "ct-scanner",
                                   "echo two")
    # gina asks (a Japanese reason), bob approves: a request, then a grant
    s["request"] = approved_session(world, p, "'%s'" % REASON)
    s["gina_req"] = world.bastion.wait_audit(event="session.end",
                                             user="gina")["session"]
    s["gina_grant"] = finished_session(world, p["gina"], "pacs", "echo g2")
    s["grant"] = world.bastion.wait_audit(
        event="approval.grant_used", user="gina")["grant"]
    s["gina_req_rec"] = world.bastion.wait_audit(
        event="session.recording", session=s["gina_req"])["recording"]
    for sid, rec in (s["alice1"], s["alice2"], s["gina_grant"],
                     (s["gina_req"], s["gina_req_rec"])):
        wait_sealed(world, rec)
    # a work record for alice's second session, as the relay writes it
    start = world.bastion.audit_events(event="session.start",
                                       session=s["alice2"][0])[0]
    append_chain(world, "ts=%s event=session.work_record pid=%s session=%s "
                 "user=alice personal_info=yes records=\"PID-1234, "
                 "PID-987, 患者番号-55\"" % (start["ts"], start["pid"],
                                          s["alice2"][0]))
    # alice, live
    n = len(world.bastion.audit_events(event="session.recording"))
    live = p["alice"].popen("ct-scanner", "echo started; sleep 120",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ev = world.bastion.wait_audit(event="session.recording", after=n,
                                  alive=live, timeout=20)
    s["live"] = (ev["session"], ev["recording"])
    world.bastion.wait_log(r"session %s: \S+ \(\S+\) on \S+ registered"
                           % ev["session"], timeout=10)
    yield s
    os.killpg(live.pid, 15)
    live.communicate(timeout=20)


def bastionctl(build_dir, world, *args):
    return subprocess.run(
        [str(build_dir / "bastionctl"), "-f", str(world.bastion.policy_path)]
        + [str(a) for a in args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, timeout=60)


def ids(lines):
    return [int(ln.split()[0]) for ln in lines[1:]]


# -- the admin's tables ---------------------------------------------------------------

def test_admin_tables(scene, build_dir):
    world, p = scene["world"], scene["p"]
    bob = p["bob"]

    r = bob.ssh("requests", "--all")
    assert r.returncode == 0, r.stderr
    check_output(r.stdout)
    t = block(r.stdout, "ID  ")
    check_table(t)
    row = [ln for ln in t if ln.startswith(scene["request"] + " ")][0]
    assert "approved" in row and "gina" in row and "bob" in row
    assert "チケット4711" in row           # the reason, cut if it must be
    assert ids(t) == sorted(ids(t), reverse=True)

    g = bob.ssh("grants", "--all")
    assert g.returncode == 0, g.stderr
    check_output(g.stdout)
    t = block(g.stdout, "ID  ")
    check_table(t)
    assert t[1].split()[:2] == [scene["grant"], scene["request"]]
    assert "live" in t[1]

    for args in (("sessions", "--all"), ("sessions",)):
        r = bob.ssh(*args)
        assert r.returncode == 0, r.stderr
        check_output(r.stdout)
        t = block(r.stdout, "SID  ")
        check_table(t)
        assert ids(t) == sorted(ids(t), reverse=True), r.stdout
        assert t[1].split()[0] == scene["live"][0]
        assert t[1].endswith("live")
    # all five sessions, newest first: live, gina twice, alice twice
    assert ids(block(bob.ssh("sessions", "--all").stdout, "SID  "))[:5] == \
        sorted([int(scene[k][0]) for k in ("live", "alice1", "alice2",
                                            "gina_grant")] +
               [int(scene["gina_req"])], reverse=True)

    # the same tables through bastionctl's control socket
    local = bastionctl(build_dir, world, "sessions", "--all")
    assert local.returncode == 0, local.stderr
    check_table(block(local.stdout, "SID  "))


def test_vendors_table(scene, build_dir):
    world, p = scene["world"], scene["p"]
    v = p["bob"].ssh("vendors")
    assert v.returncode == 0, v.stderr
    check_output(v.stdout)
    text = v.stdout
    # each vendor's devices and engineers, aligned with Japanese text
    for vendor in ("acme", "globex", "tokyo"):
        part = text.split("vendor %s:" % vendor)[1].split("\nvendor ")[0]
        devs = block(part, "  DEVICE", stop=lambda ln: ln.startswith(
            "  ENGINEER"))
        check_table(devs)
        engs = block(part, "  ENGINEER")
        check_table(engs)
    acme = text.split("vendor acme:")[1].split("\nvendor ")[0]
    assert "アクメ医療機器" in text.split("vendor acme:")[1].split("\n")[0]
    assert YAMADA in acme and "CTスキャナ" in acme
    # touch, said right for each kind of vendor
    keys = {}
    for vendor in ("acme", "tokyo"):
        part = text.split("vendor %s:" % vendor)[1]
        m = re.search(r"\n  keys +(.*(?:\n {13}\S.*)*)", part)
        assert m, part
        keys[vendor] = " ".join(m.group(1).split())
    assert keys["acme"].startswith("security keys only; touch required")
    assert keys["tokyo"].startswith("any registered key; touch required "
                                    "with a security key; plain keys cannot "
                                    "be touched, so not checked for them"), \
        keys["tokyo"]
    # --wide cuts nothing; the JSON is unchanged
    w = p["bob"].ssh("vendors", "--wide")
    assert w.returncode == 0 and CT_DESC in w.stdout, w.stdout
    js = json.loads(p["bob"].ssh("vendors", "--json").stdout)
    assert [x["name"] for x in js] == ["acme", "globex", "tokyo"]
    assert js[2]["allow_non_sk_keys"] is True


# -- the auditor's recordings -----------------------------------------------------------

def test_recordings_table(scene):
    p = scene["p"]
    r = p["carol"].ssh("recordings")
    assert r.returncode == 0, r.stderr
    check_output(r.stdout)
    t = block(r.stdout, "SESSION  ")
    assert re.split(r"  +", t[0])[:4] == ["SESSION", "START (UTC)", "DURATION",
                                    "STATUS"], t[0]
    check_table(t)
    rows = {ln.split()[0]: ln.split() for ln in t[1:]}
    # newest first, by start
    starts = [" ".join(ln.split()[1:3]) for ln in t[1:]]
    assert starts == sorted(starts, reverse=True), t
    assert t[1].split()[0] == scene["live"][0]
    # status and duration
    assert rows[scene["live"][0]][4] == "live"
    for k in ("alice1", "alice2", "gina_grant"):
        row = rows[scene[k][0]]
        assert row[4] == "sealed", row
        h, m, sec = row[3].split(":")
        assert int(h) == 0 and int(m) == 0 and 0 <= int(sec) < 30, row
    assert rows[scene["alice1"][0]][5:8] == ["alice", "acme", "ct-scanner"]
    # the recording ids with --wide; a filter still works
    w = p["carol"].ssh("recordings", "--wide", "--engineer", "gina")
    assert w.returncode == 0, w.stderr
    t = block(w.stdout, "SESSION  ")
    check_table(t, width=0)
    assert t[0].endswith("RECORDING")
    assert {ln.split()[-1] for ln in t[1:]} >= {scene["gina_grant"][1]}
    assert all(ln.split()[5] == "gina" for ln in t[1:])
    none = p["carol"].ssh("recordings", "--engineer", "nobody")
    assert none.returncode == 0 and none.stdout == "no recordings match\n"
    bad = p["carol"].ssh("recordings", "--engineer")
    assert bad.returncode != 0


# -- the report ---------------------------------------------------------------------------

def test_report_table_live_and_work_record(scene, build_dir):
    world = scene["world"]
    month = time.strftime("%Y-%m", time.gmtime())
    r = bastionctl(build_dir, world, "report", "--month", month)
    # a session still running is "live", not a problem
    assert r.returncode == 0, r.stdout + r.stderr
    check_output(r.stdout)
    t = block(r.stdout, "SID  ")
    check_table(t)
    assert ids(t) == sorted(ids(t), reverse=True)
    rows = {ln.split()[0]: ln for ln in t[1:]}
    live = rows[scene["live"][0]]
    assert " live " in live and live.endswith("live"), live
    assert "1 live" in r.stdout and "0 need attention" in r.stdout
    # the work record in words (PATIENT DATA), cut at a word if at all
    assert re.split(r"  +", t[0])[7] == "PATIENT DATA", t[0]
    a2 = rows[scene["alice2"][0]]
    assert "yes: PID-1234..." in a2 and "personal_info=" not in r.stdout
    assert "request %s" % scene["request"] in rows[scene["gina_req"]]
    assert "grant %s" % scene["grant"] in rows[scene["gina_grant"][0]]
    # each session in full below the table
    detail = r.stdout.split("Each session (newest first):")[1]
    assert "work record: patient data accessed; records: PID-1234, " \
        "PID-987, 患者番号-55" in " ".join(detail.split())
    assert "approval: request %s: bob" % scene["request"] in detail
    ct = "127.0.1.10:%d" % world.devices["ct-scanner"].port
    assert "alice (acme) from 127.0.0.1:" in detail and ct in detail
    assert "\n%s %s" % (scene["live"][0], month) in detail
    assert "still running" in detail
    j = json.loads(bastionctl(build_dir, world, "report", "--month", month,
                              "--json").stdout)
    s = {x["session"]: x for x in j["sessions"]}
    assert s[scene["live"][0]]["live"] is True
    assert s[scene["live"][0]]["recording_status"]["status"] == "live"
    assert s[scene["alice2"][0]]["work_record"]["personal_info"] == "yes"
    # --wide: nothing cut
    w = bastionctl(build_dir, world, "report", "--month", month, "--wide")
    assert w.returncode == 0
    check_table(block(w.stdout, "SID  "), width=0)
    assert "PID-1234, PID-987, 患者番号-55" in w.stdout


def test_report_exits_1_for_an_unsealed_recording_of_an_ended_session(
        own_scene, build_dir):
    """'live' needs the session to be running: the same recording of a
    session the store has ended is 'not sealed' and exit 1."""
    scene = own_scene
    world = scene["world"]
    month = time.strftime("%Y-%m", time.gmtime())
    start = world.bastion.audit_events(event="session.start",
                                       session=scene["live"][0])[0]
    append_chain(world, "ts=%s event=session.end pid=%s session=%s "
                 "user=alice seconds=1 reason=\"test: ended\""
                 % (start["ts"], start["pid"], scene["live"][0]))
    r = bastionctl(build_dir, world, "report", "--month", month)
    assert r.returncode == 1, r.stdout
    row = [ln for ln in block(r.stdout, "SID  ")
           if ln.startswith(scene["live"][0] + " ")][0]
    assert row.endswith("not sealed"), row


# -- the replay header ---------------------------------------------------------------------

def test_replay_header_says_how_the_session_was_let_in(scene, build_dir):
    world = scene["world"]
    replay = str(build_dir / "bastion-replay")
    pub = world.bastion.state_dir / "recorder.key.pub"
    sid, rec = scene["gina_grant"]
    path = [x for x in world.bastion.recordings_dir.rglob(rec + ".brec")][0]
    r = subprocess.run([replay, "--text", "-k", str(pub), "--audit",
                        str(chain_path(world)), str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    head = [ln for ln in r.stdout.splitlines() if ln.startswith("# device")]
    assert head, r.stdout
    assert "approval: grant %s, request %s approved by bob (audit chain " \
        "verified intact)" % (scene["grant"], scene["request"]) in head[0]
    assert "approval none" not in r.stdout
    # alice's needed none
    a = [x for x in world.bastion.recordings_dir.rglob(
        scene["alice1"][1] + ".brec")][0]
    r = subprocess.run([replay, "--text", "--audit", str(chain_path(world)),
                        str(a)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert "approval: not required (audit chain verified intact)" in \
        r.stdout, r.stdout
    # without the chain it does not pretend
    r = subprocess.run([replay, "--text", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert "approval: not stated in the recording" in r.stdout, r.stdout
    # the auditor console's replay, through the same program, asks the
    # bastion's own chain
    c = scene["p"]["carol"].ssh("replay", sid)
    assert c.returncode == 0, c.stderr
    assert "approval none" not in c.stdout
    assert "approval: grant %s, request %s approved by bob (audit chain " \
        "verified intact)" % (scene["grant"], scene["request"]) in \
        c.stdout, c.stdout
