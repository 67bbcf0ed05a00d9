"""Fixtures shared by the client tests: a fake daemon on a short socket path, and a client for it."""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fallbackd_client import FallbackClient  # noqa: E402
from fake_daemon import WAIT, FakeDaemon  # noqa: E402


@pytest.fixture
def sockdir():
    # AF_UNIX paths are limited to ~104 bytes, so stay short instead of using tmp_path.
    path = tempfile.mkdtemp(prefix="fbc-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(sockdir):
    daemon = FakeDaemon(os.path.join(sockdir, "fallbackd.sock"))
    yield daemon
    daemon.stop()


@pytest.fixture
def client(server):
    with FallbackClient(server.path, timeout=WAIT) as c:
        yield c
