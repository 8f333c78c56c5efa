"""scripts/install.sh into a temporary DESTDIR, and the installed tree.

Nothing outside the DESTDIR is touched (install.sh runs no systemctl or
systemd-tmpfiles when DESTDIR is set). Checks: every file lands in its
Debian place with its mode; configuration is written only when absent
and survives a second install and the uninstall; the installed starter
policy passes `bastiond --check`; the man pages render without warnings;
the unit passes `systemd-analyze verify` and rates at most 2.0 with
`systemd-analyze security --offline=yes` (both skipped when systemd-analyze
is not installed).
"""

import gzip
import os
import pathlib
import re
import shutil
import stat
import subprocess

import pytest

from harness import util

REPO = pathlib.Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install.sh"
MAX_EXPOSURE = 2.0

PAMDIR = "/lib/x86_64-linux-gnu/security"
UNITDIR = "/lib/systemd/system"

PROGRAMS = {
    "usr/sbin/bastiond": 0o755,
    "usr/sbin/bastion-recorder": 0o755,
    "usr/sbin/bastionctl": 0o755,
    "usr/bin/bastion-verify": 0o755,
    "usr/bin/bastion-replay": 0o755,
}
MAN_PAGES = ["man8/bastiond.8.gz", "man8/bastion-recorder.8.gz",
             "man8/bastionctl.8.gz", "man8/pam_bastion.8.gz",
             "man1/bastion-verify.1.gz", "man1/bastion-replay.1.gz",
             "man5/bastion-policy.5.gz"]


