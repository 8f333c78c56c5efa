"""bastion-ship runs in its own seccomp filter (ship/ssandbox.c, issue 20).

The daemon (no --once) is started against a real S3 server (s3rver), ships
a real sealed recording, and is then looked at from /proc while it runs:
NoNewPrivs 1 and Seccomp 2 (a filter), and it still ships and appends to
the audit chain under it. That a call outside the list kills it with the
call named is tests/unit/test_ship_sandbox.c (execve, ptrace, a packet
socket, replacing the SIGSYS handler)."""

from harness import util
from test_recording_ship import (recorded_session, ship_daemon,  # noqa: F401
                                 ship_policy, s3, wait_chain)


def test_shipping_daemon_is_filtered(cast, s3, build_dir):  # noqa: F811
    world, p = cast
    world.start_bastion(ship_policy(world, s3))
    daemon = ship_daemon(build_dir, world)
    try:
        rec, _ = recorded_session(world, p["alice"], "FILTERED")
        ev = wait_chain(world, event="recording.shipped", session=rec,
                        timeout=30)
        assert ev["key"].startswith("hospital-a/node-a/"), ev
        st = util.proc_status(daemon.pid)
        assert st["NoNewPrivs"] == "1", st
        assert st["Seccomp"] == "2", st
    finally:
        daemon.terminate()
        out, _ = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, out
    assert "seccomp" not in out, out
