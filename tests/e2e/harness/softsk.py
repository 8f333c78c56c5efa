"""Drive the test-only software security key (softsk.so) from e2e tests.

softsk.so implements OpenSSH's security-key provider API with OpenSSL and a
state directory (docs/SOFTSK.md).  This module runs the *real* OpenSSH
tools against it -- ssh-keygen to enrol and sign, ssh-agent/ssh-add to hold
keys -- and flips its switches (touch, PIN, unplugged, counter) between or
during operations.  Standard library only; runs under /usr/bin/python3.

    from harness.softsk import SoftSK
    sk = SoftSK(tmp_path / "softsk", build / "tests" / "softsk.so")
    pub = sk.enroll(tmp_path / "id_sk", type="ed25519-sk")
    sk.set_touch(False)            # next signature: user-presence bit clear
    subprocess.run([...], env=sk.env())

Every child is started without a controlling terminal and with stdin from
/dev/null and SSH_ASKPASS_REQUIRE=never, so a PIN prompt reads an empty line
instead of hanging a test.  The provider ignores the PIN anyway: whether a
signature is "user verified" is decided by set_uv().
"""

import base64
import fcntl
import os
import signal
import socket
import struct
import subprocess

from .util import wait_until

__all__ = ["SoftSK", "SoftSKError", "parse_sshsig", "read_sk_private_key",
           "SK_FLAG_UP", "SK_FLAG_UV"]

SK_FLAG_UP = 0x01   # signature flags: user present (touched)
SK_FLAG_UV = 0x04   # signature flags: user verified (PIN)

KEY_TYPES = ("ed25519-sk", "ecdsa-sk")
DEFAULT_TIMEOUT = 60
SUN_PATH_MAX = 107  # sockaddr_un.sun_path minus the NUL


