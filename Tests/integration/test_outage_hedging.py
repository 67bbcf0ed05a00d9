"""Outage conduct, hanging calls and hedging (issue 10): with [chain_options.NAME] hedge_after_ms (or
hedge_after = "p95") the next model starts beside a first attempt that has produced nothing by then; the first
success (streaming: first commit) wins and the other is cancelled; [routing] hedge_budget_ratio caps hedges;
hedged attempts carry "hedged": true. Hanging calls count as timeouts while they run (hang_after_ms) toward the
timeout-rate trip. Real daemon, fake providers.

Recovery probes are off in these daemons: a probe of the tripped primary would take a `hang` step of its script
and run to its own deadline beside the test (probes have their own tests in test_outage_recovery.py).
"""

import threading

import pytest

import fbd_harness as H
from chat_lib import assert_delta_shapes, deltas, stream_request, text_of

MSGS = [{"role": "user", "content": "Answer me quickly please"}]
DEFAULT = H.CHAINS["default"]  # gpt-4o, claude-3-5-sonnet, gemini-pro
HANG_PATTERN = ["hang", "ok", "ok", "hang", "ok", "ok", "ok", "hang", "ok", "ok"]  # 30% of calls hang


def mid(name):
    return H.POOL[name].model_id


def hedging(chain="default", after_ms=300, ratio=1.0, breaker=None, rule=None):
    """cfg_mutate: a hedge rule on `chain`, the hedge budget, no probes, no health reordering."""
    def mutate(cfg):
        H.set_resilience(cfg, breaker=breaker, health={"degraded_below": 0.0})
        cfg["routing"] = {"hedge_budget_ratio": ratio}
        cfg["chain_options"] = {chain: rule or {"hedge_after_ms": after_ms}}
        cfg["recovery"] = {"enabled": False}
    return mutate


def hedged_attempts(res):
    return [a for a in res["attempts"] if a.get("hedged")]


def test_thirty_percent_hangs_are_answered_by_hedges_and_trip_the_timeout_rate(daemon_factory, fake):
    # only the timeout-rate rule trips (consecutive and failure-rate rules off); a call still out after 100 ms
    # counts as a timeout while it runs, when a request reads the breaker meanwhile: four callers at once
    # provide those reads (the hedge starts at 300 ms). A hung call the hedge beats is cancelled, and a
    # cancelled call counts for nothing by itself: one caller at a time, no hang would ever be counted.
    breaker = {"consecutive_failures": 0, "failure_rate": 0, "timeout_rate": 0.25, "hang_after_ms": 100,
               "window": 20, "minimum_calls": 10, "open_ms": 600_000, "auth_open_ms": 3_600_000}
    d = daemon_factory(cfg_mutate=hedging(after_ms=300, breaker=breaker))
    fake.script(mid("gpt-4o"), HANG_PATTERN * 20, then="ok")
    results, errors = [], []
    lock = threading.Lock()
    tripped = threading.Event()

    def worker():
        for _ in range(50):
            if tripped.is_set() and len(results) >= 40:
                return
            try:
                r = H.complete_reply(d, MSGS, timeout=40, timeout_ms=20000)
            except Exception as e:  # noqa: BLE001 - reported below
                r = {"exception": repr(e)}
            with lock:
                if "result" not in r:
                    errors.append(r)
                    continue
                results.append(r["result"])
                if H.route_entry(r["result"]["route"], "gpt-4o")["reason"] == "open":
                    tripped.set()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "requests did not finish"
    # every request is answered
    assert errors == [], errors[:3]
    hung = [r for r in fake.requests(model=mid("gpt-4o")) if r["kind"] == "hang"]
    assert hung, "no call hung: the test proves nothing"
    for res in results:
        primary = [a for a in res["attempts"] if a["model"] == "gpt-4o"]
        if primary and primary[0]["outcome"] == "error":
            # the hung ones: answered by the hedge, fast (the primary's share of the deadline is 10 s)
            assert res["model_used"] == "claude-3-5-sonnet", res
            # cut off by the hedge that answered first: logged (and counted by its breaker) as a timeout
            assert primary[0]["error_type"] == "timeout", res["attempts"]
            assert "answered first" in (primary[0]["message"] or ""), res["attempts"]
            h = hedged_attempts(res)
            assert [(a["model"], a["outcome"]) for a in h] == [("claude-3-5-sonnet", "success")], res["attempts"]
            assert res["latency_ms"] < 5000, res["latency_ms"]
    n_hedged = sum(1 for r in results if hedged_attempts(r))
    assert n_hedged >= len(hung), (n_hedged, len(hung))
    # the timeout-rate rule took the primary out, and later requests skip it
    assert tripped.is_set(), f"the breaker never tripped: {H.breaker_of(d, 'gpt-4o')}"
    b = H.breaker_of(d, "gpt-4o")
    assert b["state"] == "open", b
    assert "timeout rate" in (b["last_trip_reason"] or ""), b
    after = [r for r in results if H.route_entry(r["route"], "gpt-4o")["reason"] == "open"]
    # (which model serves them is the rest of the chain's business: on a loaded machine claude's own calls may
    # pass the 300 ms hedge time, be hedged by gemini, or make claude lagging so that gemini goes first)
    assert after and all("gpt-4o" not in [a["model"] for a in r["attempts"]] for r in after), \
        [[(a["model"], a["outcome"], a.get("hedged")) for a in r["attempts"]] for r in after]
    # the abandoned hangs were hung up on
    assert H.wait_for(lambda: all(r.get("ended") == "client_closed" for r in fake.requests(model=mid("gpt-4o"))
                                  if r["kind"] == "hang"), timeout=20)


