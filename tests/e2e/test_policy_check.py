"""`bastiond -f FILE --check` against the shipped policies.

policies/example.yaml must pass; every policies/broken/*.yaml must fail
with the problem its first line announces:

    # expect: LINE: SUBSTRING

meaning some line of the output is "FILE:LINE: ..." and contains
SUBSTRING. Every line printed for a broken file has the shape
"FILE:LINE: what is wrong — what to do".

Runs bastiond from the repository root with relative paths, because FILE in
the messages is the path exactly as given on the command line.
"""

import os
import pathlib
import re
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BASTION_BUILD", REPO / "build"))
BASTIOND = BUILD / "bastiond"
BROKEN = sorted((REPO / "policies" / "broken").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+): (.+)$")
EMDASH = " \u2014 "
MAX_FILE_SIZE = 4 * 1024 * 1024   # POLICY_MAX_FILE_SIZE


def check(path, cwd=REPO):
    if not BASTIOND.exists():
        pytest.skip("%s not built (make tests)" % BASTIOND)
    return subprocess.run([str(BASTIOND), "-f", str(path), "--check"],
                          cwd=str(cwd), capture_output=True, timeout=60,
                          encoding="utf-8", errors="replace")


def expectation(path):
    first = path.read_text(encoding="utf-8", errors="replace") \
        .split("\n", 1)[0]
    m = EXPECT.match(first)
    assert m, "%s: first line must be '# expect: LINE: SUBSTRING'" % path
    return int(m.group(1)), m.group(2)


def assert_shape(out, name):
    """Every line is NAME:LINE: what — what to do."""
    shape = re.compile(r"^%s:\d+: \S.*%s\S.*$" % (re.escape(name), EMDASH))
    lines = out.splitlines()
    assert lines, "no problems printed"
    for line in lines:
        assert shape.match(line), "badly shaped line: %r" % line
    return lines


def test_example_passes():
    r = check("policies/example.yaml")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("policies/example.yaml: OK (3 vendors, 6 devices, "
                        "2 admins, 1 auditors)\n")
    assert r.stderr == ""


