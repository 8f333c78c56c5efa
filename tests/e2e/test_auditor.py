"""The auditor console over ssh: list, verify and replay recordings with the
same two factors as everyone else (issue 6, auditor part)."""

import re
import time


def finished_session(world, p, command):
    r = p["alice"].ssh("ct-scanner", command)
    assert r.returncode == 0, r.stderr
    world.bastion.wait_audit(event="session.end", user="alice")
    ev = world.bastion.wait_audit(event="session.recording", user="alice")
    return r, ev["recording"]


def test_auditor_lists_verifies_and_replays(site):
    world, p = site
    r, rec_id = finished_session(world, p, "echo audited-output-$((6*7))")
    p["gina"].ssh("pacs", "true")
    world.bastion.wait_audit(event="session.end", user="gina")

    sid = world.bastion.audit_events(event="session.recording",
                                     recording=rec_id)[0]["session"]
    # the session numbers by default (under 100 columns), the recording
    # ids too with --wide; verify and replay take either
    lst = p["carol"].ssh("recordings")
    assert lst.returncode == 0, lst.stderr
    assert "alice" in lst.stdout and "gina" in lst.stdout
    assert sid in [ln.split()[0] for ln in lst.stdout.splitlines()]
    lst = p["carol"].ssh("recordings", "--wide")
    assert rec_id in lst.stdout and "alice" in lst.stdout
    assert "gina" in lst.stdout
    only = p["carol"].ssh("recordings", "--wide", "--engineer", "alice")
    assert rec_id in only.stdout and "gina" not in only.stdout
    by_device = p["carol"].ssh("recordings", "--device", "pacs", "--wide")
    assert rec_id not in by_device.stdout and "gina" in by_device.stdout
    by_sid = p["carol"].ssh("verify", sid)
    assert by_sid.returncode == 0 and "sealed" in by_sid.stdout, by_sid

    v = p["carol"].ssh("verify", rec_id)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "sealed" in v.stdout

    t = p["carol"].ssh("replay", rec_id)
    assert t.returncode == 0, t.stderr
    assert "audited-output-42" in t.stdout
    assert "echo audited-output-$((6*7))" in t.stdout
    assert world.bastion.audit_events(event="console.verb", user="carol")


def test_auditor_console_refuses_unknown_and_engineers_cannot_use_it(site):
    world, p = site
    bad = p["carol"].ssh("rm", "-rf", "/")
    assert bad.returncode == 2 and "auditor console" in bad.stderr
    missing = p["carol"].ssh("verify", "no-such-recording")
    assert missing.returncode == 1 and "no recording" in missing.stderr
    # an engineer's "recordings" is a device name, not a verb
    eng = p["alice"].ssh("recordings")
    assert eng.returncode != 0 and "may not reach" in eng.stderr
