"""bastion-webd runs in its own seccomp filter (web/wsandbox.c on
base/scfilter.c) once its socket, TLS key and static files are set up:
the running daemon, looked at from /proc after it served a page, has
NoNewPrivs 1 and Seccomp 2, and is still alive. Sanitizer builds install
none (LeakSanitizer needs ptrace and clone at exit)."""

import pytest

from harness import util


@pytest.mark.skipif(util.sanitized(), reason="no filter in sanitizer builds")
def test_webd_serves_under_its_filter(webd):
    status, _, body = webd.request("GET", "/")
    assert status == 200 and body
    st = util.proc_status(webd.proc.pid)
    assert st.get("NoNewPrivs") == "1", st
    assert st.get("Seccomp") == "2", st
    assert webd.alive(), webd.log_text()
