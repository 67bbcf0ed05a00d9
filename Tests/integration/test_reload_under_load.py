"""Reload under load: 1,000 requests in flight across a SIGHUP that changes a chain; every one is answered, and
each on one whole config, never a mix (docs/protocol.md, "### reload": "a request already running finishes on
the config it started with, the next one gets the new one").

How the 1,000 are provably in flight: the old chain's first model (gpt-4o) holds every request at the fake
provider until the test releases it, and the test sends SIGHUP only once `status.in_flight` counts all 1,000.
More requests race the reload (sent right after the signal), and more still are sent once
`status.config_generation` says the new file is in force. The new chain's first model answers slowly
(300-800 ms, seeded), so those are in flight together with the held ones.

Each reply must be a success whose `route` is exactly the old chain or exactly the new one, served by that
route's first model (the fake's content names the model and echoes the request), priced with that
generation's prices (the new file changes the prices of both first models).
"""

import random
import signal
import time

import pytest

import fbd_harness as H
import ops_lib as O

OLD = ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"]  # the test config's default chain
NEW = ["claude-3-5-sonnet", "gemini-pro", "gpt-4o"]  # reordered by the reload
OLD_PRICES = {"gpt-4o": (0.005, 0.015), "claude-3-5-sonnet": (0.003, 0.015)}
NEW_PRICES = {"gpt-4o": (0.05, 0.15), "claude-3-5-sonnet": (0.03, 0.15)}
MODEL_IDS = {"gpt-4o": "gpt-4o", "claude-3-5-sonnet": "claude-3-5-sonnet-20241022"}
FLAVORS = {"gpt-4o": "openai", "claude-3-5-sonnet": "anthropic"}

HELD = 1000  # 20 connections x 50 pipelined
RACING = 200  # sent right after SIGHUP: old or new
AFTER = 200  # sent once the new generation is in force: new
OVERALL_S = 120.0  # generous bound for everything, on a loaded machine


def load_config(cfg):
    assert cfg["chains"]["default"] == OLD, cfg["chains"]["default"]
    for p in cfg["providers"].values():
        p["timeout_ms"] = 120_000  # held calls must not time out
        p["connect_timeout_ms"] = 10_000  # hundreds of connections open at once to the fake
    # Nothing may reorder a route during the test: no breaker rule (slowness included), no health reorder,
    # no recovery probes. Then the only thing that can change a route is the reload.
    H.set_resilience(cfg, breaker={"consecutive_failures": 0, "failure_rate": 0, "timeout_rate": 0,
                                   "hang_after_ms": 0, "auth_open_ms": 1},
                     health={"degraded_below": 0.0})
    cfg["recovery"] = {"enabled": False}
    # Nor overdue hedges: with a thousand calls held at the fake on a loaded machine, a new-chain call can
    # take 5x its model's median, and its hedge (the next model) would then serve it.
    cfg["routing"] = {"overdue_multiple": 0}
    cfg["daemon"]["log_level"] = "info"  # thousands of requests: keep the log small


def new_config(cfg):
    cfg["chains"]["default"] = list(NEW)
    for name, (cin, cout) in NEW_PRICES.items():
        cfg["models"][name]["cost_per_1k_input"] = cin
        cfg["models"][name]["cost_per_1k_output"] = cout


def request(rid):
    return rid, {"messages": [{"role": "user", "content": f"req {rid}"}], "timeout_ms": 110_000}


def classify(rid, reply) -> str:
    """'old' or 'new' for a reply consistent with one whole config; an AssertionError otherwise."""
    assert "result" in reply, f"{rid}: not a success: {str(reply)[:600]}"
    res = reply["result"]
    route = O.route_models(res["route"])
    if route == OLD:
        gen, prices = "old", OLD_PRICES
    elif route == NEW:
        gen, prices = "new", NEW_PRICES
    else:
        raise AssertionError(f"{rid}: route {route} is neither the old chain {OLD} nor the new one {NEW}")
    assert all(e["reason"] == "healthy" for e in res["route"]), f"{rid}: {res['route']}"
    first = route[0]
    assert res["model_used"] == first and res["chain"] == "default", f"{rid} ({gen}): {res['model_used']} {res['attempts']}"
    assert [a["model"] for a in res["attempts"]] == [first], f"{rid} ({gen}): attempts {res['attempts']}"
    want = f"fake-{FLAVORS[first]} {MODEL_IDS[first]} says: req {rid}"
    assert res["content"] == want, f"{rid} ({gen}): content {res['content']!r} != {want!r}"
    cin, cout = prices[first]
    u = res["usage"]
    price = u["input_tokens"] / 1000 * cin + u["output_tokens"] / 1000 * cout
    assert H.approx(res["cost_usd"], price), \
        f"{rid}: route of the {gen} config, but cost {res['cost_usd']} != {price} at the {gen} prices (half-applied)"
    return gen


