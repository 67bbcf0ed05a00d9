"""Fleet (issue 13): three real daemons share one PostgreSQL and the same fake providers.

A trip on one host opens the breaker on every host (marked `source: peer`, `opened_by`), only the holder of the
probe lease probes, its success closes the breaker everywhere; the fleet's failed calls to a dead primary stay at
the trip threshold plus one probe per open period. Barriers poll a condition under a generous timeout; the real
propagation figures are measured by Tests/bench/fleet_bench.py.
"""

import time

import pytest

import fbd_harness as H
from ops_lib import fallbackctl_path, run_daemon_once
from fbd_fleet import MSGS, TWO, ask, calls_to, mid, start_fleet, state, wait_all

OPEN_MS = 1500


def test_a_trip_on_one_host_opens_the_breaker_on_every_host(daemon_factory, fake, pg):
    d1, d2, d3 = start_fleet(daemon_factory, pg, open_ms=OPEN_MS)
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(3):
        assert ask(d1)["model_used"] == "claude-3-5-sonnet"
    tripped = time.monotonic()
    assert state(d1)["state"] == "open" and "opened_by" not in state(d1)
    seen = wait_all([d2, d3], lambda b: b["state"] == "open" and b.get("opened_by") == "host-1", timeout=10)
    assert seen - tripped <= 5.0, f"peers skipped the primary {seen - tripped:.3f} s after the trip"
    for d in (d2, d3):
        b = state(d)
        # the same end (to the millisecond: each daemon rounds its own monotonic reading)
        assert b["source"] == "peer" and abs(b["until_ms"] - state(d1)["until_ms"]) <= 1, (b, state(d1))
        route = d.call("route", {"task": "default"})["route"]
        assert H.route_entry(route, "gpt-4o")["reason"] == "open"
        assert H.route_entry(route, "gpt-4o")["opened_by"] == "host-1"
        # the request is answered by the fallback without calling the primary
        before = calls_to(fake, "gpt-4o")
        assert ask(d)["model_used"] == "claude-3-5-sonnet"
        assert calls_to(fake, "gpt-4o") == before
    assert calls_to(fake, "gpt-4o") == 3


def test_a_dead_primary_costs_the_fleet_the_threshold_plus_one_probe_per_open_period(daemon_factory, fake, pg):
    daemons = start_fleet(daemon_factory, pg, open_ms=OPEN_MS)
    fake.script(mid("gpt-4o"), [], then="server_error")
    # traffic spread over every host from the first failure: failures are counted across the fleet, so the
    # third one trips it wherever it lands (the barrier waits until every host has counted each failure)
    for i in range(3):
        assert ask(daemons[i])["model_used"] == "claude-3-5-sonnet"
        if i < 2:
            wait_all(daemons, lambda b, n=i + 1: b["consecutive_failures"] == n, timeout=10)
    wait_all(daemons, lambda b: b["state"] == "open")
    assert state(daemons[2])["last_trip_reason"] == "3 consecutive failures"
    start = time.monotonic()
    answered = 0
    # traffic on every host through several open periods: each period ends at the same time everywhere,
    # and only the lease holder's half-open probe reaches the primary
    while time.monotonic() - start < 4 * OPEN_MS / 1000:
        for d in daemons:
            assert ask(d)["model_used"] == "claude-3-5-sonnet"
            answered += 1
    periods = int((time.monotonic() - start) / (OPEN_MS / 1000)) + 1
    failed = calls_to(fake, "gpt-4o")
    assert failed <= 3 + periods, f"{failed} failed calls for {periods} open periods over {answered} requests"
    assert failed < 3 * 3, "no better than three independent hosts"


def test_one_probe_closes_the_breaker_everywhere(daemon_factory, fake, pg):
    daemons = start_fleet(daemon_factory, pg, open_ms=OPEN_MS)
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(3):
        ask(daemons[0])
    wait_all(daemons, lambda b: b["state"] == "open")
    fake.script(mid("gpt-4o"), [], then="ok")
    before = calls_to(fake, "gpt-4o")
    # the open period ends on every host; one holds the probe lease
    holder = None
    for _ in range(2000):
        leases = {d: d.call("fleet")["probe_leases"] for d in daemons}
        holders = [d for d, held in leases.items() if "gpt-4o" in held]
        if len(holders) == 1 and all(state(d)["state"] == "half_open" for d in daemons):
            holder = holders[0]
            break
        time.sleep(0.01)
    assert holder is not None, f"no single lease holder once half-open: {[d.call('fleet') for d in daemons]}"
    others = [d for d in daemons if d is not holder]
    for d in others:
        route = d.call("route", {"task": "default"})["route"]
        assert H.route_entry(route, "gpt-4o")["reason"] == "probe_busy", route
        assert ask(d)["model_used"] == "claude-3-5-sonnet"
    assert ask(holder)["model_used"] == "gpt-4o"
    wait_all(daemons, lambda b: b["state"] == "closed", timeout=10)
    assert calls_to(fake, "gpt-4o") == before + 1, "one probe, and only one, closed it"
    for d in daemons:
        assert ask(d)["model_used"] == "gpt-4o"


