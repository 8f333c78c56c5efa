"""The test PAM stack: pam_wrapper + pam_matrix, checked with pamcheck.

bastiond will run with PamFixture.env(); these tests prove that such a
process authenticates against the fixture's passdb and its service
directory, and not against the system's PAM configuration or accounts.
"""

import pytest

from harness import util
from harness.pam import PamFixture, _merge_opts

SECRET = "correct horse battery"


@pytest.fixture
def pamcheck(tool):
    return tool("pamcheck")


def ok(r):
    return r.returncode == 0 and r.stdout == "OK\n"


@pytest.mark.timeout(30)
def test_right_secret_is_accepted(pam, pamcheck):
    pam.add_user("alice", SECRET)
    r = pam.check("alice", SECRET, pamcheck)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "OK\n"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("secret", ["wrong", SECRET + "x", SECRET[:-1], ""])
def test_wrong_secret_is_refused(pam, pamcheck, secret):
    pam.add_user("alice", SECRET)
    r = pam.check("alice", secret, pamcheck)
    assert r.returncode == 1
    assert r.stdout == "FAIL: Authentication failure\n"


@pytest.mark.timeout(30)
def test_unknown_user_is_refused(pam, pamcheck):
    pam.add_user("alice", SECRET)
    r = pam.check("mallory", SECRET, pamcheck)
    assert r.returncode == 1
    assert r.stdout.startswith("FAIL: ")


@pytest.mark.timeout(30)
def test_user_of_another_service_is_refused(pam, pamcheck):
    pam.add_user("bob", SECRET, service="sshd")
    r = pam.check("bob", SECRET, pamcheck)
    assert r.returncode == 1
    assert r.stdout.startswith("FAIL: ")


@pytest.mark.timeout(30)
def test_passdb_changes_apply_at_once(pam, pamcheck):
    pam.add_user("alice", SECRET)
    assert ok(pam.check("alice", SECRET, pamcheck))
    pam.add_user("alice", "new secret")
    assert not ok(pam.check("alice", SECRET, pamcheck))
    assert ok(pam.check("alice", "new secret", pamcheck))
    pam.remove_user("alice")
    assert not ok(pam.check("alice", "new secret", pamcheck))


@pytest.mark.timeout(60)
def test_system_pam_is_not_used(pam, pamcheck):
    """The current user with a matrix-only secret: accepted through the
    wrapper, refused by the system's own stack (pam_unix and the real
    password). And through the wrapper, our service file is the one that
    decides: replacing it with pam_deny refuses the right secret."""
    me = util.current_user()
    pam.add_user(me, SECRET)
    assert ok(pam.check(me, SECRET, pamcheck))
    r = pam.check(me, SECRET, pamcheck, wrapped=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.startswith("FAIL: ")

    deny = pam.service_dir / "bastion"
    saved = deny.read_text()
    from harness.pam import find_pam_module
    pam_deny = find_pam_module("pam_deny.so")
    assert pam_deny, "pam_deny.so not found (libpam-modules)"
    pam.write_service("bastion", ["auth required %s" % pam_deny,
                                  "account required %s" % pam_deny])
    assert not ok(pam.check(me, SECRET, pamcheck))
    deny.write_text(saved)
    assert ok(pam.check(me, SECRET, pamcheck))


@pytest.mark.timeout(30)
def test_unknown_service_fails_closed(pam, pamcheck):
    pam.add_user("alice", SECRET)
    r = pam.check("alice", SECRET, pamcheck, service="no-such-service")
    assert r.returncode == 1
    assert r.stdout.startswith("FAIL: ")


@pytest.mark.timeout(30)
def test_pamcheck_usage(pamcheck):
    r = util.run([pamcheck], check=False, input="")
    assert r.returncode == 2
    assert "usage: pamcheck SERVICE USER" in r.stderr
    assert r.stdout == ""


def test_env_under_sanitizers(tmp_path, monkeypatch):
    pam = PamFixture(tmp_path / "pam")
    monkeypatch.setenv("BASTION_SAN", "0")
    monkeypatch.setenv("LD_PRELOAD", "/x/libother.so")
    env = pam.env()
    assert env["LD_PRELOAD"] == "/x/libother.so " + pam.wrapper
    assert env["PAM_WRAPPER"] == "1"
    assert env["PAM_WRAPPER_SERVICE_DIR"] == str(pam.service_dir)
    assert "ASAN_OPTIONS" not in env
    monkeypatch.setenv("BASTION_SAN", "1")
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env = pam.env()
    assert env["ASAN_OPTIONS"] == ("detect_leaks=1:abort_on_error=1:"
                                   "verify_asan_link_order=0")
    assert env["PAM_WRAPPER_DISABLE_DEEPBIND"] == "1"
    assert env["UID_WRAPPER_DISABLE_DEEPBIND"] == "1"
    assert _merge_opts("verify_asan_link_order=1:x=2",
                       "verify_asan_link_order=0") == \
        "verify_asan_link_order=0:x=2"


def test_passdb_rejects_unstorable_values(pam):
    with pytest.raises(ValueError):
        pam.add_user("a:b", "s")
    with pytest.raises(ValueError):
        pam.add_user("a", "line\nbreak")
    with pytest.raises(ValueError):
        pam.add_user("a", "")
