"""Full-fidelity chat, part 2 (docs/protocol.md, `complete`): reasoning models, the quota / misconfigured /
truncated error types and what they do to the breaker, finish_reason length, pass-through of unknown fields,
usage details and their prices, default_temperature."""

import json

import pytest

import fbd_harness as H
from chat_lib import OWN_FIELDS, add_model, mid, only_req, reqs, set_model

MSGS = [{"role": "user", "content": "Explain the fidelity of this request"}]
RETRY_ON = {"max_retries": 1, "base_delay_ms": 10, "max_delay_ms": 50}
O3 = add_model("o3-mini", "openai", "o3-mini", max_tokens=2000)


def test_reasoning_model_gets_max_completion_tokens_and_no_sampling(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=O3)
    models = {m["name"]: m for m in d.call("models")["models"]}
    assert models["o3-mini"]["reasoning"] is True, "reasoning defaults from the model id (o3 family)"
    fake.script("o3-mini", [], then="reasoning_model")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["o3-mini"], temperature=0.7, top_p=0.9,
                                          max_tokens=500, reasoning_effort="low"))
    assert res["model_used"] == "o3-mini"
    assert res["attempts"][0]["outcome"] == "success"
    assert {"temperature", "top_p"} <= set(res["ignored_fields"]), res["ignored_fields"]
    assert res["usage"]["reasoning_tokens"] == 64
    body = only_req(fake, "o3-mini")["body"]
    assert body["max_completion_tokens"] == 500
    for k in ("max_tokens", "temperature", "top_p"):
        assert k not in body, f"a reasoning model must not get {k}: {body}"
    assert body["reasoning_effort"] == "low"


def test_reasoning_false_rejection_is_misconfigured_and_counts(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.compose(
        O3, set_model("o3-mini", reasoning=False),
        H.resilience(retry=RETRY_ON, breaker={"consecutive_failures": 5, "failure_rate": 0, "open_ms": 600000})))
    fake.script("o3-mini", [], then="reasoning_model")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["o3-mini", "gpt-4o"], temperature=0.7))
    assert res["model_used"] == "gpt-4o"
    att = res["attempts"]
    assert [(a["model"], a["error_type"]) for a in att] == [("o3-mini", "misconfigured"), ("gpt-4o", None)], \
        "misconfigured is not retried on the same model"
    assert att[0]["http_status"] == 400
    assert only_req(fake, "o3-mini")["body"]["temperature"] == 0.7
    b = H.breaker_of(d, "o3-mini")
    assert b["consecutive_failures"] == 1, f"misconfigured counts against the breaker: {b}"
    assert b["state"] == "closed"


QUOTA = [
    ("gpt-4o", "claude-3-haiku", 429),
    ("claude-3-5-sonnet", "gpt-4o-mini", 400),
    ("gemini-pro", "gpt-4o-mini", 400),
]


@pytest.mark.parametrize("primary,backup,status", QUOTA)
def test_insufficient_quota_opens_the_breaker_at_once(daemon_factory, fake, primary, backup, status):
    d = daemon_factory(cfg_mutate=H.resilience(
        retry=RETRY_ON, breaker={"consecutive_failures": 3, "failure_rate": 0, "open_ms": 600000,
                                 "auth_open_ms": 3600000}))
    fake.script(mid(primary), [], then="insufficient_quota")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[primary, backup]))
    assert res["model_used"] == backup
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [(primary, "quota"), (backup, None)], \
        "quota is not retried"
    assert res["attempts"][0]["http_status"] == status
    b = H.breaker_of(d, primary)
    assert b["state"] == "open" and b["misconfigured"] is True, b
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[primary, backup]))
    assert res["model_used"] == backup
    e = H.route_entry(res["route"], primary)
    assert e["reason"] == "open" and "until_ms" in e, e
    assert e["until_ms"] > H.now_ms() + 3000 * 1000, "opened for auth_open_ms (1 h)"
    assert [a["model"] for a in res["attempts"]] == [backup]
    assert len(reqs(fake, primary)) == 1


FLAVOR_FINISH = {"gpt-4o": "length", "claude-3-5-sonnet": "max_tokens", "gemini-pro": "MAX_TOKENS"}


@pytest.mark.parametrize("primary", list(FLAVOR_FINISH))
def test_empty_length_answer_is_truncated_and_falls_back(daemon, fake, primary):
    backup = "gpt-4o-mini"
    fake.script(mid(primary), [], then={"kind": "length"})
    res = H.bounded(lambda: H.complete_ok(daemon, MSGS, models=[primary, backup], max_tokens=64))
    assert res["model_used"] == backup
    assert [(a["model"], a["outcome"], a["error_type"]) for a in res["attempts"]] == [
        (primary, "error", "truncated"), (backup, "success", None)]
    assert res["attempts"][0]["http_status"] == 200


@pytest.mark.parametrize("primary", list(FLAVOR_FINISH))
def test_non_empty_length_answer_is_a_success(daemon, fake, primary):
    fake.script(mid(primary), [], then={"kind": "length", "content": "The answer begins and then it is cu"})
    res = H.bounded(lambda: H.complete_ok(daemon, MSGS, models=[primary, "gpt-4o-mini"], max_tokens=12))
    assert res["model_used"] == primary
    assert res["content"] == "The answer begins and then it is cu"
    assert res["finish_reason"] == "length"
    assert res["provider_finish_reason"] == FLAVOR_FINISH[primary]
    assert [a["model"] for a in res["attempts"]] == [primary]


