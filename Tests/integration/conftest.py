"""Fixtures for fallbackd's integration tests.

These run the REAL daemon binary against the fake providers in Tests/fakes:

    FALLBACKD_BIN=.build/debug/fallbackd python3 -m pytest Tests/integration -q

FALLBACKD_BIN defaults to .build/debug/fallbackd under the repository root. A missing
binary, Python client or repository config is a test FAILURE with a message saying what
is missing and how to get it, never a skip: a run that tested nothing must not pass.
Each test gets its own daemon (temp socket, temp SQLite call log, temp config);
the fake provider server is shared by the session and reset before each test.
"""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import fbd_harness as H  # noqa: E402

if H.FAKES_DIR not in sys.path:
    sys.path.insert(0, H.FAKES_DIR)
for _d in reversed(H.CLIENT_DIRS):
    if os.path.isdir(_d) and _d not in sys.path:
        sys.path.insert(0, _d)

from fake_providers import start_fake_providers  # noqa: E402


def _binary_path() -> str:
    p = os.environ.get("FALLBACKD_BIN") or os.path.join(".build", "debug", "fallbackd")
    if not os.path.isabs(p):
        p = os.path.join(H.REPO_ROOT, p)
    return p


def _binary_problem(p: str) -> str | None:
    if not os.path.isfile(p):
        return "no such file"
    if not os.access(p, os.X_OK):
        return "not executable"
    return None


def pytest_report_header(config):
    p = _binary_path()
    problem = _binary_problem(p)
    return f"fallbackd binary: {p}" + (f" -- MISSING ({problem}): every daemon test will fail" if problem else "")


@pytest.fixture(scope="session")
def fallbackd_bin() -> str:
    p = _binary_path()
    problem = _binary_problem(p)
    if problem:
        pytest.fail(
            f"fallbackd binary not usable at {p} ({problem}). Build it with `swift build` (it lands in "
            f".build/debug/fallbackd) or point FALLBACKD_BIN at a built binary, e.g. "
            f"FALLBACKD_BIN=.build/release/fallbackd python3 -m pytest Tests/integration",
            pytrace=False,
        )
    return p


@pytest.fixture(scope="session")
def fake_server():
    fp = start_fake_providers()
    yield fp
    fp.stop()


@pytest.fixture
def fake(fake_server):
    """The shared fake provider server, with no scripts and no recorded requests."""
    fake_server.reset()
    yield fake_server
    fake_server.reset()


@pytest.fixture
def daemon_factory(fallbackd_bin, fake):
    """daemon_factory(cfg_mutate=None, cli_socket=True, extra_args=(), start=True) -> H.Daemon.

    Every daemon still running at teardown gets SIGTERM; the teardown asserts exit code 0 and
    the socket file removed.
    """
    made: list[H.Daemon] = []

    def make(cfg_mutate=None, cli_socket=True, extra_args=(), start=True, env_extra=None):
        d = H.Daemon(fallbackd_bin, fake, cfg_mutate=cfg_mutate, cli_socket=cli_socket, extra_args=extra_args,
                     env_extra=env_extra)
        made.append(d)
        if start:
            d.start()
        return d

    yield make

    errors = []
    for d in made:
        if d.proc is None or d.stopped:
            continue
        try:
            d.stop()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            d.kill()
    failed = bool(errors)
    for d in made:
        if not failed:
            d.cleanup()
    if errors:
        pytest.fail("daemon shutdown check failed:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def daemon(daemon_factory) -> H.Daemon:
    """A started daemon with the standard test config (see fbd_harness.config_dict)."""
    return daemon_factory()


@pytest.fixture
def fb():
    """The fallbackd_client module from clients/python (a test failure when it cannot be imported)."""
    try:
        import fallbackd_client  # noqa: F401
    except ImportError as e:
        pytest.fail(f"Python client (clients/python, package fallbackd_client) not importable from "
                    f"{H.CLIENT_DIRS}: {e}", pytrace=False)
    return fallbackd_client


def _client_error(fb, name):
    cls = getattr(fb, name, None)
    if cls is None:
        try:
            import importlib

            cls = getattr(importlib.import_module("fallbackd_client.errors"), name)
        except (ImportError, AttributeError):
            pytest.fail(f"fallbackd_client (clients/python) has no error class {name}: the client and "
                        f"these tests disagree", pytrace=False)
    return cls


@pytest.fixture
def client_errors(fb):
    """(AllModelsFailed, DeadlineExceeded, InvalidParams) of the Python client."""
    return tuple(_client_error(fb, n) for n in ("AllModelsFailed", "DeadlineExceeded", "InvalidParams"))


@pytest.fixture
def client(fb, daemon):
    c = fb.FallbackClient(daemon.socket)
    yield c
    close = getattr(c, "close", None)
    if callable(close):
        close()


@pytest.fixture
def conn(daemon):
    c = daemon.conn()
    yield c
    c.close()


@pytest.fixture(scope="session")
def pg():
    """The fleet tests' PostgreSQL (see fbd_fleet.Postgres): a failure, never a skip, when there is none."""
    import fbd_fleet

    server = fbd_fleet.Postgres()
    try:
        server.start()
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"no PostgreSQL for the fleet tests: {e}. Install the postgresql package (.ci/deps.sh does) "
                    f"or export FALLBACKD_TEST_PG_URL and FALLBACKD_TEST_PG_DIR from `.ci/postgres.sh start`",
                    pytrace=False)
    yield server
    server.stop()
