"""Small helpers shared by the end-to-end harness.

Everything here is about running real programs safely from tests: explicit
timeouts on every subprocess, waiting for a TCP service to answer, finding
free ports, killing what a test started (by pid, after checking the pid is
still ours), and a registry of cleanups that runs even when a test fails or
pytest is interrupted (fixture finalizers, a session fixture, and atexit).

Nothing here kills processes by name: only pids this harness started, or
pids read from pidfiles it wrote, after /proc/PID/cmdline confirms they are
the process we think they are.
"""

import atexit
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[3]
E2E_DIR = pathlib.Path(__file__).resolve().parents[1]

SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh") or "/usr/bin/ssh"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
SFTP = shutil.which("sftp") or "/usr/bin/sftp"

DEFAULT_TIMEOUT = 30


class HarnessError(RuntimeError):
    """The harness could not set something up; the message says what and
    carries the relevant log tail."""


class WaitTimeout(HarnessError, AssertionError):
    """What wait_until() raises: the awaited event did not come. An
    AssertionError too, so a test's wait reads as a failed check."""


# --------------------------------------------------------------------------
# waiting: the one helper every wait of the harness and the tests goes
# through. A test never sleeps and then looks; it waits for the event that
# proves what it wants (a log or audit line, a process gone, a file, a
# socket answering), and for "X did not happen" it waits for a later event
# that proves the system went past the point where X would have happened.
# time.sleep() stays only where time itself is the subject (a rate
# limiter's window, a watchdog's interval, a penalty running out), with a
# comment saying so (docs/TESTING.md, "Wall time").

def wait_until(cond, timeout=10.0, what="the condition", interval=0.05,
               fail=True):
    """Call cond() every interval seconds until it returns a true value;
    return that value. cond may raise to give up early (e.g. the process
    it waits for has died). After timeout seconds: raise WaitTimeout
    saying "not within Ns: WHAT" (what: a string, or a callable returning
    one, called only then, e.g. for a log tail), or, with fail=False,
    return cond()'s last (false) value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            if not fail:
                return value
            raise WaitTimeout("not within %ss: %s" % (
                timeout, what() if callable(what) else what))
        time.sleep(interval)


# --------------------------------------------------------------------------
# paths and identities

def build_dir():
    """The build directory under test: $BASTION_BUILD, else <repo>/build."""
    return pathlib.Path(os.environ.get("BASTION_BUILD") or REPO / "build").resolve()


def sanitized():
    """True when the programs under test are built with ASan/UBSan."""
    return os.environ.get("BASTION_SAN", "0") not in ("", "0")


def current_user():
    """The login name of the effective uid (not $USER, which sudo and su
    may leave pointing at someone else)."""
    return pwd.getpwuid(os.geteuid()).pw_name


def is_root():
    return os.geteuid() == 0


def segment_addr(segment, host):
    """Address plan: segment N lives in 127.0.N.0/24 (Linux routes all of
    127/8 to lo). segment_addr(1, 10) == "127.0.1.10"."""
    if not (1 <= segment <= 254 and 1 <= host <= 254):
        raise ValueError("segment and host must be in 1..254")
    return "127.0.%d.%d" % (segment, host)


def segment_cidr(segment):
    return "127.0.%d.0/24" % segment


_short_dirs = []


def short_tmpdir(prefix="bst-"):
    """A fresh directory with a short path under /tmp, for Unix sockets
    (sun_path holds 108 bytes and pytest's tmp_path can be long). Removed
    by cleanup_all()."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    _short_dirs.append(d)
    return pathlib.Path(d)


# --------------------------------------------------------------------------
# running programs

def run(argv, timeout=DEFAULT_TIMEOUT, check=True, input=None, env=None,
        cwd=None):
    """Run argv to completion with a timeout, capturing text output.

    Returns the CompletedProcess. With check=True a non-zero exit raises
    HarnessError quoting the command, status, stdout and stderr. A timeout
    always raises (the child is killed by subprocess.run first)."""
    argv = [str(a) for a in argv]
    try:
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise HarnessError("timed out after %ss: %s\nstdout: %s\nstderr: %s"
                           % (timeout, " ".join(argv), e.stdout, e.stderr))
    if check and p.returncode != 0:
        raise HarnessError("%s exited %d\nstdout: %s\nstderr: %s"
                           % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def audit_key(state_dir):
    """Make a node's audit key (STATE_DIR/audit.key and .pub, as bastiond
    makes it at its first start) with openssl, so that the other nodes'
    policies can pin it before any node starts (store: nodes, the signer
    of its watch requests); return its public key's base64 line."""
    key = pathlib.Path(state_dir) / "audit.key"
    key.parent.mkdir(parents=True, exist_ok=True)
    for p in (key, pathlib.Path(str(key) + ".pub")):
        if p.exists():
            p.unlink()
    run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key])
    key.chmod(0o600)
    run(["openssl", "pkey", "-in", key, "-pubout", "-out",
         str(key) + ".pub"])
    return pem_line(pathlib.Path(str(key) + ".pub").read_text())