def test_example_passes_from_elsewhere(tmp_path):
    r = check(REPO / "policies" / "example.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_broken_folder_is_complete():
    assert len(BROKEN) >= 20
    assert (REPO / "policies" / "broken" / "README.md").exists()
    for path in BROKEN:
        expectation(path)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_policy_fails_with_its_problem(path):
    line, substring = expectation(path)
    name = "policies/broken/" + path.name
    r = check(name)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == ""
    prefix = "%s:%d: " % (name, line)
    hits = [l for l in r.stderr.splitlines()
            if l.startswith(prefix) and substring in l]
    assert hits, "want a line %s...%s in:\n%s" % (prefix, substring,
                                                   r.stderr)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_output_shape(path):
    name = "policies/broken/" + path.name
    r = check(name)
    lines = assert_shape(r.stderr, name)
    numbers = [int(l[len(name) + 1:].split(":", 1)[0]) for l in lines]
    assert numbers == sorted(numbers), "problems not in line order"


def test_nesting_stops_reading(tmp_path):
    """At the nesting limit the loader stops: the one problem is the
    nesting, nothing after it is read (policies/broken/nesting-stops.yaml
    has a bad port below its nesting that must not be reported)."""
    name = "policies/broken/nesting-stops.yaml"
    r = check(name)
    assert r.returncode == 1
    lines = assert_shape(r.stderr, name)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(name + ":36: the YAML is nested more than")


@pytest.mark.parametrize("bomb", [("[", "]"), ("{a: ", "}"), ("- ", "")],
                         ids=["flow-seq", "flow-map", "block-seq"])
def test_nesting_bomb_is_cheap(tmp_path, bomb):
    """50,000 levels of nesting are refused at once (they took seconds of
    libyaml's time when the loader skipped to their end), with one problem
    naming the file and the line where the limit was crossed."""
    import resource
    opening, closing = bomb
    p = tmp_path / "bomb.yaml"
    indent = "" if opening == "- " else "  "
    p.write_text("version: 1\nnest:\n" + indent + opening * 50000 + "x" +
                 closing * 50000 + "\nlisten: 12\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = check(p)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime -
                                                 before.ru_stime)
    assert r.returncode == 1
    lines = assert_shape(r.stderr, str(p))
    assert lines == [l for l in lines if ":3: the YAML is nested more "
                     "than 32 levels deep" in l], r.stderr
    assert len(lines) == 1
    assert cpu < 1.0, "%.2f s of CPU for a nesting bomb" % cpu


def test_missing_file(tmp_path):
    name = str(tmp_path / "nope.yaml")
    r = check(name)
    assert r.returncode == 1
    assert_shape(r.stderr, name)
    assert "%s:0: cannot open the policy file" % name in r.stderr


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    p = tmp_path / "secret.yaml"
    p.write_text("version: 1\n")
    p.chmod(0)
    r = check(p)
    assert r.returncode == 1
    assert "Permission denied" in r.stderr


def test_directory(tmp_path):
    r = check(tmp_path)
    assert r.returncode == 1
    assert_shape(r.stderr, str(tmp_path))
    assert "not a regular file" in r.stderr


def test_file_too_big(tmp_path):
    p = tmp_path / "big.yaml"
    with open(p, "wb") as f:
        f.write(b"# " + b"x" * (MAX_FILE_SIZE - 1) + b"\n")
    r = check(p)
    assert r.returncode == 1
    assert_shape(r.stderr, str(p))
    assert ":0: the policy file is bigger than the limit" in r.stderr

    with open(p, "wb") as f:   # exactly at the cap: read, then parsed
        f.write(b"#" * (MAX_FILE_SIZE - 1) + b"\n")
    r = check(p)
    assert "bigger than" not in r.stderr
    assert "has no content" in r.stderr


def test_all_problems_of_one_file(tmp_path):
    """Problems are collected, not just the first one."""
    example = (REPO / "policies" / "example.yaml").read_text()
    bad = (example
           .replace("address: 127.0.1.10", "address: 127.1")
           .replace("port: 2222\n", "port: 99999\n")
           .replace("valid_until: 2027-03-31", "valid_until: 2027-02-29")
           .replace("idle_warning: 1m", "idle_warning: 1 minute")
           .replace("- name: heidi", "- name: bob")
           .replace("vendor: initech", "vendor: initek"))
    p = tmp_path / "many.yaml"
    p.write_text(bad)
    r = check(p)
    assert r.returncode == 1
    lines = assert_shape(r.stderr, str(p))
    for what in ('address "127.1"', 'port "99999"', '"2027-02-29"',
                 '"1 minute"', 'name "bob" is already used',
                 'vendor "initek" is not defined'):
        assert any(what in l for l in lines), what
    # two devices name initech's vendor
    assert len(lines) == 7, r.stderr


def test_policy_written_by_pyyaml(tmp_path):
    """The harness writes policies with yaml.safe_dump: long keys are folded
    over lines, dates and numbers come back in their own style."""
    policy = yaml.safe_load((REPO / "policies" / "example.yaml").read_text())
    p = tmp_path / "dumped.yaml"
    p.write_text(yaml.safe_dump(policy, sort_keys=False,
                                default_flow_style=False, width=60))
    r = check(p)
    assert r.returncode == 0, r.stderr


def test_mutated_example_never_crashes(tmp_path):
    """Delete each line of the example in turn: bastiond either accepts the
    result or reports well-formed problems, and never crashes."""
    lines = (REPO / "policies" / "example.yaml").read_text().splitlines(True)
    p = tmp_path / "cut.yaml"
    for i in range(0, len(lines), 3):
        p.write_text("".join(lines[:i] + lines[i + 1:]))
        r = check(p)
        assert r.returncode in (0, 1), (i, r.returncode, r.stderr)
        if r.returncode == 1:
            assert_shape(r.stderr, str(p))