@pytest.fixture
def big_fake():
    """A private fake provider server that can hold 1,000+ calls at once (see ops_lib.start_high_load_fakes)."""
    f = O.start_high_load_fakes()
    yield f
    f.stop()


def test_thousand_requests_in_flight_across_sighup(big_fake, fake, daemon_factory):  # the daemon stops first
    t0 = time.monotonic()
    deadline = t0 + OVERALL_S
    d = daemon_factory(cfg_mutate=H.compose(O.point_providers_at(fake, big_fake), load_config))
    assert fake.url not in open(d.config_path).read(), "a provider still points at the shared fake"
    fake = big_fake
    assert d.call("status")["max_in_flight"] >= HELD + RACING + AFTER

    rnd = random.Random(20241125)
    fake.script("gpt-4o", [], then="hold")  # every old-chain request waits at gpt-4o until released
    fake.script("claude-3-5-sonnet-20241022", [f"slow:{rnd.randint(300, 800)}" for _ in range(RACING + AFTER)],
                then="slow:500")

    p = O.Pipeline(d, conn_timeout=OVERALL_S)
    held = [request(f"a{i}") for i in range(HELD)]
    p.send(held, conns=20, deadline=deadline)

    def in_flight():
        return d.call("status")["in_flight"]

    got = H.wait_for(lambda: in_flight() >= HELD, timeout=60, interval=0.1)
    assert got, f"only {in_flight()} of {HELD} requests in flight after 60 s; errors: {p.errors[:3]}"
    at_signal = in_flight()
    assert H.wait_for(lambda: fake.requests(model="gpt-4o"), timeout=30), "no request reached gpt-4o"
    assert not p.replies, f"{len(p.replies)} held requests were answered before the reload: {list(p.replies)[:3]}"

    # the reload, with requests racing it
    O.rewrite(d, new_config)
    d.send_signal(signal.SIGHUP)
    racing = [request(f"r{i}") for i in range(RACING)]
    p.send(racing, conns=10, deadline=deadline)
    assert H.wait_for(lambda: O.generation(d) == 2, timeout=60, interval=0.05), \
        f"SIGHUP not applied within 60 s (generation {O.generation(d)}); stderr:\n{d.stderr_tail()}"

    after = [request(f"n{i}") for i in range(AFTER)]
    p.send(after, conns=10, deadline=deadline)
    # the new chain answers while the old requests are still held
    after_ids = {rid for rid, _ in after}
    assert H.wait_for(lambda: after_ids <= set(p.replies), timeout=60, interval=0.1), \
        f"{len(after_ids - set(p.replies))} requests on the new chain unanswered after 60 s; errors: {p.errors[:3]}"
    early_old = [rid for rid, _ in held if rid in p.replies]
    assert not early_old, \
        f"held requests answered before their model was released: {early_old[:5]}: " \
        f"{str(p.replies[early_old[0]])[:1500]}"

    fake.release("gpt-4o")
    replies = p.wait(deadline)
    total = HELD + RACING + AFTER
    assert len(replies) == total, f"{total - len(replies)} requests never answered"

    gens = {rid: classify(rid, reply) for rid, reply in replies.items()}
    held_new = [rid for rid, _ in held if gens[rid] != "old"]
    assert not held_new, f"requests in flight at the reload switched to the new config: {held_new[:5]}"
    after_old = [rid for rid, _ in after if gens[rid] != "new"]
    assert not after_old, f"requests sent after the new generation was in force ran the old config: {after_old[:5]}"
    n_old = sum(g == "old" for g in gens.values())
    n_new = total - n_old
    assert n_old >= HELD and n_new >= AFTER, (n_old, n_new)

    # the providers saw exactly what the replies say: no hidden retries, fallbacks or half-applied calls
    assert len(fake.requests(model="gpt-4o")) == n_old, (len(fake.requests(model="gpt-4o")), n_old)
    assert len(fake.requests(model="claude-3-5-sonnet-20241022")) == n_new
    assert not fake.requests(model="gemini-1.5-pro"), "a second model of a chain was called"

    status = d.call("status")
    assert status["config_generation"] == 2 and status["in_flight"] == 0, status
    assert d.call("ping") == "pong"
    assert d.stop() == 0
    print(f"in flight at SIGHUP: {at_signal}; racing requests: "
          f"{sum(gens[rid] == 'old' for rid, _ in racing)} old, {sum(gens[rid] == 'new' for rid, _ in racing)} new; "
          f"took {time.monotonic() - t0:.1f} s")