def pem_line(pem):
    """The base64 line of a one-line PEM (an Ed25519 key's)."""
    [line] = [x for x in pem.splitlines() if x and not x.startswith("-")]
    return line


def keygen(path, key_type="ed25519", comment="harness"):
    """Generate an unencrypted key pair at path (and path.pub) with the real
    ssh-keygen. Returns the public key as "type base64" (no comment)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, pathlib.Path(str(path) + ".pub")):
        if p.exists():
            p.unlink()
    run([SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-C", comment,
         "-f", path])
    return read_pub(str(path) + ".pub")


def read_pub(path):
    """Read an OpenSSH public key file; return "type base64" only."""
    fields = pathlib.Path(path).read_text().split()
    if len(fields) < 2:
        raise HarnessError("%s is not an OpenSSH public key" % path)
    return "%s %s" % (fields[0], fields[1])


def tail(path, lines=40):
    """The last lines of a text file, or a note that it does not exist."""
    try:
        text = pathlib.Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return "(%s does not exist)" % path
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------
# network

def missing(what, path):
    """A binary of the build is missing: skip the test, naming the make
    command, or fail it with BASTION_STRICT=1 (CI)."""
    import pytest
    msg = ("%s not found at %s: build it with `make B=%s tests`"
           % (what, path, build_dir()))
    if os.environ.get("BASTION_STRICT", "0") not in ("", "0"):
        pytest.fail(msg)
    pytest.skip(msg)


def need_tool(tool, package):
    """The path of tool on PATH; the test fails (never skips) when it is
    missing, naming the Debian package scripts/deps.sh installs it from."""
    path = shutil.which(tool)
    if not path:
        import pytest
        pytest.fail("%s not found: scripts/deps.sh installs %s"
                    % (tool, package))
    return path


def free_port(addr="127.0.0.1"):
    """A TCP port that is free on addr right now (the kernel's choice).
    Another process may take it before we bind it; callers that start
    servers retry on a bind failure."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def http_get(port, path="/", addr="127.0.0.1", timeout=10):
    """The body (bytes) of http://addr:port/path, through a forward.
    One retry: a forward opened right behind wait_tcp's probe was once
    seen to go unanswered (about 1 run in 20; under study)."""
    import urllib.request
    url = "http://%s:%d%s" % (addr, port, path)
    try:
        return urllib.request.urlopen(url, timeout=timeout).read()
    except OSError:
        return urllib.request.urlopen(url, timeout=timeout).read()


def recv_all(sock, limit=None):
    """What the peer sends on sock until it closes (or limit bytes); a
    reset ends it too."""
    data = b""
    try:
        while limit is None or len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    return data


def port_is_free(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((addr, port))
        except OSError:
            return False
        return True


def read_banner(addr, port, timeout=2.0):
    """Connect and return the first line the server sends (bytes, without
    CR LF), or None if it cannot connect or nothing arrives in time."""
    try:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            s.settimeout(timeout)
            buf = b""
            while b"\n" not in buf and len(buf) < 512:
                chunk = s.recv(256)
                if not chunk:
                    break
                buf += chunk
            return buf.split(b"\n", 1)[0].rstrip(b"\r") if buf else None
    except OSError:
        return None


def wait_tcp(addr, port, timeout=15.0, banner=None, alive=None, what=None,
             log=None):
    """Wait until addr:port accepts a connection (and, if banner is given,
    sends a first line starting with it). alive() is called on every round
    and should return False when the server process has died, which fails
    at once instead of after the timeout. Raises HarnessError with the tail
    of log (a path) on failure."""
    what = what or "%s:%d" % (addr, port)
    last = [None]

    def answers():
        if alive is not None and not alive():
            raise HarnessError("%s exited before listening on %s:%d\n"
                               "--- log tail ---\n%s"
                               % (what, addr, port,
                                  tail(log) if log else "(no log)"))
        if banner is None:
            try:
                with socket.create_connection((addr, port), timeout=1.0):
                    return True
            except OSError as e:
                last[0] = e
                return False
        line = read_banner(addr, port, timeout=1.0)
        last[0] = line
        return line if line is not None and line.startswith(banner) \
            else None

    try:
        found = wait_until(answers, timeout, interval=0.05)
    except WaitTimeout:
        raise HarnessError("%s did not answer on %s:%d within %ss (last: %r)"
                           "\n--- log tail ---\n%s"
                           % (what, addr, port, timeout, last[0],
                              tail(log) if log else "(no log)")) from None
    return None if banner is None else found


# --------------------------------------------------------------------------
# processes

def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False


def pid_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children_of(pid):
    """All descendants of pid (from /proc), deepest last."""
    parents = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        for c in parents.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_gone(pids, timeout):
    """True once none of pids is alive; False if some still are after
    timeout seconds."""
    return wait_until(lambda: not any(pid_alive(p) for p in pids), timeout,
                      interval=0.02, fail=False)


# the system calls a test may find a process blocked in, by machine
_SYSCALLS = {"x86_64": {0: "read", 1: "write", 20: "writev", 7: "poll",
                        271: "ppoll"},
             "aarch64": {63: "read", 64: "write", 66: "writev",
                         73: "ppoll"}}


def blocked_in(pid):
    """(name, args) of the system call pid is blocked in, from
    /proc/PID/syscall (a process we started), or (None, []) when it is
    running, gone, or in a call not in _SYSCALLS."""
    import platform
    try:
        with open("/proc/%d/syscall" % pid) as f:
            fields = f.read().split()
    except OSError:
        return None, []
    if not fields or not fields[0].isdigit():
        return None, []
    name = _SYSCALLS.get(platform.machine(), {}).get(int(fields[0]))
    return name, [int(x, 16) for x in fields[1:7]]


def polls_forever(pid):
    """True when pid sits in poll(2) with no timeout (ppoll(2) with no
    timespec): it waits for input and nothing else, e.g. a player
    paused until the next key."""
    name, args = blocked_in(pid)
    return ((name == "poll" and args[2] & 0xffffffff == 0xffffffff) or
            (name == "ppoll" and args[2] == 0))


def wait_blocked_writing(pid, fd=1, timeout=20):
    """Wait until pid is blocked writing to its fd (e.g. its stdout, a
    pipe or socket whose reader has stopped reading)."""
    def blocked():
        if not pid_alive(pid):
            raise HarnessError("process %d is gone (it never blocked "
                               "writing to fd %d)" % (pid, fd))
        name, args = blocked_in(pid)
        return name in ("write", "writev") and args[0] == fd
    wait_until(blocked, timeout, interval=0.05, what=lambda:
               "process %d blocked writing to fd %d (it is in %r)"
               % (pid, fd, blocked_in(pid)))


def kill_tree(pid, popen=None, term_timeout=5.0):
    """SIGTERM pid and its descendants, wait up to term_timeout, then
    SIGKILL whatever is left. popen, if given, is reaped. Returns the pids
    that needed SIGKILL."""
    pids = [pid] + children_of(pid)
    for p in pids:
        _signal(p, signal.SIGTERM)
    if popen is not None:
        try:
            popen.wait(timeout=term_timeout)
        except subprocess.TimeoutExpired:
            pass
    wait_gone(pids, term_timeout if popen is None else 0.5)
    # Children may have forked while we waited: look again.
    pids += [c for c in children_of(pid) if c not in pids]
    stubborn = [p for p in pids if pid_alive(p)]
    for p in stubborn:
        _signal(p, signal.SIGKILL)
    if popen is not None:
        try:
            popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    wait_gone(stubborn, 5)
    return stubborn


def kill_pidfile(pidfile, must_contain=None, term_timeout=5.0):
    """Stop the process named in pidfile, with its descendants, if it is
    still alive and (when must_contain is given) its command line contains
    that string (so a recycled pid is never killed). Returns the pid killed
    or None."""
    try:
        pid = int(pathlib.Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not pid_alive(pid):
        return None
    if must_contain is not None and must_contain not in pid_cmdline(pid):
        return None
    kill_tree(pid, term_timeout=term_timeout)
    return pid


# --------------------------------------------------------------------------
# cleanup registry: fixture finalizers call stop() directly; this catches
# whatever a crashed or interrupted test left behind.

_cleanups = {}
_cleanup_lock = threading.Lock()
_cleanup_seq = 0


def register_cleanup(fn):
    """Remember fn (no arguments) to run at session end / exit. Returns a
    token for unregister_cleanup()."""
    global _cleanup_seq
    with _cleanup_lock:
        _cleanup_seq += 1
        _cleanups[_cleanup_seq] = fn
        return _cleanup_seq


def unregister_cleanup(token):
    with _cleanup_lock:
        _cleanups.pop(token, None)


def cleanup_all():
    """Run every registered cleanup (newest first) and remove short tmp
    dirs. Errors are collected and returned, never raised, so one broken
    cleanup does not leave the rest running."""
    with _cleanup_lock:
        items = sorted(_cleanups.items(), reverse=True)
        _cleanups.clear()
    errors = []
    for _, fn in items:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report, keep cleaning
            errors.append("%r: %s" % (fn, e))
    while _short_dirs:
        shutil.rmtree(_short_dirs.pop(), ignore_errors=True)
    return errors


def kill_leftover_pidfiles(root, must_contain_dir=True):
    """Kill every live process named by a *.pid file under root whose
    command line mentions that pidfile's directory (all our servers are
    started with a config file beside their pidfile). Returns pids."""
    killed = []
    for pf in pathlib.Path(root).rglob("*.pid"):
        pid = kill_pidfile(pf, must_contain=str(pf.parent) if must_contain_dir
                           else None, term_timeout=2.0)
        if pid:
            killed.append(pid)
    return killed


atexit.register(cleanup_all)


class Server:
    """What the harness's background servers (Device, TcpService, Bastion)
    share: .proc (a Popen or None), a cleanup registered while it runs
    (registered() / unregistered()), .running, and `with` stopping it."""

    proc = None
    _token = None

    def registered(self):
        """Register self.stop() with the cleanup registry (once)."""
        if self._token is None:
            self._token = register_cleanup(self.stop)

    def unregistered(self):
        """Drop the registration made by registered(), if any."""
        if self._token is not None:
            unregister_cleanup(self._token)
            self._token = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# logfmt

_LOGFMT_KEY = re.compile(r"[A-Za-z0-9_.\-/]+")


def parse_logfmt(s):
    """Parse 'k=v k2="quoted \\" value" flag' into a dict (a bare key maps
    to True). Backslash escapes in quoted values: \\" \\\\ \\n \\t \\r."""
    out = {}
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] == " ":
            i += 1
        if i >= n:
            break
        m = _LOGFMT_KEY.match(s, i)
        if not m:
            # Not a key: skip this token.
            while i < n and s[i] != " ":
                i += 1
            continue
        key = m.group(0)
        i = m.end()
        if i >= n or s[i] != "=":
            out[key] = True
            continue
        i += 1
        if i < n and s[i] == '"':
            i += 1
            val = []
            while i < n and s[i] != '"':
                c = s[i]
                if c == "\\" and i + 1 < n:
                    i += 1
                    c = {"n": "\n", "t": "\t", "r": "\r"}.get(s[i], s[i])
                val.append(c)
                i += 1
            i += 1  # closing quote (or end of a truncated line)
            out[key] = "".join(val)
        else:
            j = i
            while j < n and s[j] != " ":
                j += 1
            out[key] = s[i:j]
            i = j
    return out


def run_with_tty(argv, timeout=DEFAULT_TIMEOUT, env=None):
    """Run argv with a fresh pty as its controlling terminal and stdin
    (programs such as asciinema open /dev/tty) but stdout and stderr on
    pipes, so the exact output bytes come back. CompletedProcess (bytes)."""
    import fcntl
    import pty
    import termios
    master, slave = pty.openpty()

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = dict(os.environ if env is None else env,
               PYTHONIOENCODING="utf-8", LANG="C.UTF-8")
    try:
        return subprocess.run([str(a) for a in argv], stdin=slave,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, start_new_session=True,
                              preexec_fn=ctty, env=env)
    finally:
        os.close(master)
        os.close(slave)


# --------------------------------------------------------------------------
# bastiond's processes

def worker_pids(bastion, kind="--worker"):
    """PIDs of the session workers of this bastion (bastiond --worker,
    with its policy path on the command line); kind="--control": its
    control workers (bastionctl's)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if kind.encode() in argv and str(bastion.policy_path).encode() in argv:
            pids.append(int(d))
    return pids


def worker_monitor_pids(bastion):
    """One pid per connection: the session monitors (bastiond --worker
    processes whose parent is not one), without their confined children
    (bastion/privsep.h)."""
    pids = worker_pids(bastion)
    inside = {str(x) for x in pids}
    return [x for x in pids if proc_status(x).get("PPid") not in inside]


def proc_status(pid):
    """/proc/PID/status as a dict of field -> text ({} if it is gone)."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def rss_kib(pid):
    """Resident set size of pid in KiB (0 if it is gone)."""
    v = proc_status(pid).get("VmRSS")
    return int(v.split()[0]) if v else 0
