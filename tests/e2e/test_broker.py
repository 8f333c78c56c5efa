"""The session broker end to end: real ssh -> real bastiond -> real sshd."""

import hashlib
import os
import re

import pytest


def test_exec_exit_status_and_streams(site):
    world, p = site
    r = p["alice"].ssh("ct-scanner", "echo out; echo err >&2; exit 3")
    assert r.returncode == 3, r.stderr
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr
    ev = world.bastion.wait_audit(event="device.connect", user="alice",
                                  result="ok")
    assert ev["device"] == "ct-scanner" and ev["to"] == "127.0.1.10"
