"""Vendor text reaches admins inert (issue 13, item 6; base/text.h).

An engineer chooses the reason of an approval request. Today's attack: a
reason with 8-bit C1 controls (0x9b is CSI on its own, U+009B is CSI to a
UTF-8 terminal) reaches the admin's `requests` table and drives the admin's
terminal. Every table, console and report shows vendor text through one
function, text_clean(): no C0, DEL, C1 or byte that is not UTF-8 comes
out, over ssh or through bastionctl, as a table or as JSON.
"""

import json
import subprocess

# raw CSI byte, encoded CSI (U+009B), ESC, DEL: "clear the screen", "red"
HOSTILE = "fix\udc9b2J CT\u009b31m\x1b[5m\x7fok"
C1 = (b"\x9b", b"\xc2\x9b")


def inert(data):
    """No control character, no C1, valid UTF-8 (line breaks aside)."""
    for bad in C1 + (b"\x1b", b"\x7f"):
        assert bad not in data, (bad, data)
    text = data.decode("utf-8")            # raises if not UTF-8
    assert all(c in "\n" or ord(c) >= 0x20 for c in text), text


def test_requests_table_shows_a_hostile_reason_inert(cast, bastionctl):
    world, p = cast
    world.vendors["globex"]["approval"] = {"required": True}
    world.start_bastion()
    n = len(world.bastion.audit_events(event="approval.requested",
                                       user="gina"))
    # the shell on the far side never runs: the reason is one quoted word
    proc = p["gina"].popen("pacs", "--reason", "'%s'" % HOSTILE, "true",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        rid = world.bastion.wait_audit(
            event="approval.requested", user="gina", after=n, alive=proc,
            timeout=20)["request"]

        # the admin's table over ssh, and through bastionctl
        t = p["bob"].ssh("requests", binary=True)
        assert t.returncode == 0, t.stderr
        inert(t.stdout)
        row = [x for x in t.stdout.decode().splitlines()
               if x.startswith(rid + " ")]
        assert row and "fix?2J CT?31m" in row[0], t.stdout
        local = bastionctl(world, "requests")
        assert local.returncode == 0, local.stderr
        inert(local.stdout.encode())
        assert "fix?2J CT?31m" in local.stdout

        # JSON: valid, nothing raw in it; the encoded CSI survives as an
        # escape, the byte that is not UTF-8 as U+FFFD
        j = p["bob"].ssh("requests", "--json", binary=True)
        assert j.returncode == 0, j.stderr
        inert(j.stdout)
        [req] = [x for x in json.loads(j.stdout) if x["id"] == int(rid)]
        assert req["reason"].startswith("fix\ufffd2J CT\u009b31m")

        # an admin's deny reason reaches the engineer's terminal: it must
        # be clean text itself
        d = p["bob"].ssh("deny", rid, "no\x1b[2Jticket")
        assert d.returncode == 2 and "without control characters" in \
            d.stderr, d.stderr
        d = p["bob"].ssh("deny", rid, "no ticket")
        assert d.returncode == 0, d.stderr
        proc.communicate(timeout=30)
        t = p["bob"].ssh("requests", "--all", binary=True)
        inert(t.stdout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
