"""Fallback order, provider error classification, and the all-models-failed error."""

import pytest

import fbd_harness as H
from fake_providers import expected_reply

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which model answers this one?"}]


def model_id(name):
    return H.POOL[name].model_id


def test_fallback_order(client, fake):
    # failures forever, so a same-model retry could not turn them into successes
    fake.script(model_id("gpt-4o"), [{"kind": "rate_limited", "retry_after": 1}], then="rate_limited")
    fake.script(model_id("claude-3-5-sonnet"), ["server_error"], then="server_error")
    fake.script(model_id("gemini-pro"), [], then="ok")
    res = H.bounded(lambda: client.complete(MSGS, timeout_ms=15000))
    d = H.result_dict(res)
    assert res.model_used == "gemini-pro"
    assert res.fallback_count == 2
    assert d["used_fallback"] is True
    assert d["chain"] == "default" and d["task"] == "default"
    assert d["provider"] == "gemini"
    assert d["content"] == expected_reply("gemini", "gemini-1.5-pro", MSGS)["content"]
    att = d["attempts"]
    assert [a["model"] for a in att] == ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"]
    assert [a["provider"] for a in att] == ["openai", "anthropic", "gemini"]
    assert [a["outcome"] for a in att] == ["error", "error", "success"]
    assert [a["error_type"] for a in att] == ["rate_limited", "server_error", None]
    assert [a["http_status"] for a in att] == [429, 500, 200]
    # the providers saw the chain in order
    seen = [r["model"] for r in sorted(fake.requests(), key=lambda r: r["seq"])]
    assert seen == ["gpt-4o", "claude-3-5-sonnet-20241022", "gemini-1.5-pro"]
    # usage and cost are the successful attempt's
    exp = expected_reply("gemini", "gemini-1.5-pro", MSGS)
    assert d["usage"] == H.usage(exp["input_tokens"], exp["output_tokens"])
    assert H.approx(d["cost_usd"], H.POOL["gemini-pro"].cost(exp["input_tokens"], exp["output_tokens"]))


@pytest.mark.parametrize(
    "primary,kind,error_type,status,secondary",
    [
        ("claude-3-5-sonnet", "overloaded", "overloaded", 529, "gemini-pro"),
        ("gemini-pro", "rate_limited", "rate_limited", 429, "gpt-4o"),
        ("gpt-4o", "auth", "auth", 401, "claude-3-haiku"),
        ("gpt-4o", "malformed", "bad_response", 200, "local-llama"),
        ("gemini-flash", "empty", "bad_response", 200, "gpt-4o-mini"),
        ("local-llama", "gateway", "server_error", 502, "claude-3-haiku"),
    ],
)
def test_falls_back_to_next_model(client, fake, primary, kind, error_type, status, secondary):
    fake.script(model_id(primary), [], then=kind)
    res = H.bounded(lambda: client.complete(MSGS, models=[primary, secondary], timeout_ms=15000))
    d = H.result_dict(res)
    assert res.model_used == secondary
    assert res.fallback_count == 1
    assert d["used_fallback"] is True
    att = d["attempts"]
    assert [a["model"] for a in att] == [primary, secondary]
    assert att[0]["outcome"] == "error"
    assert att[0]["error_type"] == error_type
    assert att[0]["http_status"] == status
    assert att[1]["outcome"] == "success" and att[1]["error_type"] is None


# (pool name, script kind, accepted error_type values, http status)
MAPPING = [
    ("gpt-4o", "rate_limited", {"rate_limited"}, 429),
    ("gpt-4o", "server_error", {"server_error"}, 500),
    ("gpt-4o", "unavailable", {"server_error", "overloaded"}, 503),
    ("gpt-4o", "auth", {"auth"}, 401),
    ("gpt-4o", "forbidden", {"auth"}, 403),
    ("gpt-4o", "bad_request", {"invalid_request"}, 400),
    ("gpt-4o", "context_length", {"context_length"}, 400),
    ("gpt-4o", "content_filter", {"content_filter"}, 400),
    ("gpt-4o", "malformed", {"bad_response"}, 200),
    ("gpt-4o", "empty", {"bad_response"}, 200),
    ("gpt-4o", "gateway", {"server_error"}, 502),
    ("claude-3-5-sonnet", "overloaded", {"overloaded"}, 529),
    ("claude-3-5-sonnet", "rate_limited", {"rate_limited"}, 429),
    ("claude-3-5-sonnet", "server_error", {"server_error"}, 500),
    ("claude-3-5-sonnet", "auth", {"auth"}, 401),
    ("claude-3-5-sonnet", "forbidden", {"auth"}, 403),
    ("claude-3-5-sonnet", "bad_request", {"invalid_request"}, 400),
    ("claude-3-5-sonnet", "context_length", {"context_length"}, 400),
    ("claude-3-5-sonnet", "malformed", {"bad_response"}, 200),
    ("claude-3-5-sonnet", "empty", {"bad_response"}, 200),
    ("gemini-pro", "rate_limited", {"rate_limited"}, 429),
    ("gemini-pro", "server_error", {"server_error"}, 500),
    ("gemini-pro", "unavailable", {"overloaded", "server_error"}, 503),
    ("gemini-pro", "auth", {"auth"}, 401),
    ("gemini-pro", "forbidden", {"auth"}, 403),
    ("gemini-pro", "bad_request", {"invalid_request"}, 400),
    ("gemini-pro", "content_filter", {"content_filter"}, 200),
    ("gemini-pro", "safety_stop", {"content_filter"}, 200),
    ("gemini-pro", "malformed", {"bad_response"}, 200),
    ("gemini-pro", "empty", {"bad_response"}, 200),
    ("local-llama", "server_error", {"server_error"}, 500),
    ("local-llama", "content_filter", {"content_filter"}, 400),
    ("local-llama", "error_in_200", {"bad_response"}, 200),
]


