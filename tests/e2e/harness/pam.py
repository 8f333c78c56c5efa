"""A private PAM stack for the tests: pam_wrapper + pam_matrix.

pam_wrapper (Debian package libpam-wrapper) is preloaded into the program
under test and makes libpam read service files from a directory we own
(PAM_WRAPPER_SERVICE_DIR) instead of /etc/pam.d. Our "bastion" service uses
pam_matrix, which checks "user:secret:service" lines in a plain file. So the
tests never touch the real system PAM configuration or accounts, and they
work the same as root and as an ordinary user.

    pam = PamFixture(tmp_path / "pam")
    pam.add_user("alice", "s3cret")
    subprocess.run([...], env={**os.environ, **pam.env()})

With an ASan build (BASTION_SAN=1) the preloaded wrapper would come before
the ASan runtime, so env() adds verify_asan_link_order=0 to ASAN_OPTIONS
and disables pam_wrapper's RTLD_DEEPBIND (which sanitizers cannot handle;
Debian 12's pam_wrapper 1.1.4 reads UID_WRAPPER_DISABLE_DEEPBIND for it).
"""

import glob
import os
import pathlib
import subprocess

from . import util
from .util import HarnessError

MULTIARCH_GLOBS = ("/usr/lib/*-linux-gnu", "/usr/lib64", "/usr/lib",
                   "/lib/*-linux-gnu", "/lib64", "/lib")


