"""Shadow testing against the real daemon: daily cap, breaker/health, shadow.report, the sampling rate and
the cost-ratio guard on shadows.

The default chain is gpt-4o -> claude-3-5-sonnet -> gemini-pro, so a request served by gpt-4o is shadowed
by claude-3-5-sonnet (the next model) unless [shadow.pairs] says otherwise. Health reordering is off.
Shared constants and helpers live in shadow_lib.py.
"""

import fbd_harness as H
from shadow_lib import (
    INVALID_PARAMS,
    MSGS,
    PRIMARY,
    SHADOW,
    close,
    cost_of,
    jaccard,
    mid,
    n_requests,
    reply_of,
    shadow_cfg,
    stop_and_count,
    user,
    wait_requests,
)


# --------------------------------------------------------------------------- daily cap


def test_daily_cap_stops_shadows_and_survives_restart(daemon_factory, fake):
    cap = 0.0001
    assert cost_of(SHADOW) > cap, "the first shadow must reach the cap on its own"
    cfg = shadow_cfg(sample_rate=1.0, daily_cap_usd=cap)
    d = daemon_factory(cfg_mutate=cfg)
    H.complete_ok(d, MSGS)
    wait_requests(fake, SHADOW, 1)
    H.wait_count(lambda: H.shadow_results(d), 1, what="shadow_results row")  # its spend is counted by now
    for i in range(5):
        assert H.complete_ok(d, user(i))["model_used"] == PRIMARY
    assert n_requests(fake, PRIMARY) == 6
    # opting in is still subject to the cap
    H.complete_ok(d, MSGS, shadow=True)
    shadows, rows = stop_and_count(d, fake, SHADOW)
    assert shadows == 1 and len(rows) == 1, "a shadow past the daily cap"
    d2 = daemon_factory(cfg_mutate=H.compose(cfg, lambda c: c["daemon"].__setitem__("database", d.db)))
    for i in range(3):
        H.complete_ok(d2, user(i), shadow=True)
    H.stop_settled(d2)
    assert n_requests(fake, SHADOW) == 1, "the cap was forgotten across the restart"
    assert len(H.shadow_calls(d)) == 1  # d2 writes to d.db


# --------------------------------------------------------------------------- breaker and health


def test_shadow_traffic_opens_the_shadow_models_breaker(daemon_factory, fake):
    breaker = {"consecutive_failures": 3, "failure_rate": 0, "open_ms": 600_000, "auth_open_ms": 3_600_000}
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.0, breaker=breaker))
    fake.script(mid(SHADOW), [], then="server_error")
    for i in range(3):
        r = H.complete_ok(d, user(i), shadow=True)
        assert r["model_used"] == PRIMARY and [a["model"] for a in r["attempts"]] == [PRIMARY]
        wait_requests(fake, SHADOW, i + 1)
    b = H.wait_breaker_state(d, SHADOW, "open")
    assert "3 consecutive failures" in (b.get("last_trip_reason") or ""), b
    h = H.health_of(d, SHADOW)
    assert h["calls"] == 3 and h["successes"] == 0, h
    assert H.breaker_of(d, PRIMARY)["state"] == "closed"
    # an open breaker keeps shadows away, and the callers' route reflects it
    for i in range(3):
        r = H.complete_ok(d, user(10 + i), shadow=True)
        assert r["model_used"] == PRIMARY
        assert H.route_entry(r["route"], SHADOW)["reason"] == "open"
    sent, rows = stop_and_count(d, fake, SHADOW)
    # The open model (it is in the default chain) does get recovery probes, one at a time and spaced by
    # [recovery] probe_interval_ms (5 s): logged as shadow rows with chain "probe", never as shadows.
    probes = [x for x in rows if x["chain"] == "probe"]
    shadows = [x for x in rows if x["chain"] != "probe"]
    assert len(shadows) == 3, f"a shadow went to a model whose breaker is open: {shadows}"
    assert [x["error_type"] for x in shadows] == ["server_error"] * 3
    assert 1 <= len(probes) <= 2, f"recovery probes of the open model: {probes}"
    assert all(x["model_name"] == SHADOW and x["error_type"] == "server_error" for x in probes), probes
    assert sent == len(shadows) + len(probes), "a call to the open model that is neither shadow nor probe"


# --------------------------------------------------------------------------- shadow.report


