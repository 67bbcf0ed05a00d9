"""Task -> chain resolution."""

import fbd_harness as H

MSGS = [{"role": "user", "content": "Route me somewhere sensible."}]


def test_unknown_task_runs_default_chain(client, fake):
    res = H.bounded(lambda: client.complete(MSGS, task="no-such-task", timeout_ms=10000))
    d = H.result_dict(res)
    assert d["chain"] == "default"
    assert d["task"] == "no-such-task"
    assert res.model_used == H.CHAINS["default"][0]
    assert [r["model"] for r in fake.requests()] == [H.POOL[H.CHAINS["default"][0]].model_id]


def test_unknown_task_falls_back_along_default_chain(client, fake):
    fake.script(H.POOL["gpt-4o"].model_id, [], then="server_error")
    res = H.bounded(lambda: client.complete(MSGS, task="translate-klingon", timeout_ms=10000))
    d = H.result_dict(res)
    assert d["chain"] == "default" and d["task"] == "translate-klingon"
    assert res.model_used == "claude-3-5-sonnet"
    assert res.fallback_count == 1


def test_known_task_runs_its_chain(client, fake):
    res = H.bounded(lambda: client.complete(MSGS, task="complex_reasoning", timeout_ms=10000))
    d = H.result_dict(res)
    assert d["chain"] == "complex_reasoning" and d["task"] == "complex_reasoning"
    assert res.model_used == "claude-3-5-sonnet"


def test_task_defaults_to_default(daemon, conn, fake):
    r = conn.call("complete", {"messages": MSGS})
    assert r["task"] == "default" and r["chain"] == "default"
    assert r["model_used"] == "gpt-4o"


def test_explicit_models_override_task(daemon, conn, fake):
    r = conn.call("complete", {"messages": MSGS, "task": "complex_reasoning", "models": ["gemini-flash", "gpt-4o"]})
    assert r["chain"] == "explicit"
    assert r["task"] == "complex_reasoning"
    assert r["model_used"] == "gemini-flash"
    assert [x["model"] for x in fake.requests()] == ["gemini-1.5-flash"]


def test_unknown_model_in_models_is_invalid_params(daemon, conn, fake):
    reply = conn.request("complete", {"messages": MSGS, "models": ["gpt-4o", "gpt-5-ultra"]}, id=5)
    err = reply["error"]
    assert err["code"] == -32602
    assert err["data"]["field"] == "models[1]"
    assert fake.requests() == [], "nothing may be sent before params are valid"


def test_invalid_params_client(client, client_errors, fake):
    _, _, InvalidParams = client_errors
    try:
        H.bounded(lambda: client.complete(MSGS, models=["nope-model"], timeout_ms=5000))
    except InvalidParams as e:
        assert e.code == -32602
        assert H.to_plain(e.data)["field"] == "models[0]"
    else:
        raise AssertionError("InvalidParams not raised")
