#!/usr/bin/env python3
"""Fleet measurements (issue 13): propagation latency of a trip, and failed calls to a dead model.

    FALLBACKD_BIN=.build/debug/fallbackd python3 Tests/bench/fleet_bench.py [--trips 100] [--seconds 12]

Starts a private PostgreSQL (.ci/postgres.sh, or FALLBACKD_TEST_PG_URL/_DIR when exported), the fake
providers and real daemons on temp sockets; every loop is bounded and the whole run stops by itself.

1. Propagation: three daemons of one fleet; `--trips` times, one request trips the primary on one host
   (consecutive_failures = 1, hosts in turn), and the time from the trip (the tripping host's
   `until_ms - open_ms`, wall clock) to both peers reporting the breaker open is measured by a thread
   polling `breakers` on kept-open connections from before the request (so it includes the poll's own
   round trip, about a millisecond). `breaker.reset` on the tripping host closes it everywhere again.
2. Failed calls: the primary dead for `--seconds`, requests spread evenly over the daemons from the start,
   default breaker (3 failures, 5 s doubling) and recovery probes on; the fake counts calls to the primary.
   Run with 1 daemon, 3 daemons without a fleet, and 3 daemons in a fleet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "Tests", "integration"), os.path.join(ROOT, "Tests", "fakes")]

import fbd_harness as H  # noqa: E402
from fake_providers import start_fake_providers  # noqa: E402
from fbd_conn import Conn  # noqa: E402
from fbd_fleet import MSGS, TWO, URL_ENV, Postgres, calls_to, mid  # noqa: E402

OPEN_MS = 600_000


def make_daemons(binary, fake, pg, n, fleet: bool, breaker: dict, recovery: bool):
    name = "b" + uuid.uuid4().hex[:10]
    daemons = []
    for i in range(n):
        def mutate(c, host=f"host-{i + 1}"):
            H.set_resilience(c, breaker=breaker, retry={"max_retries": 0}, health={"degraded_below": 0.0})
            c["recovery"] = {"enabled": recovery}
            c["daemon"]["log_level"] = "info"
            if fleet:
                c["fleet"] = {"postgres_url_env": URL_ENV, "fleet_name": name, "host_name": host}
        d = H.Daemon(binary, fake, cfg_mutate=mutate, env_extra={URL_ENV: pg.url})
        daemons.append(d.start())
    if fleet:
        for d in daemons:
            assert H.wait_for(lambda: (lambda f: f["connected"] and len(f["members"]) == n)(d.call("fleet")), 30)
    return daemons


def stop(daemons):
    for d in daemons:
        try:
            d.stop()
        finally:
            d.kill()
            d.cleanup()


def breaker(conn, model="gpt-4o"):
    for b in conn.call("breakers")["breakers"]:
        if b["model"] == model:
            return b
    raise AssertionError(model)


def watch(peers, seen, timeout=10.0):
    """Spins on each peer's `breakers` until gpt-4o is open there; records when (wall clock, ms)."""
    deadline = time.monotonic() + timeout
    while len(seen) < len(peers) and time.monotonic() < deadline:
        for k, conn in enumerate(peers):
            if k not in seen and breaker(conn)["state"] == "open":
                seen[k] = time.time() * 1000


def propagation(binary, fake, pg, trips):
    daemons = make_daemons(binary, fake, pg, 3, True,
                           {"consecutive_failures": 1, "failure_rate": 0, "open_ms": OPEN_MS, "backoff_multiplier": 1.0}, recovery=False)
    conns = [Conn(d.socket) for d in daemons]
    latencies = []
    closes = []
    try:
        for i in range(trips):
            origin = i % 3
            peers = [c for j, c in enumerate(conns) if j != origin]
            fake.script(mid("gpt-4o"), [], then="server_error")
            # the peers are polled from another thread from before the request: the reply itself comes only
            # after the fallback model answered, later than the trip
            seen = {}
            poller = threading.Thread(target=watch, args=(peers, seen), daemon=True)
            poller.start()
            res = H.complete_ok(daemons[origin], MSGS, models=TWO, timeout_ms=10000)
            assert res["model_used"] == "claude-3-5-sonnet", res
            tripped_ms = breaker(conns[origin])["until_ms"] - OPEN_MS
            poller.join(15)
            assert len(seen) == len(peers), f"trip {i} never reached every peer"
            latencies.append(max(seen.values()) - tripped_ms)
            fake.script(mid("gpt-4o"), [], then="ok")
            # a close travels like a successful probe's: from the reset's reply to both peers closed
            reset_at = time.monotonic()
            daemons[origin].call("breaker.reset", {"model": "gpt-4o"})
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(breaker(c)["state"] != "closed" for c in peers):
                pass
            assert all(breaker(c)["state"] == "closed" for c in conns), f"trip {i} never closed everywhere"
            closes.append((time.monotonic() - reset_at) * 1000)
    finally:
        for c in conns:
            c.close()
        stop(daemons)
    return latencies, closes


def failed_calls(binary, fake, pg, n, fleet, seconds):
    fake.reset()
    daemons = make_daemons(binary, fake, pg, n, fleet,
                           {"consecutive_failures": 3, "failure_rate": 0, "open_ms": 5000}, recovery=True)
    try:
        fake.script(mid("gpt-4o"), [], then="server_error")
        start = time.monotonic()
        answered = 0
        while time.monotonic() - start < seconds:
            for d in daemons:
                H.complete_ok(d, MSGS, models=TWO, timeout_ms=10000)
                answered += 1
            time.sleep(0.02)
        return calls_to(fake, "gpt-4o"), answered
    finally:
        stop(daemons)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trips", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    binary = os.environ.get("FALLBACKD_BIN") or os.path.join(ROOT, ".build", "debug", "fallbackd")
    pg = Postgres().start()
    fake = start_fake_providers()
    try:
        lat, closes = propagation(binary, fake, pg, args.trips)
        for label, values in (("trip to both peers open", lat), ("reset sent to both peers closed", closes)):
            values.sort()
            print(f"propagation over {len(values)} trips (ms, {label}): median {statistics.median(values):.1f}, "
                  f"p90 {values[int(0.9 * (len(values) - 1))]:.1f}, max {values[-1]:.1f}, min {values[0]:.1f}")
        for n, fleet in ((1, False), (3, False), (3, True)):
            failed, answered = failed_calls(binary, fake, pg, n, fleet, args.seconds)
            label = f"{n} daemon{'s' if n > 1 else ''}" + (" in a fleet" if fleet else (" without a fleet" if n > 1 else ""))
            print(f"failed calls to a dead primary over {args.seconds:.0f} s ({answered} requests answered): {label}: {failed}")
    finally:
        fake.stop()
        pg.stop()


if __name__ == "__main__":
    main()