def test_fleet_method_shows_every_sidecar_and_who_opened_what(daemon_factory, fake, pg, fallbackd_bin):
    d1, d2, d3 = start_fleet(daemon_factory, pg, open_ms=60_000)
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(3):
        ask(d2)
    wait_all([d1, d3], lambda b: b["state"] == "open")

    def opened_everywhere():
        f = d1.call("fleet")
        rows = {m["host"]: [b for b in m["breakers"] if b["model"] == "gpt-4o"] for m in f["members"]}
        return f if all(rows.get(h) for h in ("host-1", "host-2", "host-3")) else None

    f = H.wait_for(opened_everywhere, timeout=10)
    assert f, d1.call("fleet")
    assert f["enabled"] and f["fleet"] and f["host"] == "host-1" and f["connected"]
    members = {m["host"]: m for m in f["members"]}
    assert members["host-1"]["self"] and not members["host-2"]["self"]
    assert members["host-2"]["breakers"][0]["opened_by"] is None
    assert members["host-1"]["breakers"][0]["opened_by"] == "host-2"
    assert members["host-3"]["breakers"][0]["opened_by"] == "host-2"
    assert all(m["last_seen_ms"] > 0 for m in f["members"])
    # the URL (and so its password) appears nowhere in replies
    assert "postgres" not in str(f) and pg.url not in str(d1.call("status"))
    # fallbackctl fleet shows the same, for people
    code, out, err = run_daemon_once(fallbackctl_path(fallbackd_bin), ["--socket", d1.socket, "fleet"])
    assert code == 0, err
    lines = out.splitlines()
    assert "connected" in lines[0] and "host-1" in lines[0], out
    assert any("host-3" in line and "gpt-4o" in line and "host-2" in line for line in lines), out
    assert any("host-2" in line and "gpt-4o" in line and " - " in line for line in lines), out


def test_health_shows_the_fleet_view_beside_the_local_one(daemon_factory, fake, pg):
    d1, d2, d3 = start_fleet(daemon_factory, pg)
    for d in (d1, d2, d3):
        for _ in range(2):
            ask(d)

    def merged():
        h = H.health_of(d1, "gpt-4o")
        return h if h.get("fleet", {}).get("calls") == 6 else None

    h = H.wait_for(merged, timeout=15)
    assert h, H.health_of(d1, "gpt-4o")
    assert h["calls"] == 2 and h["fleet"]["hosts"] == 3 and h["fleet"]["success_rate"] == 1.0


def test_a_dead_lease_holder_hands_the_probe_to_another_host(daemon_factory, fake, pg):
    daemons = start_fleet(daemon_factory, pg, open_ms=OPEN_MS)
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(3):
        ask(daemons[0])
    wait_all(daemons, lambda b: b["state"] == "open")

    def holders(ds):
        return [d for d in ds if "gpt-4o" in d.call("fleet")["probe_leases"]]

    first = H.wait_for(lambda: (lambda h: h if len(h) == 1 else None)(holders(daemons)), timeout=10)
    assert first, [d.call("fleet") for d in daemons]
    first[0].kill()  # SIGKILL: it never gives the lease back
    survivors = [d for d in daemons if d is not first[0]]
    # the lease lapses after lease_ms (3 s) and one survivor, only one, takes it
    second = H.wait_for(lambda: (lambda h: h if len(h) == 1 else None)(holders(survivors)), timeout=15)
    assert second, [d.call("fleet") for d in survivors]
    fake.script(mid("gpt-4o"), [], then="ok")
    # its probe (the next request it serves once half-open) closes the breaker on both survivors
    assert H.wait_for(lambda: ask(second[0])["model_used"] == "gpt-4o", timeout=15)
    wait_all(survivors, lambda b: b["state"] == "closed", timeout=10)
