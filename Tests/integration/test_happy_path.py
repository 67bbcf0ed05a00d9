"""One model per provider kind answers; the result, usage and cost are exactly what the provider said."""

import subprocess

import pytest

import fbd_harness as H
from fake_providers import expected_reply


def convo(tag):
    return [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Say hello."},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": f"Now describe {tag} in three short sentences, please, and be accurate."},
    ]


PER_KIND = ["gpt-4o", "claude-3-5-sonnet", "gemini-pro", "local-llama"]


@pytest.mark.parametrize("pool_name", PER_KIND)
def test_happy_path_per_provider_kind(client, fake, pool_name):
    m = H.POOL[pool_name]
    msgs = convo(pool_name)
    res = H.bounded(lambda: client.complete(msgs, models=[pool_name], timeout_ms=10000))
    d = H.result_dict(res)
    exp = expected_reply(m.flavor, m.model_id, msgs)

    assert res.content == exp["content"]
    assert res.model_used == pool_name
    assert res.fallback_count == 0
    assert d["content"] == exp["content"]
    assert d["model_used"] == pool_name
    assert d["model_id"] == m.model_id
    assert d["provider"] == m.provider  # the [providers.NAME] name ("compat" for the openai-compatible one)
    assert d["chain"] == "explicit"
    assert d["task"] == "default"
    assert d["used_fallback"] is False
    assert d["usage"] == H.usage(exp["input_tokens"], exp["output_tokens"])
    want_cost = m.cost(exp["input_tokens"], exp["output_tokens"])
    assert H.approx(d["cost_usd"], want_cost), (d["cost_usd"], want_cost)
    assert isinstance(d["request_id"], str) and d["request_id"]
    assert isinstance(d["latency_ms"], int) and d["latency_ms"] >= 0
    assert len(d["attempts"]) == 1
    a = d["attempts"][0]
    assert a["model"] == pool_name
    assert a["provider"] == m.provider
    assert a["outcome"] == "success"
    assert a["error_type"] is None
    assert a["http_status"] == 200
    assert isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0

    reqs = fake.requests()
    assert len(reqs) == 1, reqs
    assert reqs[0]["model"] == m.model_id
    assert reqs[0]["flavor"] == m.flavor


def test_raw_reply_shape(daemon, conn, fake):
    msgs = [{"role": "user", "content": "ping the fake please"}]
    reply = conn.request("complete", {"messages": msgs, "models": ["claude-3-haiku"]}, id="req-abc")
    assert reply["jsonrpc"] == "2.0"
    assert reply["id"] == "req-abc"
    assert "error" not in reply
    r = reply["result"]
    for key in H.RESULT_FIELDS:
        assert key in r, f"result lacks {key}: {r}"
    m = H.POOL["claude-3-haiku"]
    exp = expected_reply("anthropic", m.model_id, msgs)
    assert r["content"] == exp["content"]
    assert r["usage"] == H.usage(exp["input_tokens"], exp["output_tokens"])
    assert H.approx(r["cost_usd"], m.cost(exp["input_tokens"], exp["output_tokens"]))
    # integer ids come back as integers
    assert conn.request("ping", id=17)["result"] == "pong"


