"""Debian's Chromium for the page tests (issue 13), installed by the project itself when missing.

The tests need a real browser, and nothing may be installed by hand: if ``chromium`` is not on the
machine, it is installed from Debian's packages (``apt-get install chromium``, as root, as CI runs).
If that cannot be done, the page tests fail and say why; they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

__all__ = ["chromium_path"]


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("the page tests need Debian's Chromium: run the tests as root once (they install it with "
                    "apt-get), or install the 'chromium' package")
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if done.returncode != 0 and command[1] == "install":
            pytest.fail(f"could not install Chromium for the page tests: {done.stderr[-2000:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but it is not on PATH")
    return found
