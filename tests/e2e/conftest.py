"""pytest wiring for the end-to-end tests (see docs/TESTING.md).

Fixtures:
  build_dir         pathlib.Path of $BASTION_BUILD (default <repo>/build)
  tool(name)        path of a helper in $BASTION_BUILD/tests/ (skips if absent)
  bastiond_bin      path of bastiond (skips if absent)
  make_device(...)  factory: a started Device, stopped at teardown
  device            one started Device "ct-scanner" on 127.0.1.10
  pam               a PamFixture under tmp_path
  world             the standard World (two vendors, two devices, PAM)
  bastion           a Bastion for the world (not started)
  softsk            a SoftSK (software security key), if harness.softsk exists

Markers:
  timeout(seconds)  per-phase time limit (default 120 s; SIGALRM based, so
                    it works without the pytest-timeout plugin)
  slow              long-running (deselect with -m "not slow")
  root              needs root (skipped otherwise)

Missing binaries skip the test with the make command to run, unless
BASTION_STRICT=1 (CI), where they fail it.
"""

import os
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import util  # noqa: E402
from harness.bastion import World  # noqa: E402
from harness.devices import Device  # noqa: E402
from harness.pam import PamFixture  # noqa: E402

DEFAULT_TIMEOUT = 120


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "timeout(seconds): fail a test phase that runs longer "
        "(default %d s)" % DEFAULT_TIMEOUT)
    config.addinivalue_line("markers", "slow: long-running test")
    config.addinivalue_line("markers", "root: needs to run as root")


# -- per-test time limit ------------------------------------------------------

class TestTimeout(Exception):
    """Raised inside a test phase that ran past its timeout marker."""

    __test__ = False


def _limit(item):
    m = item.get_closest_marker("timeout")
    if m and m.args:
        return float(m.args[0])
    return float(os.environ.get("BASTION_TEST_TIMEOUT", DEFAULT_TIMEOUT))


def _with_alarm(item, phase):
    if item.config.pluginmanager.hasplugin("timeout"):
        return None   # pytest-timeout is installed: let it do this.
    seconds = _limit(item)
    if seconds <= 0:
        return None

    def expired(signum, frame):
        raise TestTimeout("%s of %s exceeded %ss (timeout marker or "
                          "BASTION_TEST_TIMEOUT)" % (phase, item.nodeid,
                                                     seconds))
    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return (old,)   # signal.signal() may return None: wrap it.


def _clear_alarm(armed):
    if armed is not None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        old = armed[0]
        signal.signal(signal.SIGALRM,
                      old if old is not None else signal.SIG_DFL)


def _alarmed(phase):
    """A hook wrapper that runs the test's phase under its alarm."""
    @pytest.hookimpl(hookwrapper=True)
    def hook(item):
        old = _with_alarm(item, phase)
        try:
            yield
        finally:
            _clear_alarm(old)
    return hook


pytest_runtest_call = _alarmed("call")
pytest_runtest_setup = _alarmed("setup")


@pytest.fixture(autouse=True)
def _root_marker(request):
    if request.node.get_closest_marker("root") and not util.is_root():
        pytest.skip("needs root")


# -- session-level cleanup ----------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def _harness_session_cleanup(tmp_path_factory):
    """At session end, stop whatever a test left running: registered
    servers first, then any live process named by a *.pid file under this
    session's base temp dir (only if it runs a config from that dir)."""
    base = tmp_path_factory.getbasetemp()
    yield
    errors = util.cleanup_all()
    util.kill_leftover_pidfiles(base)
    if errors:
        sys.stderr.write("harness cleanup errors:\n  %s\n"
                         % "\n  ".join(errors))


# -- the store's backend: BASTION_STORE=postgresql (make check-e2e-pg) ---------

@pytest.fixture(scope="session", autouse=True)
def _store_backend():
    """With BASTION_STORE=postgresql, a private PostgreSQL cluster for the
    session and a database of it in every bastion's policy
    (harness/pg.py); otherwise SQLite in each state_dir, as deployed."""
    if os.environ.get("BASTION_STORE", "sqlite") != "postgresql":
        yield None
        return
    from harness import pg
    if pg.missing_binaries():
        pytest.skip("BASTION_STORE=postgresql needs %s" % pg.PACKAGES)
    with pg.PgCluster() as cluster:
        undo = pg.use_for_bastions(cluster)
        try:
            yield cluster
        finally:
            undo()


# -- binaries -----------------------------------------------------------------

@pytest.fixture(scope="session")
def build_dir():
    return util.build_dir()


@pytest.fixture
def tool(build_dir):
    """tool("pamcheck") -> path of $BASTION_BUILD/tests/pamcheck."""
    def get(name):
        p = build_dir / "tests" / name
        if not os.access(p, os.X_OK):
            util.missing("test tool %s" % name, p)
        return p
    return get


