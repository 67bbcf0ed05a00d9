"""Fleet (issue 13) with PostgreSQL killed mid-test: every request is still answered, local breakers still trip
and skip, each daemon reports the link down (and the metric says so), and after the restart the daemons
reconnect and resync: a trip made while the database was away reaches the peers.
"""

import time

import fbd_harness as H
from facade_lib import metrics_text
from fbd_fleet import ask, calls_to, mid, start_fleet, state, wait_all


def connected(d):
    return d.call("fleet")["connected"]


def test_postgres_killed_mid_test_then_restarted(daemon_factory, fake, pg):
    daemons = start_fleet(daemon_factory, pg, open_ms=60_000)
    d1, d2, d3 = daemons
    pg.kill()
    try:
        # Usually within a heartbeat and its 1 s query timeout; one run with both cores under stress took
        # over 20 s for one daemon (cause not found yet), hence the generous bound.
        assert H.wait_for(lambda: not any(connected(d) for d in daemons), timeout=60), \
            [d.call("fleet") for d in daemons]
        # every request answered, and quickly: nothing waits on the database
        for d in daemons:
            started = time.monotonic()
            assert ask(d)["model_used"] == "gpt-4o"
            assert time.monotonic() - started < 5
        # local breakers still work: host-1 trips on its own, the others cannot hear of it yet
        fake.script(mid("gpt-4o"), [], then="server_error")
        for _ in range(3):
            assert ask(d1)["model_used"] == "claude-3-5-sonnet"
        assert state(d1)["state"] == "open"
        before = calls_to(fake, "gpt-4o")
        assert ask(d1)["model_used"] == "claude-3-5-sonnet"
        assert calls_to(fake, "gpt-4o") == before, "an open local breaker still skips the model"
        assert state(d2)["state"] == "closed" and state(d3)["state"] == "closed"
        f = d1.call("fleet")
        assert f["last_error"] and pg.url not in f["last_error"]
        assert "fallbackd_fleet_connected 0" in metrics_text(d1)
    finally:
        pg.restart()
    assert H.wait_for(lambda: all(connected(d) for d in daemons), timeout=30), [d.call("fleet") for d in daemons]
    # resync: the trip host-1 made while the database was away opens the breaker on the others
    wait_all([d2, d3], lambda b: b["state"] == "open" and b.get("opened_by") == "host-1", timeout=15)
    for d in (d2, d3):
        assert d.call("fleet")["reconnects"] >= 1
    log = d1.stderr_tail(20000)
    assert "fleet database unreachable" in log and "reachable again" in log
    assert pg.url not in log and pg.dir + "&" not in log


def test_a_frozen_postgres_never_delays_a_request(daemon_factory, fake, pg):
    """SIGSTOP freezes the server with its connections open: statements hang instead of failing."""
    daemons = start_fleet(daemon_factory, pg, open_ms=60_000)
    d1, d2, d3 = daemons
    fake.script(mid("gpt-4o"), [], then="server_error")
    pg.freeze()
    try:
        # breaker transitions and failures are published into the outbox while the database hangs:
        # the requests that cause them are answered at once, and the local breaker trips
        for _ in range(3):
            started = time.monotonic()
            assert ask(d1)["model_used"] == "claude-3-5-sonnet"
            assert time.monotonic() - started < 2, "a request waited on the database"
        assert state(d1)["state"] == "open"
        for d in (d2, d3):
            started = time.monotonic()
            ask(d)
            assert time.monotonic() - started < 2, "a request waited on the database"
        # statements time out (query_timeout_ms = 1 s): the daemons say they are local-only
        # Usually within a heartbeat and its 1 s query timeout; one run with both cores under stress took
        # over 20 s for one daemon (cause not found yet), hence the generous bound.
        assert H.wait_for(lambda: not any(connected(d) for d in daemons), timeout=60), \
            [d.call("fleet") for d in daemons]
    finally:
        pg.thaw()
    assert H.wait_for(lambda: all(connected(d) for d in daemons), timeout=30), [d.call("fleet") for d in daemons]
    wait_all([d2, d3], lambda b: b["state"] == "open" and b.get("opened_by") == "host-1", timeout=15)
