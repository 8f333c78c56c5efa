"""pytest wiring for the web console's tests (docs/TESTING.md, "Web").

The end-to-end fixtures (bastiond, devices, PAM, the software security
key: tests/e2e/conftest.py) are loaded as they are, and these added:

  webd_bin      path of bastion-webd (skips, or fails with BASTION_STRICT)
  web_static    $BASTION_BUILD/web-static (make web)
  webd          a started bastion-webd on 127.0.0.1 with a fresh
                self-signed certificate for localhost, control socket
                under tmp_path (nothing listens there unless a test puts
                something there)
  browser       a headless Chromium (Debian's chromium + chromium-driver,
                python3-selenium) with a virtual authenticator helper;
                screenshots go to $BASTION_BUILD/web-shots/
"""

import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "e2e")
sys.path.insert(0, E2E)
sys.path.insert(0, HERE)

_spec = importlib.util.spec_from_file_location(
    "e2e_conftest", os.path.join(E2E, "conftest.py"))
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)
for _name in dir(_e2e):
    if not _name.startswith("__"):
        globals().setdefault(_name, getattr(_e2e, _name))

from harness import util  # noqa: E402
import webharness  # noqa: E402


@pytest.fixture
def webd_bin(build_dir):
    p = build_dir / "bastion-webd"
    if not os.access(p, os.X_OK):
        util.missing("bastion-webd", p)
    return p


@pytest.fixture
def web_static(build_dir):
    p = build_dir / "web-static"
    if not (p / "vendor" / "xterm.js").exists():
        util.missing("the console's static files (make web)", p)
    return p


@pytest.fixture
def webd(tmp_path, webd_bin, web_static):
    w = webharness.Webd(webd_bin, web_static, tmp_path / "webd",
                        ctl_path=str(tmp_path / "webd" / "web.sock"))
    w.start()
    yield w
    w.stop()


@pytest.fixture
def browser(build_dir):
    b = webharness.Browser(build_dir / "web-shots")
    yield b
    b.quit()
