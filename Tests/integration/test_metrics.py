"""GET /metrics: Prometheus text exposition, parsed with prometheus_client's own parser.

Counts are checked against the traffic each test sends (the daemon is fresh per test), label values must stay
bounded (chain names, pool models, providers; never a request id or a caller's free-form task), histograms
must be well formed, and fallbackd_breaker_state must say exactly one state per model.
"""

import math
import re
import uuid

import pytest

import fbd_harness as H
from chat_lib import mid
from facade_lib import (MSGS, clients, fallbackd_of, metric_families, metrics_text, openai_module,  # noqa: F401
                        samples, value)

openai = openai_module()

DEFAULT = H.CHAINS["default"]
NO_REORDER = {"degraded_below": 0.0}
STATES = {"closed", "open", "half_open", "isolated"}

COUNTERS = ("fallbackd_requests", "fallbackd_attempts", "fallbackd_fallbacks", "fallbackd_cost_usd",
            "fallbackd_call_log_flush_failures", "fallbackd_call_log_dropped_rows")
GAUGES = ("fallbackd_breaker_state", "fallbackd_in_flight_requests", "fallbackd_open_connections",
          "fallbackd_call_log_pending_rows", "fallbackd_call_log_flush_lag_seconds")
HISTOGRAMS = ("gen_ai_client_operation_duration_seconds", "fallbackd_time_to_first_token_seconds",
              "gen_ai_client_token_usage", "fallbackd_request_duration_seconds")
# label sets of the contract
LABELS = {
    "fallbackd_requests": {"task", "outcome", "app"},
    "fallbackd_attempts": {"model", "provider", "outcome", "error_type"},
    "gen_ai_client_operation_duration_seconds": {"gen_ai_operation_name", "gen_ai_provider_name",
                                                 "gen_ai_request_model", "error_type"},
    "fallbackd_time_to_first_token_seconds": {"model"},
    "fallbackd_breaker_state": {"model", "state"},
    "fallbackd_breaker_transitions": {"model", "to"},
    "fallbackd_fallbacks": {"task"},
    "fallbackd_retries": {"task"},
    "fallbackd_cost_usd": {"task", "model", "app"},
    "fallbackd_request_duration_seconds": {"task"},
}
REQUEST_ID = re.compile(r"^(r-|chatcmpl-)|[0-9a-f]{8}-[0-9a-f]{4}-|^[0-9a-f]{16,}$")


def create(sdk, **kw):
    return H.bounded(lambda: sdk.chat.completions.create(**kw), timeout=90)


def series(fams, family, sample_name=None):
    """{frozenset(labels.items()): value} of a family's samples (named sample_name)."""
    return {frozenset(s.labels.items()): s.value for s in samples(fams, family, sample_name)}


def check_histograms(fams):
    """Every histogram: buckets non-decreasing in le, +Inf bucket == _count, _sum >= 0."""
    for name, fam in fams.items():
        if fam.type != "histogram":
            continue
        groups: dict = {}
        counts, sums = {}, {}
        for s in fam.samples:
            rest = frozenset((k, v) for k, v in s.labels.items() if k != "le")
            if s.name == name + "_bucket":
                groups.setdefault(rest, []).append((float(s.labels["le"]), s.value))
            elif s.name == name + "_count":
                counts[rest] = s.value
            elif s.name == name + "_sum":
                sums[rest] = s.value
        assert groups, f"histogram {name} has no buckets"
        for labels, buckets in groups.items():
            buckets.sort()
            values = [v for _, v in buckets]
            assert values == sorted(values), f"{name}{dict(labels)}: buckets not monotonic: {buckets}"
            assert buckets[-1][0] == math.inf, f"{name}{dict(labels)}: no +Inf bucket"
            assert labels in counts and buckets[-1][1] == counts[labels], f"{name}{dict(labels)}: +Inf != _count"
            assert labels in sums and sums[labels] >= 0, f"{name}{dict(labels)}: bad _sum"


def check_label_hygiene(fams, forbidden=()):
    chains = set(H.CHAINS) | {"explicit"}
    for name, fam in fams.items():
        for s in fam.samples:
            for k, v in s.labels.items():
                assert not REQUEST_ID.search(v), f"{s.name}{s.labels}: label {k}={v!r} looks like a request id"
                assert v not in forbidden, f"{s.name}{s.labels}: caller-supplied value {v!r} became a label"
            if "task" in s.labels:
                assert s.labels["task"] in chains, f"{s.name}{s.labels}: task label is not a chain name"
            if "model" in s.labels and name != "fallbackd_shadow_calls":
                assert s.labels["model"] in H.POOL, f"{s.name}{s.labels}: unknown model label"