def test_unknown_fields_pass_through_to_openai_only(daemon, fake):
    extra = {"logprobs": True, "top_logprobs": 2, "service_tier": "default", "prediction": {"type": "content",
                                                                                           "content": "x"}}
    own = {"task": "cheap", "timeout_ms": 20000, "metadata": {"ticket": "own-field-canary"}, "shadow": False}
    for name in ("gpt-4o", "local-llama", "claude-3-5-sonnet", "gemini-pro"):
        res = H.bounded(lambda: H.complete_ok(daemon, MSGS, models=[name], **extra, **own))
        assert res["model_used"] == name
        if name in ("gpt-4o", "local-llama"):
            assert not set(extra) & set(res["ignored_fields"]), res["ignored_fields"]
        else:
            assert set(extra) <= set(res["ignored_fields"]), f"{name}: {res['ignored_fields']}"
    for name in ("gpt-4o", "local-llama"):
        body = only_req(fake, name)["body"]
        for k, v in extra.items():
            assert body.get(k) == v, f"{name}: {k} not passed through untouched: {body}"
    # the output cap: max_completion_tokens for openai, the older max_tokens for openai-compatible servers
    assert only_req(fake, "gpt-4o")["body"].get("max_completion_tokens") == H.POOL["gpt-4o"].max_tokens
    compat = only_req(fake, "local-llama")["body"]
    assert compat.get("max_tokens") == H.POOL["local-llama"].max_tokens and "max_completion_tokens" not in compat
    for name in ("claude-3-5-sonnet", "gemini-pro"):
        body = only_req(fake, name)["body"]
        assert not set(extra) & set(body), f"{name} got OpenAI-only fields: {body}"
    for r in fake.requests():
        assert not set(OWN_FIELDS) & set(r["body"]), f"fallbackd's own fields reached {r['path']}: {r['body']}"
        assert "own-field-canary" not in json.dumps(r["body"]), r["body"]


def priced(name, inp, out, cached, write=None):
    def mutate(cfg):
        m = cfg["models"][name]
        for k in ("cost_per_1k_input", "cost_per_1k_output"):
            m.pop(k, None)
        m.update(input_per_mtok=inp, output_per_mtok=out, cached_input_per_mtok=cached)
        if write is not None:
            m["cache_write_per_mtok"] = write
        return cfg
    return mutate


def test_usage_details_and_cached_prices(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.compose(priced("gpt-4o", 2.5, 10.0, 1.25),
                                            priced("claude-3-5-sonnet", 3.0, 15.0, 0.3, 3.75),
                                            priced("gemini-pro", 1.25, 5.0, 0.3125)))
    fake.script(mid("gpt-4o"), [], then={"kind": "ok", "input_tokens": 1000, "output_tokens": 200,
                                         "cached_tokens": 600, "reasoning_tokens": 50})
    fake.script(mid("claude-3-5-sonnet"), [], then={"kind": "ok", "input_tokens": 100, "output_tokens": 50,
                                                    "cached_tokens": 800, "cache_write_tokens": 300})
    fake.script(mid("gemini-pro"), [], then={"kind": "ok", "input_tokens": 500, "output_tokens": 40,
                                             "cached_tokens": 200, "reasoning_tokens": 30})
    cases = [
        ("gpt-4o", H.usage(1000, 200, cached=600, reasoning=50), (400 * 2.5 + 600 * 1.25 + 200 * 10.0) / 1e6),
        ("claude-3-5-sonnet", H.usage(1200, 50, cached=800, cache_write=300),
         (100 * 3.0 + 800 * 0.3 + 300 * 3.75 + 50 * 15.0) / 1e6),
        ("gemini-pro", H.usage(500, 70, cached=200, reasoning=30), (300 * 1.25 + 200 * 0.3125 + 70 * 5.0) / 1e6),
    ]
    for name, usage, cost in cases:
        res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[name]))
        assert res["usage"] == usage, f"{name}: {res['usage']} != {usage}"
        assert H.approx(res["cost_usd"], cost), f"{name}: cost {res['cost_usd']} != {cost}"
        assert H.approx(res["attempts"][0]["cost_usd"], cost)


def test_default_temperature(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.compose(
        O3, set_model("gpt-4o", default_temperature=0.3), set_model("claude-3-5-sonnet", default_temperature=0.3),
        set_model("gemini-pro", default_temperature=0.3), set_model("o3-mini", default_temperature=0.3)))
    fake.script("o3-mini", [], then="reasoning_model")
    for name in ("gpt-4o", "claude-3-5-sonnet", "gemini-pro", "o3-mini"):
        H.bounded(lambda: H.complete_ok(d, MSGS, models=[name]))
    assert only_req(fake, "gpt-4o")["body"]["temperature"] == 0.3
    assert only_req(fake, "claude-3-5-sonnet")["body"]["temperature"] == 0.3
    assert only_req(fake, "gemini-pro")["body"]["generationConfig"]["temperature"] == 0.3
    assert "temperature" not in only_req(fake, "o3-mini")["body"], "never sent to a reasoning model"
    # the caller's temperature wins
    fake.reset()
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["gpt-4o"], temperature=1.1))
    assert "temperature" not in res["ignored_fields"]
    assert only_req(fake, "gpt-4o")["body"]["temperature"] == 1.1
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=["claude-3-5-sonnet"], temperature=1.5))
    assert only_req(fake, "claude-3-5-sonnet")["body"]["temperature"] == 1.0, "clipped to 0..1 for Anthropic"
