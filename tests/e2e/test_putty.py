"""PuTTY (Debian's putty-tools 0.78) through the bastion, many times in a row.

Vendors on Windows use PuTTY. It closes its session channel as soon as
both sides have sent EOF, and it aborts on a DISCONNECT that arrives in
the same read as the server's CLOSE. Before the fix, plink runs sometimes
hung until the bastion gave up ("device closed the session" after its
linger), or aborted with 'Remote side sent disconnect message type 11
"Bye Bye"' after the output had arrived; pscp the same. These tests run
plink and pscp (SFTP and SCP) back to back and require every run to end
on its own, promptly, with the right exit status and the data intact.

PuTTY 0.78 has no FIDO2 support and pscp/psftp cannot forward an agent,
so the vendor here allows ordinary keys and does not require the touch
(docs/CLIENTS.md says what a hospital chooses for PuTTY users). The second
factor is the PAM secret, answered with plink's -pw (PuTTY gives it to a
single keyboard-interactive prompt).
"""

import hashlib
import os
import subprocess
import time

import pytest

from harness import util
from harness.client import Person

# 100 of each in `make check`; the sanitizer run (`make check-asan`) looks
# for memory errors, not for the race: a few runs are enough there
_RUNS = "10" if util.sanitized() else "100"
N_EXEC = int(os.environ.get("PUTTY_EXEC_RUNS", _RUNS))
N_COPY = int(os.environ.get("PUTTY_COPY_RUNS", _RUNS))
# A hung run is cut by the bastion's linger, 10 s after the session's end,
# which it logs (LINGER); this bound only catches what goes wrong otherwise.
PROMPT_S = 20
LINGER = "did not close the connection within"


@pytest.fixture
def putty(cast, softsk, tmp_path):
    """(world, run) where run(tool, *args) runs plink/pscp as dave of
    initech (ordinary ed25519 key in a .ppk, the secret with -pw) and
    returns (CompletedProcess, seconds)."""
    world, _ = cast
    for tool in ("plink", "pscp", "puttygen"):
        util.need_tool(tool, "putty-tools")
    dave = Person(world, softsk, "dave", "s3cret-dave", key_type="ed25519")
    world.add_vendor("initech", segment=3, allow_non_sk_keys=True,
                     touch="off")
    world.add_device("initech", "analyzer", host=10)
    world.add_engineer("initech", "dave", dave.public_key(),
                       secret="s3cret-dave")
    world.start_bastion()
    b = world.bastion
    ppk = dave.dir / "dave.ppk"
    subprocess.run(["puttygen", str(dave.key), "-O", "private", "-o",
                    str(ppk)], check=True, capture_output=True)
    fp = subprocess.run(["ssh-keygen", "-lf", "-"], input=b.host_key_pub,
                        capture_output=True, text=True,
                        check=True).stdout.split()[1]
    common = (["-v"] if os.environ.get("PUTTY_V") else []) + ["-batch", "-noagent", "-hostkey", fp, "-P", str(b.port),
              "-i", str(ppk), "-pw", dave.secret]
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env["HOME"] = str(dave.dir)     # PuTTY's ~/.putty stays in the test

    def run(tool, *args):
        t0 = time.monotonic()
        try:
            r = subprocess.run([tool] + common + list(args),
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=30, env=env, start_new_session=True)
        except subprocess.TimeoutExpired as e:
            pytest.fail("%s %s hung for 30 s: %r" % (tool, args, e.stderr))
        return r, time.monotonic() - t0

    return world, "dave+analyzer@" + b.addr, run


def test_plink_exec_many_times(putty):
    world, target, run = putty
    bad = []
    for i in range(N_EXEC):
        # every fifth run ends with a status of its own: plink must
        # report the device's exit status, not only the output
        status = 3 if i % 5 == 4 else 0
        r, secs = run("plink", "-ssh", target,
                      "echo run-%d; exit %d" % (i, status))
        out = r.stdout.decode(errors="replace")
        if r.returncode != status or out != "run-%d\n" % i or \
                secs > PROMPT_S:
            bad.append((i, r.returncode, round(secs, 2), out[-80:],
                        r.stderr.decode(errors="replace")[-300:]))
    assert not bad, "%d of %d plink runs failed:\n%s" % (
        len(bad), N_EXEC, "\n".join(map(repr, bad[:5])))
    # every session ended by the engineer's client, none cut by the
    # bastion's linger (the hang PuTTY had)
    world.bastion.wait_audit(event="session.end", after=N_EXEC - 1)
    ends = world.bastion.audit_events(event="session.end")
    assert len(ends) == N_EXEC, len(ends)
    assert LINGER not in world.bastion.log()


@pytest.mark.parametrize("mode", ["-sftp", "-scp"])
def test_pscp_transfers_many_times(putty, tmp_path, mode):
    world, target, run = putty
    blob = tmp_path / "firmware.bin"
    data = os.urandom(300 * 1024)
    blob.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    runs = N_COPY if mode == "-sftp" else max(N_COPY // 4, 10)
    bad = []
    for i in range(runs):
        dest = inbox / ("fw-%d.bin" % i)
        r, secs = run("pscp", mode, "-q", str(blob), "%s:%s" % (target, dest))
        got = hashlib.sha256(dest.read_bytes()).hexdigest() \
            if dest.exists() else None
        if r.returncode != 0 or got != want or secs > PROMPT_S:
            bad.append((i, r.returncode, round(secs, 2), got,
                        r.stderr.decode(errors="replace")[-300:]))
    slow = [line for line in world.bastion.log().splitlines()
            if LINGER in line]
    assert not bad and not slow, "%d of %d pscp %s runs failed:\n%s\n%r" % (
        len(bad), runs, mode, "\n".join(map(repr, bad[:5])), slow[:3])