def _pkgconfig(*args):
    try:
        p = subprocess.run(["pkg-config"] + list(args), capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return p.stdout.strip() if p.returncode == 0 else ""


def _first(patterns):
    for pat in patterns:
        for hit in sorted(glob.glob(pat)):
            if os.path.isfile(hit):
                return hit
    return None


def find_pam_wrapper():
    """(libpam_wrapper.so, pam_matrix.so) as absolute paths.

    Asks pkg-config first (its "Libs" is the library's full path and its
    "modules" variable the module directory), then globs the usual
    multiarch directories. Raises HarnessError naming the package when it
    is not installed."""
    lib = None
    for tok in _pkgconfig("--libs", "pam_wrapper").split():
        if tok.endswith(".so") and os.path.isfile(tok):
            lib = tok
    moddir = _pkgconfig("--variable=modules", "pam_wrapper")
    matrix = os.path.join(moddir, "pam_matrix.so") if moddir else None
    if matrix and not os.path.isfile(matrix):
        matrix = None
    lib = lib or _first(["%s/libpam_wrapper.so*" % d for d in MULTIARCH_GLOBS])
    matrix = matrix or _first(["%s/pam_wrapper/pam_matrix.so" % d
                               for d in MULTIARCH_GLOBS])
    if not lib or not matrix:
        raise HarnessError("pam_wrapper not found (libpam_wrapper.so=%s, "
                           "pam_matrix.so=%s): install the Debian package "
                           "libpam-wrapper (make deps)" % (lib, matrix))
    return lib, matrix


def find_pam_module(name):
    """Absolute path of a system PAM module such as pam_deny.so, or None."""
    return _first(["%s/security/%s" % (d, name) for d in MULTIARCH_GLOBS])


def _merge_opts(existing, add):
    """Merge colon-separated sanitizer options; add wins on conflicts."""
    opts = {}
    order = []
    for part in (existing or "").split(":") + add.split(":"):
        if not part:
            continue
        k = part.split("=", 1)[0]
        if k not in opts:
            order.append(k)
        opts[k] = part
    return ":".join(opts[k] for k in order)


class PamFixture:
    """A PAM service directory with a pam_matrix-backed service.

    workdir/pam.d/<service>  auth + account via pam_matrix passdb=...
    workdir/pam.d/other      pam_deny (unknown services fail closed)
    workdir/passdb           user:secret:service lines

    add_user() and remove_user() rewrite passdb at once; pam_matrix reads
    it on every authentication, so a running bastiond sees the change."""

    def __init__(self, workdir, service="bastion"):
        self.workdir = pathlib.Path(workdir)
        self.service = service
        self.service_dir = self.workdir / "pam.d"
        self.passdb = self.workdir / "passdb"
        self.wrapper, self.matrix = find_pam_wrapper()
        self.users = {}
        self.service_dir.mkdir(parents=True, exist_ok=True)
        self.write_service(service)
        deny = find_pam_module("pam_deny.so")
        if deny:
            (self.service_dir / "other").write_text(
                "auth required %s\naccount required %s\n"
                "password required %s\nsession required %s\n"
                % (deny, deny, deny, deny))
        self._write_passdb()

    def write_service(self, service, lines=None):
        """Write service file `service`. lines=None gives the standard
        pam_matrix auth+account stack; otherwise lines are written as is
        (module names must be absolute paths under pam_wrapper)."""
        if lines is None:
            lines = ["auth required %s passdb=%s" % (self.matrix, self.passdb),
                     "account required %s passdb=%s" % (self.matrix,
                                                        self.passdb)]
        (self.service_dir / service).write_text("\n".join(lines) + "\n")

    def add_user(self, name, secret, service=None):
        """Let name authenticate with secret (to this fixture's service
        unless service is given). Replaces an earlier secret."""
        for field in (name, secret, service or ""):
            if ":" in field or "\n" in field:
                raise ValueError("pam_matrix cannot store ':' or newlines: %r"
                                 % field)
        if not name or not secret:
            raise ValueError("name and secret must not be empty")
        self.users[name] = (secret, service or self.service)
        self._write_passdb()

    def remove_user(self, name):
        self.users.pop(name, None)
        self._write_passdb()

    def _write_passdb(self):
        tmp = self.passdb.with_suffix(".tmp")
        tmp.write_text("".join("%s:%s:%s\n" % (u, s, svc)
                               for u, (s, svc) in self.users.items()))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.passdb)

    def env(self, base=None):
        """Variables to add to a process's environment (base, default
        os.environ, is only read to merge LD_PRELOAD and ASAN_OPTIONS)."""
        base = os.environ if base is None else base
        preload = [p for p in base.get("LD_PRELOAD", "").split() if p]
        if self.wrapper not in preload:
            preload.append(self.wrapper)
        env = {
            "LD_PRELOAD": " ".join(preload),
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": str(self.service_dir),
            "PAM_MATRIX_PASSWD": str(self.passdb),
        }
        if util.sanitized():
            env["ASAN_OPTIONS"] = _merge_opts(base.get("ASAN_OPTIONS"),
                                              "verify_asan_link_order=0")
            # pam_wrapper dlopen()s libpam with RTLD_DEEPBIND, which the
            # sanitizer runtime refuses. The documented switch is
            # PAM_WRAPPER_DISABLE_DEEPBIND, but pam_wrapper 1.1.4 (Debian
            # 12) reads UID_WRAPPER_DISABLE_DEEPBIND: set both.
            env["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
            env["UID_WRAPPER_DISABLE_DEEPBIND"] = "1"
        return env

    def check(self, user, secret, pamcheck=None, service=None, wrapped=True,
              timeout=30):
        """Run tests/tools/pamcheck for (user, secret) through this stack
        (wrapped=False: without the wrapper, i.e. the system's PAM).
        Returns the CompletedProcess; stdout is "OK" or "FAIL: ..."."""
        pamcheck = pamcheck or (util.build_dir() / "tests" / "pamcheck")
        env = dict(os.environ)
        if wrapped:
            env.update(self.env())
        else:
            for k in ("PAM_WRAPPER", "PAM_WRAPPER_SERVICE_DIR",
                      "PAM_MATRIX_PASSWD"):
                env.pop(k, None)
            preload = [x for x in env.get("LD_PRELOAD", "").split()
                       if "pam_wrapper" not in x]
            env["LD_PRELOAD"] = " ".join(preload)
        return util.run([pamcheck, service or self.service, user],
                        input=secret + "\n", env=env, check=False,
                        timeout=timeout)