def check_breaker_state(fams, models):
    """For each model: the four states, values 0/1, exactly one 1."""
    by_model: dict = {}
    for s in samples(fams, "fallbackd_breaker_state", "fallbackd_breaker_state"):
        assert s.value in (0, 1), s
        by_model.setdefault(s.labels["model"], {})[s.labels["state"]] = s.value
    for model in models:
        assert model in by_model, f"no fallbackd_breaker_state for {model}: {sorted(by_model)}"
    for model, states in by_model.items():
        assert set(states) == STATES, f"{model}: states {states}"
        assert sum(states.values()) == 1, f"{model}: not exactly one current state: {states}"
    return {m: next(st for st, v in states.items() if v == 1) for m, states in by_model.items()}


def test_metrics_after_traffic(daemon_factory, clients, fake):  # noqa: F811
    d = daemon_factory(cfg_mutate=H.resilience(health=NO_REORDER))
    sdk = clients.sdk(d)
    # 1. served by the primary
    r1 = create(sdk, model="default", messages=MSGS)
    assert r1.model == "gpt-4o"
    # 2. one fallback: gpt-4o fails once
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    r2 = create(sdk, model="default", messages=MSGS)
    assert r2.model == "claude-3-5-sonnet" and fallbackd_of(r2)["fallback_count"] == 1
    # 3. one stream, served by the primary
    chunks = H.bounded(lambda: list(create(sdk, model="default", messages=MSGS, stream=True,
                                           stream_options={"include_usage": True})), timeout=90)
    r3 = fallbackd_of(chunks[-1])
    assert r3["model"] == "gpt-4o"
    # 4. a chain where everything fails
    for name in H.CHAINS["cheap"]:
        fake.script(mid(name), [], then="server_error")
    with pytest.raises(openai.APIStatusError) as ei:
        create(sdk, model="cheap", messages=MSGS)
    assert ei.value.status_code == 502, ei.value
    served = [fallbackd_of(r1), fallbackd_of(r2), r3]
    assert H.wait_for(lambda: d.call("status")["in_flight"] == 0, timeout=20)

    fams = metric_families(d)
    for f in COUNTERS:
        assert f in fams and fams[f].type == "counter", f"counter {f}: {fams.get(f)}"
    for f in GAUGES:
        assert f in fams and fams[f].type == "gauge", f"gauge {f}: {fams.get(f)}"
    for f in HISTOGRAMS:
        assert f in fams and fams[f].type == "histogram", f"histogram {f}: {fams.get(f)}"
    for f, want in LABELS.items():
        for s in fams[f].samples if f in fams else []:
            got = set(s.labels) - {"le"}
            assert got == want, f"{s.name}: labels {got} != {want}"

    # requests: 3 served on default, 1 failed on cheap
    req = samples(fams, "fallbackd_requests", "fallbackd_requests_total")
    assert sum(s.value for s in req if s.labels["task"] == "default" and s.labels["outcome"] == "served") == 3, req
    assert sum(s.value for s in req if s.labels["outcome"] == "served") == 3, req
    assert sum(s.value for s in req if s.labels["task"] == "cheap" and s.labels["outcome"] != "served") == 1, req
    assert sum(s.value for s in req) == 4, req
    # fallbacks: exactly the one on default
    assert value(fams, "fallbackd_fallbacks", "fallbackd_fallbacks_total", task="default") == 1

    # attempts per model/outcome
    att = series(fams, "fallbackd_attempts", "fallbackd_attempts_total")

    def attempts(model, outcome, error_type=None):
        return sum(v for k, v in att.items() if dict(k)["model"] == model and dict(k)["outcome"] == outcome
                   and (error_type is None or dict(k)["error_type"] == error_type))
    assert attempts("gpt-4o", "success") == 2
    assert attempts("gpt-4o", "error", "server_error") == 1
    assert attempts("claude-3-5-sonnet", "success") == 1
    for name in H.CHAINS["cheap"]:
        assert attempts(name, "error", "server_error") == 1, name
    assert sum(att.values()) == 3 + 1 + len(H.CHAINS["cheap"]), att
    for k in att:
        assert dict(k)["provider"] == H.POOL[dict(k)["model"]].provider, k

    # per-attempt latency histogram: one observation per attempt
    dur = samples(fams, "gen_ai_client_operation_duration_seconds", "gen_ai_client_operation_duration_seconds_count")
    assert sum(s.value for s in dur) == sum(att.values())
    assert sum(s.value for s in dur if s.labels["gen_ai_request_model"] == "gpt-4o") == 3
    assert all(s.labels["gen_ai_operation_name"] == "chat" for s in dur)
    # time to first token: the one stream
    ttft = samples(fams, "fallbackd_time_to_first_token_seconds", "fallbackd_time_to_first_token_seconds_count")
    assert [(s.labels["model"], s.value) for s in ttft] == [("gpt-4o", 1)], ttft
    # token usage: input and output for each served attempt
    tok = samples(fams, "gen_ai_client_token_usage", "gen_ai_client_token_usage_count")
    assert sum(s.value for s in tok if s.labels.get("gen_ai_request_model") == "gpt-4o") == 2 * 2, tok
    # request latency: one per request on default
    assert value(fams, "fallbackd_request_duration_seconds", "fallbackd_request_duration_seconds_count",
                 task="default") == 3
    # cost: what the responses said, per model
    cost = samples(fams, "fallbackd_cost_usd", "fallbackd_cost_usd_total")
    for model in ("gpt-4o", "claude-3-5-sonnet"):
        want = sum(f["cost_usd"] for f in served if f["model"] == model)
        got = sum(s.value for s in cost if s.labels["model"] == model and s.labels["task"] == "default")
        assert H.approx(got, want, rel=1e-6), (model, got, want)
    # gauges
    assert value(fams, "fallbackd_in_flight_requests", "fallbackd_in_flight_requests") == 0
    assert value(fams, "fallbackd_open_connections", "fallbackd_open_connections") >= 1
    assert value(fams, "fallbackd_call_log_pending_rows", "fallbackd_call_log_pending_rows") >= 0
    assert value(fams, "fallbackd_call_log_flush_lag_seconds", "fallbackd_call_log_flush_lag_seconds") >= 0
    assert value(fams, "fallbackd_call_log_flush_failures", "fallbackd_call_log_flush_failures_total") == 0
    assert value(fams, "fallbackd_call_log_dropped_rows", "fallbackd_call_log_dropped_rows_total") == 0

    check_breaker_state(fams, DEFAULT + ["claude-3-haiku"])
    check_histograms(fams)
    check_label_hygiene(fams)


