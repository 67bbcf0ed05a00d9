"""Fleet helpers (issue 13): a private PostgreSQL for the tests, and N daemons sharing it.

The database is FALLBACKD_TEST_PG_URL when set (`make test` starts one with .ci/postgres.sh and exports it);
otherwise the session starts its own with .ci/postgres.sh and stops it after. No PostgreSQL is a FAILURE,
never a skip: a fleet test that ran without its database proved nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid

import fbd_harness as H

PG_SCRIPT = os.path.join(H.REPO_ROOT, ".ci", "postgres.sh")
URL_ENV = "FLEET_PG_URL"  # the variable the daemons' [fleet] postgres_url_env names
MSGS = [{"role": "user", "content": "Is the primary up?"}]
TWO = ["gpt-4o", "claude-3-5-sonnet"]


class Postgres:
    """The tests' PostgreSQL: its URL, and kill/restart for the outage tests."""

    def __init__(self):
        self.url = os.environ.get("FALLBACKD_TEST_PG_URL")
        self.dir = os.environ.get("FALLBACKD_TEST_PG_DIR")
        self.owned = False

    def start(self):
        if self.url and self.dir:
            return self
        out = subprocess.run(["bash", PG_SCRIPT, "start"], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f".ci/postgres.sh start failed ({out.returncode}): {out.stderr.strip()}")
        for line in out.stdout.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            value = value.strip("'")
            if key == "FALLBACKD_TEST_PG_URL":
                self.url = value
            elif key == "FALLBACKD_TEST_PG_DIR":
                self.dir = value
        if not (self.url and self.dir):
            raise RuntimeError(f".ci/postgres.sh start printed no URL: {out.stdout!r}")
        self.owned = True
        return self

    def _script(self, command):
        env = dict(os.environ, FALLBACKD_TEST_PG_DIR=self.dir)
        out = subprocess.run(["bash", PG_SCRIPT, command], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, f".ci/postgres.sh {command} failed: {out.stderr}"

    def kill(self):
        self._script("kill")

    def restart(self):
        self._script("restart")

    def pids(self):
        """The cluster's postmaster and every backend (its children)."""
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            master = int(f.readline().strip())
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [master] + [int(p) for p in children]

    def freeze(self):
        """SIGSTOP the whole server: connections stay open and statements hang (a slow database)."""
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)

    def stop(self):
        if self.owned:
            self._script("stop")


def fleet_cfg(fleet_name, host, *, open_ms=1500, threshold=3, recovery=False, **fleet_extra):
    """cfg_mutate: breakers on (`threshold` failures, `open_ms`), no retries or reordering, and a [fleet] table."""
    def mutate(c):
        H.set_resilience(
            c, breaker={"consecutive_failures": threshold, "failure_rate": 0, "open_ms": open_ms,
                        "auth_open_ms": 3_600_000},
            retry={"max_retries": 0}, health={"degraded_below": 0.0})
        c["recovery"] = {"enabled": recovery}
        c["fleet"] = {"postgres_url_env": URL_ENV, "fleet_name": fleet_name, "host_name": host,
                      "heartbeat_ms": 200, "health_interval_ms": 300, "query_timeout_ms": 1000,
                      "reconnect_max_ms": 400, **fleet_extra}
    return mutate


def start_fleet(daemon_factory, pg, n=3, **kw):
    """n daemons of one new fleet (hosts host-1..host-n), each connected and seeing all n members."""
    name = "t" + uuid.uuid4().hex[:12]
    daemons = [daemon_factory(cfg_mutate=fleet_cfg(name, f"host-{i + 1}", **kw), env_extra={URL_ENV: pg.url})
               for i in range(n)]
    for d in daemons:
        ok = H.wait_for(lambda: (lambda f: f["connected"] and len(f["members"]) == n)(d.call("fleet")), timeout=30)
        assert ok, f"{d.call('fleet')} never connected with {n} members; stderr:\n{d.stderr_tail()}"
    return daemons


def mid(name):
    return H.POOL[name].model_id


def calls_to(fake, name):
    return len(fake.requests(model=mid(name)))


def ask(d):
    """One `complete` over the two-model chain; it must be answered."""
    return H.bounded(lambda: H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000))


def state(d, model="gpt-4o"):
    return H.breaker_of(d, model)


def wait_all(daemons, pred, timeout=20.0):
    """Polls until pred(breaker entry of gpt-4o) holds on every daemon; returns the moment it did (monotonic)."""
    ok = H.wait_for(lambda: all(pred(state(d)) for d in daemons), timeout=timeout, interval=0.01)
    assert ok, "fleet never agreed: " + "; ".join(f"{d.call('fleet')['host']}: {state(d)}" for d in daemons)
    return time.monotonic()