class SoftSKError(RuntimeError):
    """A command run against the software key failed; carries its output."""

    def __init__(self, what, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        super().__init__("%s failed (exit %s): %s" % (
            what, proc.returncode, (proc.stderr or "").strip()))


class _Reader:
    """Bounded reader for SSH wire encodings: every read is checked."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated SSH encoding")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def string(self):
        return self.take(self.u32())

    def done(self):
        return self.pos == len(self.data)


def parse_sshsig(sig_path):
    """Decode an armored `ssh-keygen -Y sign` signature of a security key.

    Returns a dict: namespace, hash_alg, sig_type, flags (int), counter
    (int), public_key (bytes, SSH wire form).  OpenSSH 9.2's
    `ssh-keygen -Y verify` does not check the flags, so tests read them
    here.  Raises ValueError on anything that is not an sk signature.
    """
    with open(sig_path, "r", encoding="ascii") as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    if (len(lines) < 3 or lines[0] != "-----BEGIN SSH SIGNATURE-----"
            or lines[-1] != "-----END SSH SIGNATURE-----"):
        raise ValueError("%s: not an armored SSH signature" % sig_path)
    r = _Reader(base64.b64decode("".join(lines[1:-1]), validate=True))
    if r.take(6) != b"SSHSIG" or r.u32() != 1:
        raise ValueError("%s: not an SSHSIG v1 blob" % sig_path)
    public_key = r.string()
    namespace = r.string().decode()
    r.string()  # reserved
    hash_alg = r.string().decode()
    sig = _Reader(r.string())
    if not r.done():
        raise ValueError("%s: trailing data" % sig_path)
    sig_type = sig.string().decode()
    if not sig_type.startswith(("sk-ssh-ed25519", "sk-ecdsa-sha2-nistp256")):
        raise ValueError("%s: %s is not a security-key signature"
                         % (sig_path, sig_type))
    sig.string()  # the signature proper
    flags = sig.u8()
    counter = sig.u32()
    if not sig.done():
        raise ValueError("%s: trailing data in signature" % sig_path)
    return {"namespace": namespace, "hash_alg": hash_alg,
            "sig_type": sig_type, "flags": flags, "counter": counter,
            "public_key": public_key}


def read_sk_private_key(path):
    """Decode an unencrypted OpenSSH sk private key file.

    Returns a dict: type, application, flags (int), key_handle (bytes),
    public (bytes: 32-byte Ed25519 key or 65-byte P-256 point).
    """
    with open(path, "r", encoding="ascii") as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    if (lines[0] != "-----BEGIN OPENSSH PRIVATE KEY-----"
            or lines[-1] != "-----END OPENSSH PRIVATE KEY-----"):
        raise ValueError("%s: not an OpenSSH private key" % path)
    r = _Reader(base64.b64decode("".join(lines[1:-1]), validate=True))
    if r.take(15) != b"openssh-key-v1\0":
        raise ValueError("%s: bad magic" % path)
    if r.string() != b"none" or r.string() != b"none":
        raise ValueError("%s: encrypted keys are not supported" % path)
    r.string()  # kdf options
    if r.u32() != 1:
        raise ValueError("%s: expected exactly one key" % path)
    r.string()  # public key blob
    priv = _Reader(r.string())
    if priv.u32() != priv.u32():
        raise ValueError("%s: check bytes differ" % path)
    key_type = priv.string().decode()
    if key_type == "sk-ssh-ed25519@openssh.com":
        public = priv.string()
    elif key_type == "sk-ecdsa-sha2-nistp256@openssh.com":
        if priv.string() != b"nistp256":
            raise ValueError("%s: unexpected curve" % path)
        public = priv.string()
    else:
        raise ValueError("%s: %s is not a security key" % (path, key_type))
    application = priv.string().decode()
    flags = priv.u8()
    key_handle = priv.string()
    return {"type": key_type, "application": application, "flags": flags,
            "key_handle": key_handle, "public": public}


class SoftSK:
    """One software security key: a state directory plus the provider."""

    def __init__(self, state_dir, provider_path):
        provider_path = os.fspath(provider_path)
        if not os.path.isfile(provider_path):
            raise FileNotFoundError(
                "%s missing: build it with `make B=<dir> <dir>/tests/softsk.so`"
                % provider_path)
        self.state_dir = os.path.abspath(os.fspath(state_dir))
        # ssh-agent -P matches the realpath of the provider ssh-add names
        self.provider = os.path.realpath(provider_path)
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        self._agents = {}  # pid -> (Popen, socket path, stderr file)

    # -- environment and process plumbing ---------------------------------

    def env(self, base=None):
        """Environment for an OpenSSH tool that should use this key.

        A copy of `base` (default os.environ) with SOFTSK_DIR and
        SSH_SK_PROVIDER set, and SSH_ASKPASS_REQUIRE=never so no graphical
        PIN prompt appears.  ssh-keygen and ssh-add take the provider from
        SSH_SK_PROVIDER; OpenSSH 9.2's ssh does not (it defaults to
        "internal"), so give ssh the options from ssh_options() too.
        """
        env = dict(os.environ if base is None else base)
        env["SOFTSK_DIR"] = self.state_dir
        env["SSH_SK_PROVIDER"] = self.provider
        env["SSH_ASKPASS_REQUIRE"] = "never"
        return env

    def ssh_options(self):
        """The ssh(1) options that make it sign with this key."""
        return ["-o", "SecurityKeyProvider=%s" % self.provider]

    def run(self, argv, env=None, check=False, timeout=DEFAULT_TIMEOUT,
            what=None):
        """Run argv with this key's environment, detached from any tty.

        Returns subprocess.CompletedProcess (text output); with check=True
        raises SoftSKError on a non-zero exit.
        """
        proc = subprocess.run(
            [os.fspath(a) for a in argv], env=self.env(env),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=timeout,
            start_new_session=True)
        if check and proc.returncode != 0:
            raise SoftSKError(what or os.path.basename(os.fspath(argv[0])),
                              proc)
        return proc

    def _path(self, name):
        return os.path.join(self.state_dir, name)

    def _switch(self, name, on):
        path = self._path(name)
        if on:
            with open(path, "w", encoding="ascii"):
                pass
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    # -- enrolment and signing ---------------------------------------------

    def enroll(self, path, type="ed25519-sk", verify_required=False,
               attestation_path=None, challenge_path=None, application=None,
               no_touch_required=False, comment=None):
        """Create a key with `ssh-keygen -t TYPE -w PROVIDER -f PATH -N ""`.

        Optional -O verify-required, no-touch-required,
        write-attestation=, challenge= and application=.  Returns the path
        of the public key (PATH.pub); raises SoftSKError on failure.
        """
        if type not in KEY_TYPES:
            raise ValueError("type must be one of %s" % (KEY_TYPES,))
        path = os.fspath(path)
        argv = ["ssh-keygen", "-q", "-t", type, "-w", self.provider,
                "-f", path, "-N", ""]
        if comment is not None:
            argv += ["-C", comment]
        if verify_required:
            argv += ["-O", "verify-required"]
        if no_touch_required:
            argv += ["-O", "no-touch-required"]
        if attestation_path is not None:
            argv += ["-O", "write-attestation=%s"
                     % os.path.abspath(os.fspath(attestation_path))]
        if challenge_path is not None:
            argv += ["-O", "challenge=%s"
                     % os.path.abspath(os.fspath(challenge_path))]
        if application is not None:
            argv += ["-O", "application=%s" % application]
        self.run(argv, check=True, what="enrolment of %s" % path)
        return path + ".pub"

    def sign(self, key_path, message_path, namespace="file", agent_sock=None,
             check=True):
        """Sign a file with `ssh-keygen -Y sign`; returns the CompletedProcess.

        With agent_sock the agent signs (pass the .pub as key_path); the
        signature lands in MESSAGE.sig, replacing an older one.
        """
        sig = os.fspath(message_path) + ".sig"
        if os.path.exists(sig):
            os.unlink(sig)
        env = dict(os.environ)
        if agent_sock is not None:
            env["SSH_AUTH_SOCK"] = os.fspath(agent_sock)
        else:
            env.pop("SSH_AUTH_SOCK", None)
        return self.run(["ssh-keygen", "-Y", "sign", "-n", namespace,
                         "-f", key_path, message_path], env=env, check=check,
                        what="signing %s" % os.fspath(message_path))

    @staticmethod
    def verify(allowed_signers, principal, message_path, sig_path=None,
               namespace="file", verbose=False):
        """Check a signature with `ssh-keygen -Y verify`; no exception.

        Returns the CompletedProcess.  verbose adds -vvv, whose stderr
        shows "signature details: counter = N, flags = 0xNN".
        """
        sig_path = sig_path or os.fspath(message_path) + ".sig"
        argv = ["ssh-keygen", "-Y", "verify", "-f", allowed_signers,
                "-I", principal, "-n", namespace, "-s", sig_path]
        if verbose:
            argv.insert(1, "-vvv")
        with open(message_path, "rb") as msg:
            return subprocess.run([os.fspath(a) for a in argv], stdin=msg,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  timeout=DEFAULT_TIMEOUT,
                                  start_new_session=True)

    # -- switches ----------------------------------------------------------

    def set_touch(self, touched):
        """False: signatures carry a clear user-presence bit (`no-touch`)."""
        self._switch("no-touch", not touched)

    def set_uv(self, verified):
        """True: signatures carry the user-verified bit (`uv`)."""
        self._switch("uv", verified)

    def set_fail(self, failing):
        """True: every operation fails as if the key were unplugged."""
        self._switch("fail", failing)

    def set_aaguid(self, aaguid_hex):
        """AAGUID for later attestations (32 hex digits); None: default."""
        if aaguid_hex is None:
            self._switch("aaguid", False)
            return
        with open(self._path("aaguid"), "w", encoding="ascii") as f:
            f.write(aaguid_hex + "\n")

    def counter(self):
        """The persisted signature counter (0 before the first signature)."""
        try:
            with open(self._path("counter"), "r", encoding="ascii") as f:
                return int(f.read().strip())
        except FileNotFoundError:
            return 0

    def set_counter(self, value):
        """Overwrite the counter, e.g. lower it to play a cloned key."""
        value = int(value)
        if not 0 <= value <= 0xffffffff:
            raise ValueError("counter must fit in 32 bits")
        with open(self._path("lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            tmp = self._path("counter.tmp.py%d" % os.getpid())
            with open(tmp, "w", encoding="ascii") as f:
                f.write("%d\n" % value)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self._path("counter"))

    def log_lines(self):
        """The provider's operation log, one string per operation."""
        try:
            with open(self._path("log"), "r", encoding="ascii",
                      errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    # -- ssh-agent ---------------------------------------------------------

    def start_agent(self, sock_dir):
        """Start `ssh-agent -D -a SOCK -P PROVIDER` in the background.

        The agent (and the ssh-sk-helper it runs per signature) inherits
        SOFTSK_DIR, so switches flipped later apply to the running agent.
        Returns (SSH_AUTH_SOCK path, pid).  Its stderr goes to
        SOCK_DIR/ssh-agent.log.
        """
        sock_dir = os.path.abspath(os.fspath(sock_dir))
        os.makedirs(sock_dir, exist_ok=True)
        sock = os.path.join(sock_dir, "agent.sock")
        if len(sock.encode()) > SUN_PATH_MAX:
            raise ValueError("agent socket path too long for AF_UNIX: %s"
                             % sock)
        if os.path.exists(sock):
            os.unlink(sock)
        errlog = open(os.path.join(sock_dir, "ssh-agent.log"), "w")
        proc = subprocess.Popen(
            ["ssh-agent", "-D", "-a", sock, "-P", self.provider],
            env=self.env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=errlog,
            start_new_session=True)
        self._agents[proc.pid] = (proc, sock, errlog)

        def answers():
            if proc.poll() is not None:
                self.stop_agent(proc.pid)
                raise RuntimeError("ssh-agent exited with %s; see %s"
                                   % (proc.returncode, errlog.name))
            return self._agent_answers(sock)
        if not wait_until(answers, 10, fail=False):
            self.stop_agent(proc.pid)
            raise RuntimeError("ssh-agent did not open %s within 10s" % sock)
        return sock, proc.pid

    @staticmethod
    def _agent_answers(sock):
        if not os.path.exists(sock):
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop_agent(self, pid=None):
        """Stop one agent started here (by pid), or all of them."""
        pids = list(self._agents) if pid is None else [pid]
        for p in pids:
            entry = self._agents.pop(p, None)
            if entry is None:
                continue
            proc, sock, errlog = entry
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            errlog.close()
            if os.path.exists(sock):
                os.unlink(sock)

    def ssh_add(self, key_path, agent_sock, check=True):
        """`ssh-add KEY` into the agent at agent_sock, naming this provider.

        Returns the CompletedProcess; raises SoftSKError if check and it
        failed.
        """
        env = dict(os.environ, SSH_AUTH_SOCK=os.fspath(agent_sock))
        return self.run(["ssh-add", "-S", self.provider, key_path], env=env,
                        check=check, what="ssh-add %s" % os.fspath(key_path))