def _missing(what, path):
    msg = ("%s not found at %s: build it with `make B=%s tests`"
           % (what, path, util.build_dir()))
    if os.environ.get("BASTION_STRICT", "0") not in ("", "0"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def build():
    b = util.build_dir()
    for name in ("bastiond", "bastion-recorder", "bastionctl",
                 "bastion-verify", "bastion-replay", "pam_bastion.so"):
        if not (b / name).exists():
            _missing(name, b / name)
    return b


def install(dest, build, *args, extra_env=None, check=True):
    env = dict(os.environ)
    env.update({"DESTDIR": str(dest), "B": str(build),
                "PAMDIR": PAMDIR, "UNITDIR": UNITDIR,
                "TMPFILESDIR": "/usr/lib/tmpfiles.d"})
    env.update(extra_env or {})
    return util.run(["sh", INSTALL] + list(args), env=env, check=check,
                    timeout=120)


def mode(p):
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(scope="module")
def tree(tmp_path_factory, build):
    dest = tmp_path_factory.mktemp("destdir")
    install(dest, build)
    return dest


# -- the tree -----------------------------------------------------------------

@pytest.mark.timeout(120)
def test_programs(tree, build):
    for rel, m in PROGRAMS.items():
        p = tree / rel
        assert p.is_file(), rel
        assert mode(p) == m, (rel, oct(mode(p)))
        assert p.read_bytes() == (build / p.name).read_bytes(), rel


@pytest.mark.timeout(60)
def test_recorder_is_beside_bastiond(tree):
    """bastiond starts bastion-recorder from its own directory."""
    assert (tree / "usr/sbin/bastion-recorder").is_file()


@pytest.mark.timeout(60)
def test_pam_module_and_service(tree):
    mod = tree / PAMDIR.lstrip("/") / "pam_bastion.so"
    assert mod.is_file()
    assert mode(mod) == 0o644
    svc = tree / "etc/pam.d/bastion"
    assert svc.read_text() == (REPO / "pam/bastion").read_text()
    assert mode(svc) == 0o644
    ex = tree / "usr/share/doc/bastion/examples/pam.d"
    assert (ex / "bastion.sss").read_text() == (
        REPO / "pam/bastion.sss").read_text()


@pytest.mark.timeout(60)
def test_pam_dir_default_is_debians(tmp_path, build):
    """Without PAMDIR the script asks pkg-config / dpkg-architecture."""
    env = dict(os.environ)
    env.pop("PAMDIR", None)
    expect = util.run(["pkg-config", "--variable=libdir", "pam"],
                      check=False).stdout.strip()
    if not expect:
        pytest.skip("pkg-config does not know pam here")
    out = util.run(["sh", INSTALL, "--list"], env=env).stdout.split()
    assert expect + "/security/pam_bastion.so" in out, out


@pytest.mark.timeout(60)
def test_units_and_tmpfiles(tree):
    unit = tree / UNITDIR.lstrip("/") / "bastiond.service"
    assert unit.read_text() == (REPO / "systemd/bastiond.service").read_text()
    assert mode(unit) == 0o644
    tmpf = tree / "usr/lib/tmpfiles.d/bastion.conf"
    text = tmpf.read_text()
    assert re.search(r"(?m)^d /run/faillock ", text)
    assert re.search(r"(?m)^d /var/lib/bastion/state ", text)


@pytest.mark.timeout(60)
def test_documentation(tree):
    doc = tree / "usr/share/doc/bastion"
    for name in ("README.md", "POLICY.md", "ARCHITECTURE.md", "INSTALL.md",
                 "pam.md", "systemd.md", "examples/policy.yaml"):
        assert (doc / name).is_file(), name
    assert (doc / "examples/policy.yaml").read_text() == (
        REPO / "policies/example.yaml").read_text()


@pytest.mark.timeout(60)
def test_man_pages_installed(tree):
    for rel in MAN_PAGES:
        p = tree / "usr/share/man" / rel
        assert p.is_file(), rel
        src = REPO / "docs/man" / rel.split("/")[1][:-3]
        assert gzip.decompress(p.read_bytes()) == src.read_bytes(), rel


@pytest.mark.timeout(120)
@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_pages_render_without_warnings(tree, page):
    if not shutil.which("man"):
        pytest.skip("man is not installed")
    p = tree / "usr/share/man" / page
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat",
               PAGER="cat")
    r = util.run(["man", "--warnings", "-l", p], env=env, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    name = pathlib.Path(page).name.split(".")[0]
    assert name.upper().replace("-", "\u2010") in r.stdout or \
        name.upper() in r.stdout, r.stdout[:200]
    assert "SEE ALSO" in r.stdout


# -- configuration ---------------------------------------------------------------

@pytest.mark.timeout(60)
def test_starter_policy_is_valid(tree, build):
    pol = tree / "etc/bastion/policy.yaml"
    assert mode(pol) == 0o640
    assert mode(tree / "etc/bastion") == 0o750
    r = util.run([build / "bastiond", "-f", pol, "--check"], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK (0 vendors, 0 devices" in r.stdout
    text = pol.read_text()
    for path in ("/var/lib/bastion/state", "/var/lib/bastion/recordings",
                 "/run/bastion"):
        assert path in text


@pytest.mark.timeout(120)
def test_configuration_is_kept(tmp_path, build):
    install(tmp_path, build)
    pol = tmp_path / "etc/bastion/policy.yaml"
    svc = tmp_path / "etc/pam.d/bastion"
    pol.write_text("# the hospital's own\n")
    svc.write_text("# the hospital's own\n")
    r = install(tmp_path, build)
    assert "kept /etc/bastion/policy.yaml" in r.stdout
    assert pol.read_text() == "# the hospital's own\n"
    assert svc.read_text() == "# the hospital's own\n"


@pytest.mark.timeout(120)
def test_uninstall(tmp_path, build):
    install(tmp_path, build)
    listed = install(tmp_path, build, "--list").stdout.split()
    for rel in listed:
        assert (tmp_path / rel.lstrip("/")).exists(), rel
    install(tmp_path, build, "--uninstall")
    left = sorted(str(p.relative_to(tmp_path))
                  for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["etc/bastion/policy.yaml", "etc/pam.d/bastion"], left
    assert not (tmp_path / "usr/share/doc/bastion").exists()


@pytest.mark.timeout(120)
def test_prefix(tmp_path, build):
    """PREFIX=/usr/local: programs there, and the unit starts them there."""
    install(tmp_path, build, extra_env={"PREFIX": "/usr/local"})
    assert (tmp_path / "usr/local/sbin/bastiond").is_file()
    assert (tmp_path / "usr/local/share/man/man8/bastiond.8.gz").is_file()
    unit = (tmp_path / UNITDIR.lstrip("/") / "bastiond.service").read_text()
    assert "ExecStart=/usr/local/sbin/bastiond " in unit
    assert "/usr/sbin/" not in unit


@pytest.mark.timeout(60)
def test_missing_build_is_an_error(tmp_path):
    r = install(tmp_path / "d", tmp_path / "nothing", check=False)
    assert r.returncode != 0
    assert "is missing" in r.stderr


# -- systemd ---------------------------------------------------------------------

def _analyze():
    p = shutil.which("systemd-analyze")
    if not p:
        pytest.skip("systemd-analyze is not installed (apt-get install "
                    "systemd)")
    return p


@pytest.mark.timeout(120)
def test_unit_verifies(tree, tmp_path):
    """systemd-analyze verify on the installed unit: syntax, the programs
    it starts are executable, and its Documentation= man pages resolve
    (among those installed). verify --root= would need the whole systemd
    unit tree inside DESTDIR, so the unit is checked as a copy whose
    program paths point into DESTDIR."""
    sa = _analyze()
    text = (tree / UNITDIR.lstrip("/") / "bastiond.service").read_text()
    assert "/usr/sbin/bastiond " in text
    unit = tmp_path / "bastiond.service"
    unit.write_text(text.replace("/usr/sbin/", "%s/usr/sbin/" % tree))
    env = dict(os.environ, MANPATH=str(tree / "usr/share/man"))
    r = util.run([sa, "verify", "--man=yes", unit], env=env, check=False,
                 cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert out.strip() == "", out


@pytest.mark.timeout(120)
def test_unit_exposure(tree):
    sa = _analyze()
    unit = tree / UNITDIR.lstrip("/") / "bastiond.service"
    r = util.run([sa, "security", "--offline=yes", "--no-pager", unit],
                 check=False)
    out = r.stdout + r.stderr
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, out
    level = float(m.group(1))
    print("systemd-analyze security --offline=yes bastiond.service: %.1f"
          % level)
    assert level <= MAX_EXPOSURE, out