def test_shadow_report_matches_shadow_results(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=1.0))
    fake.script(mid(SHADOW), ["ok", "server_error", "ok", "ok", "ok", "ok"], then="ok")
    n = 6
    msgs = [user(i) for i in range(n)]
    for i in range(n):
        H.complete_ok(d, msgs[i])
        wait_requests(fake, SHADOW, i + 1)  # keeps the shadows in request order
    res = H.wait_count(lambda: H.shadow_results(d), n, what="shadow_results rows")
    assert len(res) == n
    both = [x for x in res if x["primary_success"] and x["shadow_success"]]
    assert len(both) == n - 1
    by_req = {x["request_id"]: x for x in res}
    for x in both:
        assert x["similarity"] is not None
    failed = [x for x in res if not x["shadow_success"]]
    assert len(failed) == 1 and failed[0]["shadow_error_type"] == "server_error" and failed[0]["similarity"] is None

    rep = d.call("shadow.report", {"days": 1})
    assert rep["days"] == 1
    assert len(rep["pairs"]) == 1, rep
    p = rep["pairs"][0]
    assert (p["primary_model"], p["shadow_model"]) == (PRIMARY, SHADOW)
    assert p["calls"] == n
    assert close(p["primary_success_rate"], 1.0)
    assert close(p["shadow_success_rate"], (n - 1) / n)
    lat_p = sum(x["primary_latency_ms"] for x in both)
    lat_s = sum(x["shadow_latency_ms"] for x in both)
    if lat_p > 0:
        assert close(p["latency_ratio"], lat_s / lat_p), (p, lat_s, lat_p)
    else:
        assert p["latency_ratio"] is None
    assert close(p["cost_ratio"], sum(x["shadow_cost_usd"] for x in both) / sum(x["primary_cost_usd"] for x in both))
    # and against hand-computed costs and similarities
    ok_idx = [i for i in range(n) if i != 1]
    assert close(p["cost_ratio"], sum(cost_of(SHADOW, msgs[i]) for i in ok_idx) /
                 sum(cost_of(PRIMARY, msgs[i]) for i in ok_idx))
    sims = [jaccard(reply_of(PRIMARY, msgs[i])["content"], reply_of(SHADOW, msgs[i])["content"]) for i in ok_idx]
    assert close(p["mean_similarity"], sum(sims) / len(sims)), (p["mean_similarity"], sims)
    assert close(p["mean_similarity"], sum(x["similarity"] for x in both) / len(both))
    assert len(by_req) == n

    # a range without results, and parameter checks
    assert d.call("shadow.report", {"since": 0, "until": 1000})["pairs"] == []
    for bad in ({"days": 0}, {"days": 1, "since": 0}, {"since": 5000, "until": 5000}, {"weeks": 2}, {"bogus": 1}):
        H.rpc_error(d.request("shadow.report", bad), INVALID_PARAMS)


# --------------------------------------------------------------------------- sampling rate


def test_half_sampling_rate_over_200_requests(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=shadow_cfg(sample_rate=0.5, seed=7))
    total = 200
    with d.conn(timeout=30) as c:
        for i in range(total):
            reply = c.request("complete", {"messages": MSGS})
            assert "error" not in reply, reply
    shadows, rows = stop_and_count(d, fake, SHADOW)  # every shadow started has ended: the count is final
    assert 60 <= shadows <= 140, f"sample_rate 0.5 shadowed {shadows} of {total} requests"
    assert n_requests(fake, PRIMARY) == total
    assert len(rows) == shadows
    assert len(H.shadow_results(d)) == shadows


def test_no_shadow_onto_model_over_cost_ratio(daemon_factory, fake):
    # gemini-pro is 8.3x gpt-4o-mini's price: the chain's guard keeps shadows off it as it keeps fallbacks off it
    def chain(cfg):
        cfg["chains"]["guarded"] = ["gpt-4o-mini", "gemini-pro", "claude-3-haiku"]
        H.set_cost(cfg, max_cost_ratio={"guarded": 2.0})
    d = daemon_factory(cfg_mutate=H.compose(shadow_cfg(sample_rate=1.0), chain))
    for _ in range(3):
        assert H.complete_ok(d, MSGS, task="guarded", shadow=True)["model_used"] == "gpt-4o-mini"
    # an unguarded chain is still shadowed
    cheap = H.complete_ok(d, MSGS, task="cheap")
    shadows, rows = stop_and_count(d, fake, "gemini-pro")
    assert shadows == 0, "a shadow went to a model over the chain's cost ratio"
    assert [(x["model_name"], x["request_id"]) for x in rows] == [("claude-3-haiku", cheap["request_id"])]
    assert len(fake.requests()) == 5  # 3 guarded + 1 cheap + its shadow