def test_no_hedge_before_the_delay(daemon_factory, fake):
    # a primary answering within the hedge delay is never hedged: the next model gets no call
    d = daemon_factory(cfg_mutate=hedging(after_ms=2000))
    fake.script(mid("gpt-4o"), ["slow:100"] * 3, then="ok")
    for _ in range(5):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=20000))
        assert res["model_used"] == "gpt-4o" and not hedged_attempts(res), res["attempts"]
    assert fake.requests(model=mid("claude-3-5-sonnet")) == []


def test_hedge_budget_ratio_one_hedges_every_slow_primary(daemon_factory, fake):
    # the control of the next test: the same slow primary with a budget for every request is always hedged
    d = daemon_factory(cfg_mutate=hedging(after_ms=100, ratio=1.0))
    fake.script(mid("gpt-4o"), [], then="slow:1500")
    hedged_in_turn = 0
    for _ in range(12):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=20000))
        assert res["model_used"] == "claude-3-5-sonnet", res
        assert res["latency_ms"] < 1500, "served by the hedge, not after the primary's answer"
        if H.route_entry(res["route"], "gpt-4o")["reason"] == "open":
            # each primary the hedges outran counted as a timeout: three in a row took it out
            assert [a["model"] for a in res["attempts"]] == ["claude-3-5-sonnet"], res["attempts"]
            continue
        assert [(a["model"], a["hedged"]) for a in hedged_attempts(res)] == [("claude-3-5-sonnet", True)]
        hedged_in_turn += 1
    assert hedged_in_turn >= 3, "every slow primary was hedged until its breaker opened"


