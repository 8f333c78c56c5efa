"""A minimal Debian 12 machine booted with systemd as PID 1, for the boot test.

The tree is made once with debootstrap (minbase plus what the installed
bastion needs at run time and an sshd for the device) and cached; each run
boots a fresh copy of it under systemd-nspawn with a private network:

    tree = ensure_rootfs(cache_dir)          # debootstrap when missing
    with Container(tree, workdir) as box:    # copy, boot, wait for systemd
        box.sh("systemctl is-active bastiond")
        box.net(["ssh", ...])                 # host program, box's network

Commands run inside through nsenter into the container's namespaces (the
host's PID 1 is not systemd, so machinectl cannot reach it: hence
--register=no --keep-unit). Programs of the host (the OpenSSH client with
the software security key) run in the box's network namespace only, so
they reach the bastion on its loopback address while keeping the host's
files. Standard library only (Debian's /usr/bin/python3).
"""

import hashlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

from harness.util import wait_until

# What the installed product needs at run time (the shared libraries of
# bastiond, bastion-recorder, bastionctl, bastion-notify, bastion-webd and
# pam_bastion.so; openssl makes the console's certificate), plus systemd
# itself, make (`make install`), and an OpenSSH server standing in for a
# hospital device. Changing the list makes a new cached tree.
PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "make", "openssh-server",
    "openssh-client", "libssh-4", "libuv1", "libfido2-1", "libyaml-0-2",
    "libsqlite3-0", "libzstd1", "libseccomp2", "libarchive13", "libsystemd0",
    "libpam-modules", "libpam-runtime", "libssl3", "procps", "iproute2",
    "libcurl4", "libjansson4", "libcbor0.8", "libpq5", "libmicrohttpd12", "libmagic1",
    "openssl",
]
SUITE = "bookworm"


def _mirror():
    """The Debian mirror apt already uses (deb822 or one-line sources)."""
    for path in ("/etc/apt/sources.list.d/debian.sources",
                 "/etc/apt/sources.list"):
        try:
            text = pathlib.Path(path).read_text()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+)", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", text, re.M)
        if m and "security" not in m.group(1):
            return m.group(1)
    return "http://deb.debian.org/debian"


def ensure_rootfs(cache_dir):
    """The cached tree for PACKAGES; made with debootstrap when missing."""
    cache_dir = pathlib.Path(cache_dir)
    tag = hashlib.sha256((SUITE + " " + ",".join(PACKAGES)).encode())
    tree = cache_dir / ("%s-%s" % (SUITE, tag.hexdigest()[:12]))
    if (tree / "usr/lib/systemd/systemd").exists():
        return tree
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / (tree.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
         SUITE, str(tmp), _mirror()],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=900)
    if proc.returncode != 0:
        raise RuntimeError("debootstrap failed (%d):\n%s"
                           % (proc.returncode, proc.stdout[-4000:]))
    # no host name lookups leave the box; apt's caches are not needed
    shutil.rmtree(tmp / "var/cache/apt/archives", ignore_errors=True)
    os.rename(tmp, tree)
    return tree


class CommandFailed(RuntimeError):
    def __init__(self, argv, proc):
        self.proc = proc
        super().__init__("%s exited %d\nstdout: %s\nstderr: %s" % (
            argv, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))


class Container:
    """One booted copy of the tree. root: its directory on the host."""

    def __init__(self, tree, workdir, name="bastion-boot"):
        self.tree = pathlib.Path(tree)
        self.workdir = pathlib.Path(workdir)
        self.root = self.workdir / "root"
        self.name = name
        self.proc = None
        self.leader = None
        self.console = self.workdir / "console.log"

    # -- life cycle ----------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=60):
        shutil.rmtree(self.root, ignore_errors=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", "--reflink=auto", str(self.tree),
                        str(self.root)], check=True)
        (self.root / "etc/hostname").write_text(self.name + "\n")
        log = open(self.console, "w")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-q", "-D", str(self.root), "-b",
             "--private-network", "--register=no", "--keep-unit",
             "-M", self.name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout

        def leader():
            if self.proc.poll() is not None:
                raise RuntimeError("systemd-nspawn exited %d:\n%s" % (
                    self.proc.returncode, self.console.read_text()[-3000:]))
            self.leader = self._find_leader()
            return self.leader
        wait_until(leader, timeout, what="PID 1 in the container")
        # systemd as PID 1 answers once it has its private socket
        last = []

        def up():
            last[:] = [self.run(["systemctl", "is-system-running", "--wait"],
                                check=False, timeout=max(
                                    1, deadline - time.monotonic()))]
            return last[0].stdout.strip() in ("running", "degraded")
        wait_until(up, max(1, deadline - time.monotonic()), interval=0.2,
                   what=lambda: "systemd up: %r\n%s" % (
                       last[0].stdout if last else None,
                       self.console.read_text()[-3000:]))

    def _find_leader(self):
        """The container's PID 1: the nspawn process's child running
        systemd (nspawn forks once more for the namespaces)."""
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                kids = pathlib.Path("/proc/%d/task/%d/children" %
                                    (pid, pid)).read_text().split()
            except OSError:
                continue
            for k in kids:
                try:
                    exe = os.readlink("/proc/%s/exe" % k)
                except OSError:
                    continue
                if exe.endswith("/systemd"):
                    return int(k)
                todo.append(int(k))
        return None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.run(["systemctl", "poweroff"], check=False, timeout=10)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)

    # -- commands ------------------------------------------------------------

    def run(self, argv, check=True, timeout=60, input=None, env=None):
        """argv inside the container (all its namespaces), as root."""
        full = ["nsenter", "-t", str(self.leader), "-a", "--"]
        full += ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                 "LANG=C.UTF-8"]
        full += ["%s=%s" % kv for kv in (env or {}).items()]
        full += [str(a) for a in argv]
        proc = subprocess.run(full, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise CommandFailed(argv, proc)
        return proc

    def sh(self, script, check=True, timeout=60):
        return self.run(["sh", "-ec", script], check=check, timeout=timeout)

    def net(self, argv, env=None, timeout=60, input=None, binary=False):
        """A host program inside the container's network namespace only."""
        return subprocess.run(
            ["nsenter", "-t", str(self.leader), "-n", "--"] +
            [str(a) for a in argv], env=env, input=input,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=not binary,
            timeout=timeout, start_new_session=True)

    def path(self, inside):
        """The host path of a file inside the container."""
        return self.root / str(inside).lstrip("/")

    def show(self, unit, *props):
        """systemctl show UNIT -p PROPS -> dict."""
        argv = ["systemctl", "show", unit]
        for p in props:
            argv += ["-p", p]
        out = self.run(argv).stdout
        return dict(line.split("=", 1) for line in out.splitlines()
                    if "=" in line)

    def journal(self, *units, priority=None):
        argv = ["journalctl", "--no-pager", "-o", "short-precise"]
        for u in units:
            argv += ["-u", u]
        if priority is not None:
            argv += ["-p", str(priority)]
        return self.run(argv, check=False).stdout