def test_defaults_reach_the_provider(daemon_factory, fake):
    """Without a cap or temperature in the request, each model's own max_tokens is sent, and its
    default_temperature when the config has one (the seed's 0.3 lives there now), else none."""
    def with_default(cfg):
        cfg["models"]["gpt-4o"]["default_temperature"] = 0.3
        cfg["models"]["claude-3-5-sonnet"]["default_temperature"] = 0.3
    d = daemon_factory(cfg_mutate=with_default)
    msgs = [{"role": "user", "content": "defaults please"}]
    for name in ("gpt-4o", "claude-3-5-sonnet", "gemini-pro"):
        d.call("complete", {"messages": msgs, "models": [name]})
    oa = fake.requests(flavor="openai")[0]["body"]
    an = fake.requests(flavor="anthropic")[0]["body"]
    ge = fake.requests(flavor="gemini")[0]["body"]
    assert oa["max_completion_tokens"] == H.POOL["gpt-4o"].max_tokens and "max_tokens" not in oa
    assert oa["temperature"] == pytest.approx(0.3)
    assert an["max_tokens"] == H.POOL["claude-3-5-sonnet"].max_tokens
    assert an["temperature"] == pytest.approx(0.3)
    gc = ge["generationConfig"]
    assert gc["maxOutputTokens"] == H.POOL["gemini-pro"].max_tokens
    assert "temperature" not in gc, "no default_temperature configured: the provider's own default applies"


def test_max_tokens_clipped_and_temperature_passed(daemon, conn, fake):
    msgs = [{"role": "user", "content": "clip me"}]
    conn.call("complete", {"messages": msgs, "models": ["local-llama"], "max_tokens": 100000, "temperature": 1.5})
    conn.call("complete", {"messages": msgs, "models": ["claude-3-haiku"], "max_tokens": 100000, "temperature": 0})
    conn.call("complete", {"messages": msgs, "models": ["gemini-flash"], "max_tokens": 7})
    compat = fake.requests(flavor="compat")[0]["body"]
    an = fake.requests(flavor="anthropic")[0]["body"]
    ge = fake.requests(flavor="gemini")[0]["body"]
    assert compat.get("max_tokens", compat.get("max_completion_tokens")) == 2048
    assert compat["temperature"] == pytest.approx(1.5)
    assert an["max_tokens"] == 4096
    assert an["temperature"] == pytest.approx(0.0)
    gc = ge.get("generationConfig", ge.get("generation_config"))
    assert gc.get("maxOutputTokens", gc.get("max_output_tokens")) == 7


def test_ping_status_models_chains(daemon, conn):
    assert conn.call("ping") == "pong"
    st = conn.call("status")
    version = subprocess.run([daemon.binary, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    assert st["version"] == version and version.count(".") == 2, (st["version"], version)
    assert st["pid"] == daemon.proc.pid
    assert st["socket"] == daemon.socket
    assert st["database"] == daemon.db
    assert st["in_flight"] == 0
    assert isinstance(st["uptime_s"], (int, float)) and st["uptime_s"] >= 0
    assert isinstance(st["requests_total"], int)
    assert st["connections"] >= 1
    assert set(st["call_log"]) >= {"pending", "written", "failed_flushes"}
    assert sorted(st["models"]) == sorted(H.POOL)
    assert sorted(st["chains"]) == sorted(H.CHAINS)

    models = conn.call("models")["models"]
    want_order = [m.name for m in sorted(H.POOL.values(), key=lambda m: (m.priority, m.name))]
    assert [m["name"] for m in models] == want_order
    by_name = {m["name"]: m for m in models}
    for m in H.POOL.values():
        got = by_name[m.name]
        assert got["provider"] == m.provider
        assert got["provider_kind"] == m.kind
        assert got["model_id"] == m.model_id
        assert got["priority"] == m.priority
        assert got["max_tokens"] == m.max_tokens
        assert got["context_window"] == m.context_window
        assert H.approx(got["cost_per_1k_input"], m.cost_in)
        assert H.approx(got["cost_per_1k_output"], m.cost_out)
        assert got["notes"] == m.notes

    chains = conn.call("chains")
    assert chains["chains"] == H.CHAINS
    assert chains["default_chain"] == "default"


def test_status_counts_requests(daemon, conn):
    before = conn.call("status")["requests_total"]
    for _ in range(3):
        conn.call("complete", {"messages": [{"role": "user", "content": "count me"}], "models": ["gpt-4o-mini"]})
    after = conn.call("status")
    assert after["requests_total"] >= before + 3
    assert after["in_flight"] == 0