CONTENT_FILTERED = -32007


@pytest.mark.parametrize("pool_name,kind,error_types,status", MAPPING, ids=[f"{m[0]}-{m[1]}" for m in MAPPING])
def test_error_classification(daemon, conn, fake, pool_name, kind, error_types, status):
    """A one-model chain whose model always fails that way -> -32001 with the classified attempt(s); a content
    filter -> -32007 with the provider's reason (the default on_content_filter = "error")."""
    fake.script(model_id(pool_name), [], then=kind)
    reply = conn.request("complete", {"messages": MSGS, "models": [pool_name], "timeout_ms": 10000}, id=41,
                         timeout=15)
    assert "result" not in reply, reply
    err = reply["error"]
    filtered = error_types == {"content_filter"}
    assert err["code"] == (CONTENT_FILTERED if filtered else -32001), err
    if filtered:
        # the request ends at the model that filtered: data names it, the provider's reason and its status
        # (more in test_outage_content_filter.py)
        data = err["data"]
        assert data["model"] == pool_name and data["http_status"] == status, data
        assert data["reason"] and data["reason"] == data["attempts"][0]["message"], data
        assert len(data["attempts"]) == 1
    data = err["data"]
    assert data["chain"] == "explicit"
    assert data["task"] == "default"
    assert isinstance(data["request_id"], str) and data["request_id"]
    assert len(data["attempts"]) >= 1
    for a in data["attempts"]:
        assert a["model"] == pool_name
        assert a["provider"] == H.POOL[pool_name].provider
        assert a["outcome"] == "error"
        assert a["error_type"] in error_types, a
        assert a["http_status"] == status, a
    assert len(fake.requests(model=model_id(pool_name))) == len(data["attempts"])


def test_all_models_failed_raw(daemon, conn, fake):
    fake.script(model_id("gpt-4o"), [], then="server_error")
    fake.script(model_id("claude-3-5-sonnet"), [], then="overloaded")
    fake.script(model_id("gemini-pro"), [], then={"kind": "rate_limited", "retry_after": 1})
    reply = conn.request("complete", {"messages": MSGS, "timeout_ms": 15000}, id="all-fail", timeout=20)
    assert reply["jsonrpc"] == "2.0" and reply["id"] == "all-fail"
    assert "result" not in reply
    err = reply["error"]
    assert err["code"] == -32001
    assert isinstance(err["message"], str) and err["message"]
    data = err["data"]
    assert data["task"] == "default" and data["chain"] == "default"
    assert isinstance(data["request_id"], str) and data["request_id"]
    att = data["attempts"]
    assert [a["model"] for a in att] == ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"]
    assert [a["error_type"] for a in att] == ["server_error", "overloaded", "rate_limited"]
    assert [a["http_status"] for a in att] == [500, 529, 429]
    assert all(a["outcome"] == "error" for a in att)
    assert all(isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0 for a in att)
    # the connection is still usable
    assert conn.call("ping") == "pong"


def test_all_models_failed_client(client, client_errors, fake):
    AllModelsFailed, _, _ = client_errors
    for name in H.CHAINS["cheap"]:
        fake.script(model_id(name), [], then="server_error")
    with pytest.raises(AllModelsFailed) as ei:
        H.bounded(lambda: client.complete(MSGS, task="cheap", timeout_ms=15000))
    e = ei.value
    assert e.code == -32001
    data = H.to_plain(e.data)
    assert data["chain"] == "cheap" and data["task"] == "cheap"
    assert [a["model"] for a in data["attempts"]] == H.CHAINS["cheap"]
    assert all(a["error_type"] == "server_error" for a in data["attempts"])