@pytest.fixture
def bastiond_bin(build_dir):
    p = build_dir / "bastiond"
    if not os.access(p, os.X_OK):
        util.missing("bastiond", p)
    return p


# -- devices, PAM, bastion, world ---------------------------------------------

@pytest.fixture
def make_device(tmp_path):
    """make_device(name="dev", addr="127.0.1.10", port=None, start=True)
    -> Device under tmp_path/devices/<name>, stopped at teardown."""
    made = []

    def make(name="dev", addr=util.segment_addr(1, 10), port=None,
             start=True):
        d = Device(name, addr, port=port, workdir=tmp_path / "devices" / name)
        made.append(d)
        return d.start() if start else d
    yield make
    for d in reversed(made):
        d.stop()


@pytest.fixture
def device(make_device):
    """A started device "ct-scanner" on 127.0.1.10 (segment 1)."""
    return make_device("ct-scanner", util.segment_addr(1, 10))


@pytest.fixture
def pam(tmp_path):
    return PamFixture(tmp_path / "pam")


@pytest.fixture
def world(tmp_path, build_dir):
    """The standard World: vendors acme (127.0.1.0/24, ct-scanner at
    127.0.1.10) and globex (127.0.2.0/24, pacs at 127.0.2.10), devices
    started, a PAM stack, bastion not started (world.start_bastion())."""
    w = World(tmp_path / "world", build_dir=build_dir)
    yield w
    w.close()


@pytest.fixture
def bastion(world, bastiond_bin):
    """world.bastion, with the check that bastiond is built."""
    return world.bastion


def _softsk(dir, build_dir):
    """A SoftSK under dir, and its cleanup."""
    try:
        from harness.softsk import SoftSK
    except ModuleNotFoundError as e:
        if e.name not in ("harness.softsk",):
            raise
        pytest.skip("harness/softsk.py is not there yet (software security "
                    "key helper)")
    provider = build_dir / "tests" / "softsk.so"
    if not provider.exists():
        util.missing("software security key provider softsk.so", provider)
    sk = SoftSK(str(dir / "softsk"), str(provider))

    def close():
        for name in ("stop_agent", "close", "stop"):
            fn = getattr(sk, name, None)
            if callable(fn):
                fn()
    return sk, close


@pytest.fixture
def softsk(tmp_path, build_dir):
    """A SoftSK (tests/e2e/harness/softsk.py) using the provider at
    $BASTION_BUILD/tests/softsk.so; skipped if either is missing."""
    sk, close = _softsk(tmp_path, build_dir)
    yield sk
    close()


@pytest.fixture
def site(world, softsk, bastiond_bin):
    """The standard site with its people, bastion started:
    returns (world, people) where people maps alice/gina/bob/carol to
    harness.client.Person. Tests that need a different policy build their
    own from `world` and `softsk`."""
    from harness.client import add_site_people
    people = add_site_people(world, softsk)
    world.start_bastion()
    return world, people


@pytest.fixture
def cast(world, softsk, bastiond_bin):
    """Like `site` but the bastion is not started: edit world.policy()
    and call world.start_bastion(policy) yourself."""
    from harness.client import add_site_people
    return world, add_site_people(world, softsk)


@pytest.fixture(scope="module")
def module_cast(tmp_path_factory, build_dir):
    """`cast` (world, people; bastion not started) shared by the tests of
    one module, with its softsk as world.softsk: for a scene that is
    expensive to build and that those tests only read (build it in a
    module fixture of your own). A test that changes it gets `cast`."""
    from harness.client import add_site_people
    if not os.access(build_dir / "bastiond", os.X_OK):
        util.missing("bastiond", build_dir / "bastiond")
    d = tmp_path_factory.mktemp("module")
    sk, close = _softsk(d, build_dir)
    w = World(d / "world", build_dir=build_dir)
    w.softsk = sk
    try:
        yield w, add_site_people(w, sk)
    finally:
        try:
            w.close()
        finally:
            close()


@pytest.fixture
def bastionctl(build_dir):
    """run(world, *args, timeout=60) -> CompletedProcess of
    `bastionctl -f POLICY ARGS...` (through bastiond's control socket when
    it runs)."""
    path = build_dir / "bastionctl"
    if not os.access(path, os.X_OK):
        pytest.fail("bastionctl not found at %s: build it with `make B=%s "
                    "tests`" % (path, build_dir))

    def run(world, *args, timeout=60):
        return subprocess.run(
            [str(path), "-f", str(world.bastion.policy_path)] +
            [str(a) for a in args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=timeout)
    return run

