"""Fixtures for the examples/ checks: the binaries and live daemons.

The binaries: FALLBACKD_BIN (default .build/debug/fallbackd under the repository root) and
FALLBACKCTL_BIN (default: fallbackctl beside FALLBACKD_BIN). A missing binary fails the tests that
need it; it never skips them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from examples_lib import LiveDaemon, binary, short_tmpdir


@pytest.fixture(scope="session")
def fallbackd_bin() -> str:
    return binary("FALLBACKD_BIN", Path(".build/debug/fallbackd"))


@pytest.fixture(scope="session")
def fallbackctl_bin(fallbackd_bin) -> str:
    return binary("FALLBACKCTL_BIN", Path(fallbackd_bin).parent / "fallbackctl")


@pytest.fixture
def live_daemon(fallbackd_bin, fallbackctl_bin):
    """Starts fallbackd on a config (`start(path)`); every one started is stopped and cleaned up."""
    started: list[LiveDaemon] = []

    def start(config: Path) -> LiveDaemon:
        daemon = LiveDaemon(fallbackd_bin, fallbackctl_bin, config, short_tmpdir())
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()
        shutil.rmtree(daemon.dir, ignore_errors=True)