def test_hedge_budget_ratio_zero_means_no_hedges(daemon_factory, fake):
    # [routing] hedge_budget_ratio = 0: "at most this share of requests get a hedge" -> none. The slow primary
    # answers every request itself, and the next model gets no call
    d = daemon_factory(cfg_mutate=hedging(after_ms=100, ratio=0.0))
    fake.script(mid("gpt-4o"), [], then="slow:600")
    hedged = []
    for i in range(12):
        res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=20000))
        if hedged_attempts(res) or res["model_used"] != "gpt-4o":
            hedged.append(i)
    calls = len(fake.requests(model=mid("claude-3-5-sonnet")))
    assert hedged == [] and calls == 0, (
        f"hedge_budget_ratio = 0 still hedged requests {hedged} of 12 ({calls} calls to the next model). "
        f"HedgeBudget (Sources/FallbackCore/Outage/RoutingPolicy.swift) starts with a full bucket "
        f"(max(1, maxTokens) = 10 tokens) whatever the ratio, so the first 10 eligible requests are hedged")


def test_hedge_after_p95_waits_for_minimum_calls(daemon_factory, fake):
    # hedge_after = "p95": no hedge until the first model has [health].minimum_calls (5) calls; then the
    # first model's p95 latency is the delay
    d = daemon_factory(cfg_mutate=hedging(rule={"hedge_after": "p95"}))
    fake.script(mid("gpt-4o"), ["slow:800", "ok", "ok", "ok", "ok"], then="slow:8000")
    first = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=20000))
    assert first["model_used"] == "gpt-4o" and not hedged_attempts(first), "hedged before the p95 is known"
    assert first["latency_ms"] >= 800
    for _ in range(4):
        assert H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=20000))["model_used"] == "gpt-4o"
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=20000))
    assert res["model_used"] == "claude-3-5-sonnet", res
    assert [(a["model"], a["outcome"]) for a in hedged_attempts(res)] == [("claude-3-5-sonnet", "success")]
    # hedged after about the p95 (~800 ms, a histogram bucket), far from the primary's 8 s
    assert res["latency_ms"] < 5000, res["latency_ms"]


TEXT = {"gpt-4o": "the primary speaks slowly but surely about rivers and seas and the rain",
        "claude-3-5-sonnet": "the hedge answers at once with its own words about mountains and snow"}

# (primary's first content delay, hedge's first content delay): the hedge starts 200 ms into the request
RACES = [(3000, 0), (400, 3000), (350, 0), (250, 0)]


@pytest.mark.parametrize("primary_ms,hedge_ms", RACES, ids=[f"primary{p}-hedge{h}" for p, h in RACES])
def test_streaming_hedge_deltas_come_from_one_model(daemon_factory, fake, primary_ms, hedge_ms):
    d = daemon_factory(cfg_mutate=hedging(chain="explicit", after_ms=200))
    for name, ms in (("gpt-4o", primary_ms), ("claude-3-5-sonnet", hedge_ms)):
        fake.script(mid(name), [{"kind": "stream_slow_first", "ms": ms, "content": TEXT[name], "chunks": 12}],
                    then="ok")
    with d.conn(40) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": list(TEXT),
                                          "timeout_ms": 20000}, id=9)
        assert c.request("ping", id="after")["result"] == "pong"  # no stray delta after the reply
    assert "result" in reply, reply
    res = reply["result"]
    winner = res["model_used"]
    loser = next(m for m in TEXT if m != winner)
    # every delta from the one model that committed first, never interleaved with the other's
    ds = assert_delta_shapes(notes, 9, winner)
    assert deltas(notes, model=loser) == []
    assert text_of(ds) == res["content"] == TEXT[winner]
    by_model = {a["model"]: a for a in res["attempts"]}
    assert by_model[winner]["outcome"] == "success" and by_model[winner]["committed"] is True
    assert by_model["gpt-4o"]["hedged"] is False
    if "claude-3-5-sonnet" in by_model:  # (a primary committing before 200 ms would leave no hedge to start)
        assert by_model["claude-3-5-sonnet"]["hedged"] is True
    if loser in by_model:
        assert by_model[loser]["committed"] is False and by_model[loser]["outcome"] == "error", by_model[loser]
    if primary_ms == 3000:
        assert winner == "claude-3-5-sonnet"
    if hedge_ms == 3000:
        assert winner == "gpt-4o"