def test_breaker_state_covers_every_pool_model(daemon):
    """Every pool model has a breaker (closed on a fresh daemon; `breakers` lists them all): /metrics says so
    from the first scrape, not only for models something happened to touch."""
    models = daemon.call("status")["models"]
    assert sorted(models) == sorted(H.POOL)
    fams = metric_families(daemon)
    states = check_breaker_state(fams, models)
    assert states == {m: "closed" for m in models}, states


def test_breaker_state_and_transitions_follow_the_breakers(daemon):
    daemon.call("breakers")  # every model's breaker exists from here on, whatever /metrics does on its own
    daemon.call("breaker.isolate", {"model": "gpt-4o"})
    fams = metric_families(daemon)
    states = check_breaker_state(fams, list(H.POOL))
    assert states["gpt-4o"] == "isolated"
    assert all(st == "closed" for m, st in states.items() if m != "gpt-4o"), states
    trans = series(fams, "fallbackd_breaker_transitions", "fallbackd_breaker_transitions_total")
    assert {tuple(sorted(dict(k).items())): v for k, v in trans.items()} == {
        (("model", "gpt-4o"), ("to", "isolated")): 1}, trans
    daemon.call("breaker.reset", {"model": "gpt-4o"})
    fams = metric_families(daemon)
    assert check_breaker_state(fams, list(H.POOL))["gpt-4o"] == "closed"
    assert value(fams, "fallbackd_breaker_transitions", "fallbackd_breaker_transitions_total",
                 model="gpt-4o", to="closed") == 1


