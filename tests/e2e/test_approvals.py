"""Approvals end to end: a vendor engineer waits for an admin's decision.

globex's pacs requires approval (acme's ct-scanner does not). Engineers
(gina) connect with the real ssh; admins (bob, dave) decide over ssh
(`ssh bob@bastion approve 1 1h`) or locally (`bastionctl approve 1 1h`),
several clients at once. docs/APPROVALS.md.
"""

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from harness import util
from harness.client import Person


def approval_site(cast, approval=None, top=None):
    world, p = cast
    world.vendors["globex"]["approval"] = approval or {"required": True}
    if top:
        world.top["approval"] = top
    world.start_bastion()
    return world, p


def waiting(world, person, *args):
    """Start person's ssh (a Popen) and wait until its request is filed;
    returns (proc, request id as str)."""
    n = len(world.bastion.audit_events(event="approval.requested",
                                       user=person.name))
    proc = person.popen(*args, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    ev = world.bastion.wait_audit(event="approval.requested",
                                  user=person.name, after=n, alive=proc,
                                  timeout=20)
    return proc, ev["request"]


def finish(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_wait_approve_over_ssh_then_reconnect(cast):
    world, p = approval_site(cast)
    proc, rid = waiting(world, p["gina"], "pacs", "--reason",
                        "'ticket 4711'", "echo ran-$((6*7))")
    ev = world.bastion.wait_audit(event="approval.requested", user="gina")
    assert ev["reason"] == "ticket 4711" and ev["device"] == "pacs"
    # another vendor's device without a rule is not held up meanwhile
    r = p["alice"].ssh("ct-scanner", "echo free")
    assert r.returncode == 0 and r.stdout == "free\n", r.stderr
    lst = p["bob"].ssh("requests")
    assert lst.returncode == 0, lst.stderr
    assert "gina" in lst.stdout and "ticket 4711" in lst.stdout
    js = json.loads(p["bob"].ssh("requests", "--json").stdout)
    assert [x["id"] for x in js] == [int(rid)]
    assert js[0]["status"] == "pending" and js[0]["device"] == "pacs"
    a = p["bob"].ssh("approve", rid, "1h")
    assert a.returncode == 0, a.stderr
    assert "approved" in a.stdout
    rc, out, err = finish(proc)
    assert rc == 0, err
    assert out == "ran-42\n"
    assert "waiting for approval: request %s for pacs (reason: ticket " \
        "4711)" % rid in err
    ev = world.bastion.wait_audit(event="approval.approve", request=rid)
    assert ev["admin"] == "bob" and ev["result"] == "granted"
    # a reconnect inside the grant needs no approval
    r = p["gina"].ssh("pacs", "echo again")
    assert r.returncode == 0 and r.stdout == "again\n", r.stderr
    assert "waiting for approval" not in r.stderr
    world.bastion.wait_audit(event="approval.grant_used", user="gina")
    assert len(world.bastion.audit_events(event="approval.requested")) == 1
    g = json.loads(p["bob"].ssh("grants", "--json").stdout)
    assert len(g) == 1 and g[0]["engineer"] == "gina"
    assert 3500 <= g[0]["until"] - time.time() <= 3600


def test_deny_with_reason(cast):
    world, p = approval_site(cast)
    proc, rid = waiting(world, p["gina"], "pacs", "echo never")
    d = p["bob"].ssh("deny", rid, "no ticket")
    assert d.returncode == 0, d.stderr
    rc, out, err = finish(proc)
    assert rc != 0 and "never" not in out
    assert "denied by bob: no ticket" in err
    ev = world.bastion.wait_audit(event="approval.deny", request=rid)
    assert ev["reason"] == "no ticket"
    assert not world.bastion.audit_events(event="device.connect",
                                          user="gina")
    # a decided request cannot be decided again
    a = p["bob"].ssh("approve", rid, "1h")
    assert a.returncode == 1 and "denied already" in a.stderr


def test_timeout_refuses(cast):
    world, p = approval_site(cast, top={"timeout": "3s"})
    t0 = time.monotonic()
    proc, rid = waiting(world, p["gina"], "pacs", "echo never")
    rc, out, err = finish(proc)
    assert rc != 0 and "never" not in out
    assert "request %s expired" % rid in err
    assert 2.5 <= time.monotonic() - t0 <= 15
    world.bastion.wait_audit(event="approval.expired", request=rid)
    a = p["bob"].ssh("approve", rid, "1h")
    assert a.returncode == 1 and "expired" in a.stderr


def test_four_eyes(cast):
    world, p = cast
    dave = Person(world, p["bob"].softsk, "dave", "s3cret-dave")
    world.add_admin("dave", dave.public_key(), secret="s3cret-dave")
    world, p = approval_site(
        cast, approval={"required": True, "second_approver": True,
                        "max_grant": "30m"})
    proc, rid = waiting(world, p["gina"], "pacs", "echo four-eyes")
    a = p["bob"].ssh("approve", rid, "2h")
    assert a.returncode == 0, a.stderr
    assert "second, different admin" in a.stdout
    assert "longer than the longest grant" in a.stderr
    # the same admin twice is not enough
    a = p["bob"].ssh("approve", rid, "20m")
    assert a.returncode == 1 and "already" in a.stderr
    # still waiting: the refusal above came after the decision, which
    # granted nothing; dave's approval below counting 2, not "approved
    # already", proves bob's second one was not counted
    assert not world.bastion.audit_events(event="approval.approve",
                                          request=rid, result="granted")
    assert proc.poll() is None
    a = dave.ssh("approve", rid, "1h", "--json")
    assert a.returncode == 0, a.stderr
    res = json.loads(a.stdout)
    assert res["status"] == "approved" and res["approvals"] == 2
    assert res["duration"] == 1800          # capped at max_grant, shortest
    rc, out, err = finish(proc)
    assert rc == 0 and out == "four-eyes\n", err
    ev = world.bastion.wait_audit(event="approval.approve", request=rid,
                                  result="granted")
    assert ev["admin"] == "dave" and ev["approvals"] == "2/2"


def test_pre_approved_window(cast):
    lt = time.localtime()
    now = lt.tm_hour * 60 + lt.tm_min
    start, end = (now - 60) % 1440, (now + 60) % 1440
    window = "daily %02d:%02d-%02d:%02d" % (start // 60, start % 60,
                                             end // 60, end % 60)
    world, p = approval_site(cast, approval={"required": True,
                                             "windows": [window]})
    r = p["gina"].ssh("pacs", "echo in-window")
    assert r.returncode == 0 and r.stdout == "in-window\n", r.stderr
    world.bastion.wait_audit(event="approval.window", user="gina")
    assert not world.bastion.audit_events(event="approval.requested")


def test_engineer_and_auditor_cannot_run_admin_verbs(cast):
    world, p = approval_site(cast)
    proc, rid = waiting(world, p["gina"], "pacs", "echo x")
    for who in ("gina", "alice"):
        r = p[who].ssh("approve", rid, "1h")
        assert r.returncode != 0
        assert 'may not reach "approve"' in r.stderr, r.stderr
    r = p["carol"].ssh("approve", rid, "1h")
    assert r.returncode != 0 and "auditor console" in r.stderr
    # nothing was approved; gina gives up (closes): the request is cancelled
    os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=10)
    world.bastion.wait_audit(event="approval.cancelled", request=rid)
    js = json.loads(p["bob"].ssh("requests", "--all", "--json").stdout)
    assert js[0]["status"] == "cancelled"
    # an admin asking for something that is no verb gets the list
    r = p["bob"].ssh("pacs", "uname")
    assert r.returncode == 2 and "approve ID DURATION" in r.stderr


def test_bastionctl_approve_and_revoke(cast, bastionctl):
    world, p = approval_site(cast)
    proc, rid = waiting(world, p["gina"], "pacs", "echo via-ctl")
    r = bastionctl(world, "requests")
    assert r.returncode == 0 and "gina" in r.stdout, r.stderr
    r = bastionctl(world, "approve", rid, "bogus")
    assert r.returncode == 2 and "not a duration" in r.stderr
    r = bastionctl(world, "approve", rid, "1h")
    assert r.returncode == 0, r.stderr
    assert "approved" in r.stdout
    # bastionctl went through bastiond's control socket: the decision is
    # bastiond's audit event, made as the local operator
    ev = world.bastion.wait_audit(event="approval.approve", via="bastionctl")
    assert ev["admin"] == "root", ev
    rc, out, err = finish(proc)
    assert rc == 0 and out == "via-ctl\n", err
    grants = json.loads(bastionctl(world, "grants", "--json").stdout)
    gid = grants[0]["id"]
    # a session running under the grant ends when it is revoked
    long = p["gina"].popen("pacs", "echo started; sleep 60",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    world.bastion.wait_audit(event="device.connect", user="gina",
                             command="echo started; sleep 60")
    r = p["bob"].ssh("revoke", gid)
    assert r.returncode == 0, r.stderr
    rc, out, err = finish(long, timeout=20)
    assert "revoked" in err, err
    world.bastion.wait_audit(event="session.revoked", user="gina")
    world.bastion.wait_audit(event="grant.revoke", grant=gid)
    # revoked: the next access needs a new approval
    proc, rid2 = waiting(world, p["gina"], "pacs", "echo again")
    assert rid2 != rid
    assert bastionctl(world, "deny", rid2, "revoked").returncode == 0
    rc, out, err = finish(proc)
    assert rc != 0 and "denied" in err
    r = bastionctl(world, "revoke", gid)
    assert r.returncode == 1 and "already revoked" in r.stderr


def test_forward_only_connection_cannot_skip_approval(cast):
    """A forward-only connection made without naming a device asked for
    no approval, so it may not forward to a device that needs one, even
    while a grant is live; named as gina+pacs, the grant applies."""
    world, p = cast
    world.vendors["globex"]["approval"] = {"required": True}
    world.vendors["globex"]["touch"] = "off"    # -N carries no session
    web = world.devices["pacs"].serve_http(body="PACS admin page")
    world.device_entries["pacs"]["forward_ports"] = [web.port]
    world.start_bastion()

    def forward(login):
        lport = util.free_port("127.0.0.1")
        proc = p["gina"].popen(options=["-N", "-L", "%d:pacs:%d" % (
                               lport, web.port)], login=login,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        util.wait_tcp("127.0.0.1", lport, timeout=20)
        return proc, "http://127.0.0.1:%d/" % lport

    def fetch(url):
        return urllib.request.urlopen(url, timeout=10).read().decode()

    def stop(proc):
        # teardown only: never hang (once under ASan and load, ssh took
        # more than 10 s to leave after SIGTERM)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    # a grant for pacs, as a session gets one
    proc, rid = waiting(world, p["gina"], "pacs", "echo granted")
    assert p["bob"].ssh("approve", rid, "1h").returncode == 0
    assert finish(proc)[0] == 0
    fwd, url = forward(None)
    try:
        with pytest.raises(OSError):
            fetch(url)
        ev = world.bastion.wait_audit(event="forward.refused", user="gina")
        assert "approval" in ev["reason"] and "gina+pacs@bastion" in \
            ev["reason"], ev
        assert not world.bastion.audit_events(event="forward.open",
                                              user="gina", result="ok")
    finally:
        stop(fwd)
    fwd, url = forward("gina+pacs")
    try:
        for attempt in (1, 2):      # as in test_broker's forward test
            try:
                body = fetch(url)
                break
            except OSError:
                if attempt == 2:
                    raise
        assert "PACS admin page" in body
        world.bastion.wait_audit(event="forward.open", user="gina",
                                 result="ok")
    finally:
        stop(fwd)


def test_reason_prompt_on_a_terminal(cast):
    """Without --reason, a terminal session asks for one before filing
    the request; ^C at the prompt files nothing."""
    import pexpect
    world, p = approval_site(cast)
    child = p["gina"].spawn("pacs", timeout=30)
    child.expect("pacs needs an admin's approval. Reason")
    child.send("ticket 99\r")
    child.expect(r"waiting for approval: request (\d+) for pacs "
                 r"\(reason: ticket 99\)")
    rid = child.match.group(1).decode() if isinstance(
        child.match.group(1), bytes) else child.match.group(1)
    ev = world.bastion.wait_audit(event="approval.requested", request=rid)
    assert ev["reason"] == "ticket 99"
    assert p["bob"].ssh("approve", rid, "1h").returncode == 0
    child.expect("approved by bob")
    child.sendline("echo on-pacs-$((5*5))")
    child.expect("on-pacs-25")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    # a grant now exists: no prompt, no request; revoke it and ^C the prompt
    grants = json.loads(p["bob"].ssh("grants", "--json").stdout)
    assert p["bob"].ssh("revoke", grants[0]["id"]).returncode == 0
    n = len(world.bastion.audit_events(event="approval.requested"))
    child = p["gina"].spawn("pacs", timeout=30)
    child.expect("Reason for the access")
    child.send("\x03")
    child.expect("cancelled; no request was filed")
    child.expect(pexpect.EOF)
    assert len(world.bastion.audit_events(event="approval.requested")) == n
    world.bastion.wait_audit(event="approval.cancelled", user="gina")


# ---- who the admin is: one identity for every front end (issue 16, 3) ----

FOUR_EYES = {"required": True, "second_approver": True}


def admin_entry(world, name):
    return next(a for a in world.admins if a["name"] == name)


def add_dan(cast):
    world, p = cast
    dan = Person(world, p["bob"].softsk, "dan", "s3cret-dan")
    world.add_admin("dan", dan.public_key(), secret="s3cret-dan")
    return dan


def bob_approved_first(cast, root_is, command):
    """Four eyes, with dan as a further admin and the Unix login root
    (bastionctl's, here) mapped to admin root_is; gina waits to run
    command on pacs and bob approves over ssh. Returns (world, people,
    gina's ssh, request id)."""
    world, p = cast
    add_dan(cast)
    admin_entry(world, root_is)["unix_user"] = "root"
    world, p = approval_site(cast, approval=FOUR_EYES)
    proc, rid = waiting(world, p["gina"], "pacs", command)
    a = p["bob"].ssh("approve", rid, "1h")
    assert a.returncode == 0, a.stderr
    return world, p, proc, rid


def test_one_person_two_names_is_not_four_eyes(cast, bastionctl):
    """bob approves over ssh, then bastionctl run by the Unix login mapped
    to bob (root: the tests run as root) approves too: that is bob twice,
    not two admins."""
    world, p, proc, rid = bob_approved_first(cast, "bob", "echo bypass")
    r = bastionctl(world, "approve", rid, "1h")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "you (bob) have approved request %s already" % rid in r.stderr
    # still waiting: the refusal came after the decision, which granted
    # nothing (no grant row, no granted event)
    assert proc.poll() is None
    assert json.loads(bastionctl(world, "grants", "--json").stdout) == []
    assert not world.bastion.audit_events(event="approval.approve",
                                          result="granted")
    # the other way round too: the ssh approval after bastionctl's
    proc2, rid2 = waiting(world, p["gina"], "pacs", "echo bypass2")
    r = bastionctl(world, "approve", rid2, "1h")
    assert r.returncode == 0, r.stderr
    ev = world.bastion.wait_audit(event="approval.approve", request=rid2)
    assert ev["admin"] == "bob" and ev["via"] == "bastionctl", ev
    a = p["bob"].ssh("approve", rid2, "1h")
    assert a.returncode == 1 and "already" in a.stderr
    assert json.loads(bastionctl(world, "grants", "--json").stdout) == []
    for pr in (proc, proc2):
        pr.kill()
        pr.communicate()


def test_four_eyes_across_front_ends(cast, bastionctl):
    """bastionctl's login mapped to another admin (dan): bob over ssh and
    dan through bastionctl are two admins."""
    world, p, proc, rid = bob_approved_first(cast, "dan", "echo two-admins")
    r = bastionctl(world, "approve", rid, "1h")
    assert r.returncode == 0, r.stderr
    rc, out, err = finish(proc)
    assert rc == 0 and out == "two-admins\n", err
    evs = world.bastion.audit_events(event="approval.approve", request=rid)
    assert [(e["admin"], e["via"]) for e in evs] == [
        ("bob", "ssh"), ("dan", "bastionctl")]
    assert evs[-1]["result"] == "granted" and evs[-1]["approvals"] == "2/2"
    ev = world.bastion.wait_audit(event="console.verb", via="bastionctl",
                                  verb="approve")
    assert ev["user"] == "dan" and ev["login"] == "root"


def test_unmapped_login_is_not_one_of_four_eyes(cast, bastionctl):
    """A login no admin's unix_user names (root here) cannot be one of the
    two admins of a four-eyes rule, and is told how to fix that; it may
    still take single-approver decisions, recorded under the login."""
    world, p = cast
    add_dan(cast)
    world.vendors["acme"]["approval"] = {"required": True}
    world, p = approval_site(cast, approval=FOUR_EYES)
    proc, rid = waiting(world, p["gina"], "pacs", "echo never")
    a = p["bob"].ssh("approve", rid, "1h")
    assert a.returncode == 0, a.stderr
    r = bastionctl(world, "approve", rid, "1h")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "four eyes" in r.stderr and 'unix_user: root' in r.stderr
    assert "approve over ssh" in r.stderr
    assert json.loads(bastionctl(world, "grants", "--json").stdout) == []
    # nor can it be the first of the two
    r = bastionctl(world, "approve", rid, "1h")
    assert r.returncode == 1 and "unix_user" in r.stderr
    assert len(world.bastion.audit_events(event="approval.approve",
                                          request=rid)) == 1
    assert proc.poll() is None
    # deny is one admin's decision: allowed, recorded under the login
    d = bastionctl(world, "deny", rid, "not today")
    assert d.returncode == 0, d.stderr
    rc, out, err = finish(proc)
    assert rc != 0 and "denied by root" in err
    # a single-approver rule (acme's): approved by the login
    proc, rid = waiting(world, p["alice"], "ct-scanner", "echo single")
    r = bastionctl(world, "approve", rid, "1h")
    assert r.returncode == 0, r.stderr
    rc, out, err = finish(proc)
    assert rc == 0 and out == "single\n", err
    ev = world.bastion.wait_audit(event="approval.approve", request=rid)
    assert ev["admin"] == "root" and ev["result"] == "granted"
