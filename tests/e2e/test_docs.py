"""The documents say what the code does (issue 15, item 6).

- docs/CLIENTS.md lists the algorithms the bastion offers: compared with
  what a real `ssh -vv` sees in the bastion's KEXINIT, and with the lists
  in bastion/bastiond.h (the user key types are not in the KEXINIT);
- README.md's requirements are scripts/deps.sh's packages, every one;
- every `make TARGET` the README and docs/DEMO.md name is a Makefile
  target (asked of make itself: `make -n TARGET`);
- every `bastionctl VERB` they name is a verb bastionctl knows;
- the README's report example runs: `bastionctl report` (this month) on a
  site with a session lists it, exit 0.
"""

import pathlib
import re
import subprocess

import pytest

from harness import util

REPO = pathlib.Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", REPO / "docs" / "DEMO.md",
        REPO / "docs" / "CLIENTS.md"]


def clients_md():
    return (REPO / "docs" / "CLIENTS.md").read_text()


def documented_algorithms():
    """The `name: a,b,c` lines of CLIENTS.md's fenced "offered" block."""
    m = re.search(r"<!-- offered -->\s*```\n(.*?)```", clients_md(), re.S)
    assert m, "docs/CLIENTS.md: no ```-block after <!-- offered -->"
    out = {}
    for line in m.group(1).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = [a.strip() for a in v.split(",") if a.strip()]
    return out


def header_list(name):
    """A string #define of bastion/bastiond.h, its C literals joined."""
    h = (REPO / "bastion" / "bastiond.h").read_text()
    m = re.search(r"#define %s\s*\\?\n?((?:\s*\"[^\"]*\"\s*\\?\n?)+)" % name, h)
    assert m, name
    return "".join(re.findall(r"\"([^\"]*)\"", m.group(1))).split(",")


def kexinit_seen(world, person):
    """What `ssh -vv` reads in the bastion's KEXINIT proposal."""
    r = subprocess.run(
        [util.SSH, "-vv", "-F", str(person.config()), "-o", "BatchMode=yes",
         "-o", "PreferredAuthentications=none", "-T",
         "%s@bastion" % person.name, "true"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, timeout=60,
        env=person.env(agent=False), start_new_session=True)
    err = r.stderr
    assert "peer server KEXINIT proposal" in err, err
    peer = err.split("peer server KEXINIT proposal", 1)[1]
    seen = {}
    for key, label in (("kex", "KEX algorithms"),
                       ("host key", "host key algorithms"),
                       ("ciphers", "ciphers ctos"),
                       ("MACs", "MACs ctos")):
        m = re.search(r"debug2: %s: (.*)" % re.escape(label), peer)
        assert m, (label, err)
        seen[key] = m.group(1).strip().split(",")
    m = re.search(r"debug2: ciphers stoc: (.*)", peer)
    assert m and m.group(1).strip().split(",") == seen["ciphers"]
    return seen


def test_clients_md_lists_what_the_bastion_offers(site):
    world, p = site
    doc = documented_algorithms()
    seen = kexinit_seen(world, p["alice"])
    # the key exchange list carries protocol extensions too (strict kex,
    # ext-info): they are listed apart in CLIENTS.md
    ext = [a for a in seen["kex"] if a.startswith(("kex-strict-",
                                                   "ext-info-"))]
    assert doc["kex"] == [a for a in seen["kex"] if a not in ext]
    assert doc["extensions"] == ext
    assert doc["host key"] == seen["host key"]
    assert doc["ciphers"] == seen["ciphers"]
    assert doc["MACs"] == seen["MACs"]
    # and the source says the same
    assert doc["kex"] == header_list("BASTION_KEX")
    assert doc["ciphers"] == header_list("BASTION_CIPHERS")
    assert doc["MACs"] == header_list("BASTION_MACS")
    assert doc["user keys"] == header_list("BASTION_USER_KEY_TYPES")


def test_clients_md_names_every_client():
    text = clients_md()
    for client in ("OpenSSH on Linux", "macOS", "Windows 10", "Windows 11",
                   "PuTTY", "plink", "pscp", "WinSCP", "Tera Term",
                   "paramiko", "asyncssh"):
        assert client in text, client
    # what is said to be tested here is: the test files exist
    for f in re.findall(r"tests/e2e/(test_\w+\.py)", text):
        assert (REPO / "tests" / "e2e" / f).exists(), f


def deps_packages():
    text = (REPO / "scripts" / "deps.sh").read_text()
    m = re.search(r'PKGS="([^"]*)"', text)
    assert m
    return m.group(1).split()


def test_readme_requirements_are_what_deps_installs():
    readme = (REPO / "README.md").read_text()
    req = readme.split("## Requirements", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z0-9][a-z0-9.+-]*)`", req))
    pkgs = set(deps_packages())
    assert pkgs - named == set(), "deps.sh installs, README omits"
    # and nothing the script does not install (`watch` is a verb there)
    assert named - pkgs - {"watch"} == set(), \
        "README lists what deps.sh does not install"


def make_targets_named(text):
    return set(re.findall(r"(?<![\w-])make ([a-z][a-z0-9-]*)", text))


def test_documented_make_targets_exist():
    names = set()
    for d in DOCS:
        names |= make_targets_named(d.read_text())
    assert {"demo", "check", "deps"} <= names, names
    for t in sorted(names):
        r = subprocess.run(["make", "-n", "-C", str(REPO), t],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        assert "No rule to make target" not in r.stderr, (t, r.stderr)


def test_documented_bastionctl_verbs_exist(build_dir):
    h = subprocess.run([str(build_dir / "bastionctl"), "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=30).stdout
    verbs = set(re.findall(r"^  ([a-z]+) ", h, re.M))
    assert {"report", "sessions", "watch"} <= verbs, h
    named = set()
    for d in DOCS:
        named |= set(re.findall(r"bastionctl(?: -f \S+)? ([a-z]+)",
                                d.read_text()))
    named -= {"on", "needs", "through", "is", "and", "as", "the", "or",
              "a"}
    # the README's list of admin verbs ("`bastionctl VERB`...: `requests`,
    # `approve 42 2h`, ...")
    readme = " ".join((REPO / "README.md").read_text().split())
    m = re.search(r"\(`bastionctl VERB`[^)]*\): (.*?) \(docs/APPROVALS",
                  readme)
    assert m, "README: the admin verbs list moved?"
    listed = {x.split()[0] for x in re.findall(r"`([^`]+)`", m.group(1))}
    assert len(listed) >= 10, listed
    named |= listed
    assert named <= verbs, named - verbs


def test_readme_report_example_runs(cast, bastionctl):
    """README: `bastionctl report` lists this month's sessions."""
    world, p = cast
    world.start_bastion()
    r = p["alice"].ssh("ct-scanner", "echo for-the-report")
    assert r.returncode == 0, r.stderr
    world.bastion.wait_audit(event="session.end", user="alice")
    ev = world.bastion.wait_audit(event="session.recording", user="alice")
    readme = (REPO / "README.md").read_text()
    assert "`build/bastionctl -f var/demo/policy.yaml report`" in readme
    sid = ev["session"]
    # the recording is sealed just after the end (report says 1 before)
    world.bastion.wait_audit(event="recording.sealed",
                             session=ev["recording"], timeout=20)
    out = bastionctl(world, "report")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [ln.split() for ln in out.stdout.splitlines()]
    assert any(r and r[0] == sid and "alice" in r for r in rows), out.stdout