def test_breaker_opening_on_failures_shows_open(daemon_factory, clients, fake):  # noqa: F811
    def mutate(cfg):
        H.set_resilience(cfg, breaker={"consecutive_failures": 2, "failure_rate": 0, "open_ms": 600_000,
                                       "auth_open_ms": 3_600_000}, health=NO_REORDER)
        cfg["recovery"] = {"enabled": False}
    d = daemon_factory(cfg_mutate=mutate)
    sdk = clients.sdk(d)
    fake.script(mid("gpt-4o"), [], then="server_error")
    for _ in range(2):
        assert create(sdk, model="default", messages=MSGS).model == "claude-3-5-sonnet"
    H.wait_breaker_state(d, "gpt-4o", "open")
    fams = metric_families(d)
    assert check_breaker_state(fams, DEFAULT)["gpt-4o"] == "open"
    assert value(fams, "fallbackd_breaker_transitions", "fallbackd_breaker_transitions_total",
                 model="gpt-4o", to="open") == 1
    assert value(fams, "fallbackd_fallbacks", "fallbackd_fallbacks_total", task="default") == 2


def test_retries_are_counted(daemon_factory, clients, fake):  # noqa: F811
    d = daemon_factory(cfg_mutate=H.resilience(retry={"max_retries": 1, "base_delay_ms": 10, "max_delay_ms": 50},
                                               health=NO_REORDER))
    sdk = clients.sdk(d)
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    r = create(sdk, model="default", messages=MSGS)
    fd = fallbackd_of(r)
    assert r.model == "gpt-4o" and fd["fallback_count"] == 0
    retried = [a["model"] for a in fd["attempts"]]
    assert retried == ["gpt-4o", "gpt-4o"], fd["attempts"]
    fams = metric_families(d)
    assert value(fams, "fallbackd_retries", "fallbackd_retries_total", task="default") == 1
    assert value(fams, "fallbackd_fallbacks", "fallbackd_fallbacks_total", task="default") == 0
    req = samples(fams, "fallbackd_requests", "fallbackd_requests_total")
    assert [(s.labels["task"], s.labels["outcome"], s.value) for s in req] == [("default", "served", 1)], req


def test_shadow_calls_are_counted(daemon_factory, clients, fake):  # noqa: F811
    d = daemon_factory(cfg_mutate=H.resilience(health=NO_REORDER))
    sdk = clients.sdk(d)
    r = create(sdk, model="default", messages=MSGS, extra_body={"shadow": True})
    assert r.model == "gpt-4o"

    def shadow_total():
        fams = metric_families(d)
        return sum(s.value for s in samples(fams, "fallbackd_shadow_calls", "fallbackd_shadow_calls_total"))
    assert H.wait_for(lambda: shadow_total() >= 1, timeout=20, interval=0.1), "the shadow call was never counted"
    H.stop_settled(d)  # barrier: every shadow call the daemon started has finished
    assert len(fake.requests(model=mid("claude-3-5-sonnet"))) == 1


def test_label_values_stay_bounded(daemon_factory, clients, fake):  # noqa: F811
    """Free-form values callers send (task names, metadata, request-id-like strings) never become labels."""
    d = daemon_factory()
    sdk = clients.sdk(d)
    tasks = [f"task-{uuid.uuid4().hex[:12]}" for _ in range(5)]
    apps = []
    for t in tasks:
        meta = {"request_id": f"r-{uuid.uuid4()}", "user": f"u-{uuid.uuid4().hex}"}
        apps.append(meta["user"])
        with d.conn() as c:
            res = c.call("complete", {"messages": MSGS, "task": t, "metadata": meta})
        assert res["model_used"] == "gpt-4o"
        r = create(sdk, model="gpt-4o", messages=MSGS, extra_body={"metadata": meta})
        assert r.model == "gpt-4o"
    fams = metric_families(d)
    check_label_hygiene(fams, forbidden=set(tasks) | set(apps))
    req = samples(fams, "fallbackd_requests", "fallbackd_requests_total")
    assert sum(s.value for s in req if s.labels["outcome"] == "served") == 10, req
    assert {s.labels["task"] for s in req} <= set(H.CHAINS) | {"explicit"}, req
    # the text itself, independently of the parser: no label value is a request id
    values = re.findall(r'="((?:[^"\\]|\\.)*)"', metrics_text(d))
    assert values, "no labels found in the exposition"
    assert not [v for v in values if v.startswith(("r-", "chatcmpl-"))], "a request id became a label value"
