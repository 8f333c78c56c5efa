"""People who log in through the bastion with the real OpenSSH client.

A Person has a software security key (or a plain key), a PAM secret and
an ssh_config for `Host bastion`. Two factors are answered without a
terminal: the key signs through the softsk provider, and the
keyboard-interactive secret comes from an SSH_ASKPASS script
(SSH_ASKPASS_REQUIRE=force), so ssh needs no tty. Interactive sessions use
pexpect (spawn()).

Like a real engineer, a Person connects with agent forwarding (`ssh -A`,
`sftp -A`) to an ssh-agent of their own that holds their key: the bastion
asks that agent for a touch of the key before it reaches a device
(docs/FIDO2.md). The agent (SoftSK.start_agent, so the softsk switches
apply to it) starts on first use and stops with the softsk fixture. Pass
agent=False to a call, or to the constructor, to connect without one.
"""

import pathlib
import stat
import subprocess

from . import util


class Person:
    def __init__(self, world, softsk, name, secret, key_type="ed25519-sk",
                 dir=None, verify_required=False, agent=True):
        self.world = world
        self.softsk = softsk
        self.name = name
        self.secret = secret
        self.agent = agent          # default for every connection
        self._agent_sock = None
        self.dir = pathlib.Path(dir or world.dir / "people" / name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = self.dir / ("id_" + key_type.replace("-", "_"))
        if key_type.endswith("-sk"):
            softsk.enroll(self.key, type=key_type,
                          verify_required=verify_required, comment=name)
        else:
            util.keygen(self.key, key_type, comment=name)
        self.pub = (self.dir / (self.key.name + ".pub")).read_text().strip()
        self.askpass = self.dir / "askpass"
        self.set_secret(secret)

    def set_secret(self, secret):
        """The secret this person types (not what PAM expects)."""
        self.secret = secret
        self.askpass.write_text("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % secret)
        self.askpass.chmod(stat.S_IRWXU)

    def public_key(self):
        """'type base64' for the policy."""
        return " ".join(self.pub.split()[:2])

    def config(self, key=None):
        """The ssh_config for this person (written once: concurrent ssh
        clients read it and the bastion's known_hosts)."""
        name = "ssh_config" if key is None else "ssh_config-" + \
            pathlib.Path(key).name
        path = self.dir / name
        if not path.exists():
            self.world.bastion.ssh_config(
                path, key or self.key, provider=self.softsk.provider)
        return path

    def _use_agent(self, agent):
        return self.agent if agent is None else agent

    def agent_sock(self):
        """SSH_AUTH_SOCK of this person's ssh-agent, started (once, with
        the key added) on first use. Stopped by the softsk fixture."""
        if self._agent_sock is None:
            sock, _ = self.softsk.start_agent(util.short_tmpdir("bst-ag-"))
            self.softsk.ssh_add(self.key, sock)
            self._agent_sock = sock
        return self._agent_sock

    def use_agent(self, sock):
        """Connect through the agent at sock (e.g. one without the key)
        instead of this person's own."""
        self._agent_sock = sock

    def env(self, agent=None):
        env = self.softsk.env()
        env["SSH_ASKPASS"] = str(self.askpass)
        env["SSH_ASKPASS_REQUIRE"] = "force"
        env["DISPLAY"] = env.get("DISPLAY", ":0")
        if self._use_agent(agent):
            env["SSH_AUTH_SOCK"] = str(self.agent_sock())
        else:
            env.pop("SSH_AUTH_SOCK", None)   # never the caller's agent
        return env

    def argv(self, *args, login=None, key=None, tty=False, extra=None,
             options=(), agent=None):
        cfg = self.config(key=key)
        argv = [util.SSH, "-F", str(cfg)]
        if self._use_agent(agent):
            argv.append("-A")
        # command-line options win over the config file's first values
        for k, v in (extra or {}).items():
            argv += ["-o", "%s=%s" % (k, v)]
        argv += list(options)
        argv.append("-tt" if tty else "-T")
        argv.append("%s@bastion" % (login or self.name))
        return argv + [str(a) for a in args]

    def ssh(self, *args, login=None, key=None, input=None, timeout=60,
            extra=None, options=(), binary=False, agent=None):
        """Run ssh to the bastion without a tty; CompletedProcess."""
        return subprocess.run(
            self.argv(*args, login=login, key=key, extra=extra,
                      options=options, agent=agent),
            input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.env(agent), timeout=timeout, text=not binary,
            start_new_session=True)

    def ssh_when_ready(self, *args, timeout=10, **kw):
        """ssh(*args, **kw), tried again until it succeeds (the bastion is
        getting over something: a full pool, a lost recorder); returns
        the first success, or fails after timeout seconds."""
        def ok():
            r = self.ssh(*args, **kw)
            return r if r.returncode == 0 else None
        return util.wait_until(ok, timeout, interval=0.3, what=lambda:
                               "%s: ssh %r succeeding" % (self.name, args))

    def popen(self, *args, login=None, options=(), agent=None, **kw):
        return subprocess.Popen(
            self.argv(*args, login=login, options=options, agent=agent),
            env=self.env(agent), start_new_session=True, **kw)

    def forward(self, device, port, login=None, exit_on_failure=True,
                **kw):
        """`ssh -N -L LPORT:device:port` through the bastion (as
        person+device unless login), waiting until LPORT accepts.
        kw: Popen's (stdout=..., stderr=...; DEVNULL by default).
        Returns (Popen, LPORT)."""
        lport = util.free_port("127.0.0.1")
        options = ["-N", "-L", "%d:%s:%d" % (lport, device, port)]
        if exit_on_failure:
            options += ["-o", "ExitOnForwardFailure=yes"]
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        proc = self.popen(options=options,
                          login=login or "%s+%s" % (self.name, device), **kw)
        try:
            util.wait_tcp("127.0.0.1", lport, timeout=20)
        except BaseException:
            proc.kill()
            proc.wait(10)
            raise
        return proc, lport

    def spawn(self, *args, login=None, rows=24, cols=80, timeout=30,
              agent=None):
        """An interactive session through a real pty (pexpect)."""
        import pexpect
        argv = self.argv(*args, login=login, tty=True, agent=agent)
        child = pexpect.spawn(argv[0], argv[1:], env=self.env(agent),
                              dimensions=(rows, cols), timeout=timeout,
                              encoding="utf-8", codec_errors="replace")
        return child

    def sftp(self, commands, device, timeout=60, agent=None):
        """sftp with commands on stdin (not -b: batch mode would forbid
        the keyboard-interactive factor). sftp never forwards an agent
        unless given -A (OpenSSH 8.4 and later)."""
        cfg = self.config()
        argv = [util.SFTP, "-F", str(cfg)]
        if self._use_agent(agent):
            argv.append("-A")
        return subprocess.run(
            argv + ["%s+%s@bastion" % (self.name, device)],
            input=commands, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.env(agent), timeout=timeout, text=True,
            start_new_session=True)


def resize(child, rows, cols, timeout=10):
    """Resize the terminal of child (a pexpect shell session through the
    bastion) and wait until `stty size` on the far side shows it: the
    window change has gone through the bastion."""
    child.setwinsize(rows, cols)
    want = "%d %d" % (rows, cols)

    def seen():
        child.sendline("stty size")
        return child.expect([want + "\r", r"\d+ \d+\r"]) == 0
    util.wait_until(seen, timeout, interval=0.1,
                    what="`stty size` showing %s" % want)


def add_site_people(world, softsk):
    """The standard cast: alice (acme), gina (globex), bob (admin),
    carol (auditor). Returns a dict name -> Person."""
    people = {}
    for name, role, vendor in (("alice", "engineer", "acme"),
                               ("gina", "engineer", "globex"),
                               ("bob", "admin", None),
                               ("carol", "auditor", None)):
        secret = "s3cret-" + name
        p = Person(world, softsk, name, secret)
        if role == "engineer":
            world.add_engineer(vendor, name, p.public_key(), secret=secret)
        elif role == "admin":
            world.add_admin(name, p.public_key(), secret=secret)
        else:
            world.add_auditor(name, p.public_key(), secret=secret)
        people[name] = p
    return people
