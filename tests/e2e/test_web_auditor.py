"""The auditor's side of the web console over web.sock, without a browser
(docs/WEB.md): `recordings --json` with its filters, the month's report as
JSON and as CSV (UTF-8 with a BOM, CRLF, times with the offset of
web.time_zone) run for an auditor and refused to an admin, and the player's
`cast` of an encrypted recording (format 2), which goes only through the
audited unlock of `replay` (recordings: server_unlock) and otherwise says
to replay offline with the auditor's key.

The protocol, the software authenticator and the policy's web: section
are test_web_control.py's; the encrypted recordings test_recording_
encryption.py's.
"""

import csv
import io

import pytest

from test_recording_encryption import (MARKER, keys, server_identity,  # noqa: F401
                                       start, typed_session)
from test_web_control import (Authenticator, call, enrol,  # noqa: F401
                              enrol_locally, sign_in, token_of, web,
                              web_setup)


def auditor_token(world, bastionctl):
    """carol enrolled (her code from a local admin), signed in: her token."""
    tok, who = enrol_locally(world, bastionctl, "carol", Authenticator())
    assert who["role"] == "auditor"
    return tok


def as_json(tok):
    return [("token", tok), ("format", "json")]


@pytest.mark.timeout(240)
def test_recordings_and_report_as_json_and_csv(web, bastionctl):
    world, p = web
    r = p["alice"].ssh("ct-scanner", "echo listed-$((6*7))")
    assert r.returncode == 0, r.stderr
    end = world.bastion.wait_audit(event="session.end", user="alice",
                                   timeout=30)
    sid = end["session"]
    world.bastion.wait_audit(event="recording.sealed", timeout=30)
    tok = auditor_token(world, bastionctl)

    # recordings --json: one array, the header's fields, the seal found
    a = call(world, ["recordings", "--json"], as_json(tok))
    assert a.exit == 0, a.err
    rows = a.json()
    [row] = [x for x in rows if x["session"] == sid]
    assert row["engineer"] == "alice" and row["device"] == "ct-scanner"
    assert row["vendor"] == "acme" and row["status"] == "sealed"
    assert row["encrypted"] is False and isinstance(row["start"], int)
    assert row["start"] > 1700000000 and row["duration"] >= 0
    assert row["recording"] == end.get("recording", row["recording"])
    # the filters narrow it; a filter nothing matches gives []
    a = call(world, ["recordings", "--json", "--engineer", "alice",
                     "--device", "ct-scanner"], as_json(tok))
    assert [x["session"] for x in a.json()] == [sid]
    a = call(world, ["recordings", "--json", "--engineer", "gina"],
             as_json(tok))
    assert a.exit == 0 and a.json() == []
    world.bastion.wait_audit(event="console.verb", user="carol", via="web",
                             verb="recordings", status="ok")

    # the month's report as JSON: alice's session from the verified chain
    a = call(world, ["report", "--json"], as_json(tok))
    assert a.exit == 0, a.err
    rep = a.json()
    assert rep["audit_chain"]["status"] == "intact", rep["audit_chain"]
    [s] = [x for x in rep["sessions"] if x["session"] == sid]
    assert s["engineer"] == "alice" and s["device"] == "ct-scanner"
    assert s["approval"]["kind"] == "not required"
    assert s["recording_status"]["status"] == "sealed"
    month = s["start"][:7]
    # ... and as CSV for a spreadsheet: BOM, CRLF, Asia/Tokyo's offset
    a = call(world, ["report", "--csv", "--month", month], [("token", tok)])
    assert a.exit == 0, a.err
    raw = a.outb
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:20]
    body = raw[3:].decode("utf-8")
    assert "\r\n" in body and "\n" not in body.replace("\r\n", "")
    table = list(csv.DictReader(io.StringIO(body, newline="")))
    [c] = [x for x in table if x["session"] == sid]
    assert c["engineer"] == "alice" and c["device"] == "ct-scanner"
    assert c["start"].endswith("+09:00"), c["start"]
    assert c["recording_status"] == "sealed"
    assert c["approval"] == "not required"
    assert c["audit_chain"] == "intact"
    # an empty month is a header alone
    a = call(world, ["report", "--csv", "--month", "2001-01"],
             [("token", tok)])
    assert a.exit == 0, a.err
    assert a.outb.count(b"\r\n") == 1
    # the month must be one
    a = call(world, ["report", "--csv", "--month", "2026-13"],
             [("token", tok)])
    assert a.exit == 2 and "YYYY-MM" in a.err

    # bastionctl's own --csv: the zone is a name, never a path
    r = bastionctl(world, "report", "--csv", "--tz", "../../etc/passwd")
    assert r.returncode == 2 and "not a time zone name" in r.stderr
    r = bastionctl(world, "report", "--csv", "--month", month)
    assert r.returncode in (0, 1), r.stderr
    [c] = [x for x in csv.DictReader(io.StringIO(
        r.stdout.lstrip("\ufeff"), newline="")) if x["session"] == sid]
    assert c["start"].endswith("+00:00"), c     # no --tz: UTC

    # the report is the auditors': an admin's token is refused
    bob = Authenticator()
    enrol(world, p["bob"], bob)
    a, _ = sign_in(world, "bob", bob)
    btok, _, _ = token_of(a)
    a = call(world, ["report", "--json"], as_json(btok))
    assert a.exit == 2 and "not a verb the console runs" in a.err


@pytest.fixture
def web_encrypted(cast, keys):  # noqa: F811
    """The cast with web_setup(), not started: each test starts it with
    recordings encrypted to the auditor's and the escrow key (start())."""
    world, p = cast
    web_setup(world)
    return world, p


@pytest.mark.timeout(240)
def test_encrypted_cast_is_refused_without_server_unlock(
        web_encrypted, keys, bastionctl):  # noqa: F811
    world, p = web_encrypted
    start(world, keys)          # server_unlock defaults to forbid
    rec, _ = typed_session(world, p["alice"])
    tok = auditor_token(world, bastionctl)
    a = call(world, ["recordings", "--json"], as_json(tok))
    [row] = [x for x in a.json() if x["recording"] == rec]
    assert row["encrypted"] is True and row["status"] == "sealed"
    a = call(world, ["cast", row["session"]], [("token", tok)])
    assert a.exit == 1
    assert MARKER.encode() not in a.outb and a.outb == b""
    assert "server_unlock: forbid" in a.err
    assert "bastion-replay --identity" in a.err
    ev = world.bastion.wait_audit(event="recording.unlock", user="carol")
    assert ev["result"] == "refused" and ev["recording"] == rec


@pytest.mark.timeout(240)
def test_encrypted_cast_through_the_audited_unlock(
        web_encrypted, keys, bastionctl, tmp_path):  # noqa: F811
    world, p = web_encrypted
    ident = server_identity(tmp_path, keys, 0o600)
    start(world, keys, server_unlock="allow", server_identity=str(ident))
    rec, _ = typed_session(world, p["alice"])
    tok = auditor_token(world, bastionctl)
    a = call(world, ["recordings", "--json", "--engineer", "alice"],
             as_json(tok))
    [row] = [x for x in a.json() if x["recording"] == rec]
    a = call(world, ["cast", row["session"]], [("token", tok)])
    assert a.exit == 0, a.err
    lines = a.out.splitlines()
    assert '"version": 2' in lines[0] or '"version":2' in lines[0]
    assert "%s-seen-42" % MARKER in a.out
    ev = world.bastion.wait_audit(event="recording.unlock", user="carol")
    assert ev["result"] == "unlocked" and ev["recording"] == rec
