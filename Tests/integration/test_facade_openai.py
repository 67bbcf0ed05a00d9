"""The OpenAI-compatible HTTP facade driven by the OFFICIAL `openai` Python package, unchanged.

The SDK talks to the daemon's HTTP Unix socket (``status.http_socket``) through an httpx transport with
``uds=``, and to the TCP address of ``[facade] listen = "127.0.0.1:0"`` (``status.http_listen``). Every client
uses ``max_retries=0`` so the SDK's own retries never hide a status. Behaviour comes from the fake providers
(Tests/fakes): ok answers are deterministic, faults are scripted per model id.

The default chain is gpt-4o -> claude-3-5-sonnet -> gemini-pro (fbd_config.CHAINS). Raw HTTP details (probes,
/v1/models, framing, 413, the call log, disconnects) are in test_facade_http.py; /metrics in test_metrics.py.
"""

import json
import os
import time

import pytest

import fbd_harness as H
from chat_lib import mid, only_req, reqs
from facade_lib import (MSGS, TCP, TOKEN, TOKEN_ENV, TOKEN_ENV_EXTRA, clients, facade, fallbackd_of,  # noqa: F401
                        httpx_module, openai_module)
from fake_providers import expected_reply

openai = openai_module()
hx = httpx_module()

DEFAULT = H.CHAINS["default"]  # gpt-4o, claude-3-5-sonnet, gemini-pro
# pool model -> fake flavor, one per provider format the facade translates from
FLAVORS = {"gpt-4o": "openai", "claude-3-5-sonnet": "anthropic", "gemini-pro": "gemini"}
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                       "required": ["city"]},
    },
}]
ARGS = {"city": "Paris", "days": 3}
PERSON = {"name": "Ada Lovelace", "born": 1815, "languages": ["English", "French"]}
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "born": {"type": "integer"},
                           "languages": {"type": "array", "items": {"type": "string"}}},
            "required": ["name", "born", "languages"],
            "additionalProperties": False,
        },
    },
}
LONG_TEXT = ("Evaporation lifts water from the oceans, condensation builds clouds, precipitation brings it back "
             "down, and collection gathers it in rivers, lakes and seas before the cycle starts all over again.")
NO_REORDER = {"degraded_below": 0.0}  # a failing primary keeps its place: fallbacks stay countable
CALL_BOUND = 90.0  # an SDK call or a whole stream must end within this (generous; never a measurement)


def exp_of(name, msgs=MSGS):
    m = H.POOL[name]
    return expected_reply(m.flavor, m.model_id, msgs)


def drain(stream) -> list:
    """Every chunk of an SDK stream, bounded."""
    return H.bounded(lambda: list(stream), timeout=CALL_BOUND)


def create(sdk, **kw):
    return H.bounded(lambda: sdk.chat.completions.create(**kw), timeout=CALL_BOUND)


def raises(exc, fn):
    """Run fn (bounded) and return the exception of class `exc` it raised; fail when it returned."""
    with pytest.raises(exc) as ei:
        H.bounded(fn, timeout=CALL_BOUND)
    return ei.value


def content_of(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def tool_calls_of(chunks) -> list[dict]:
    calls: dict[int, dict] = {}
    for c in chunks:
        if not c.choices:
            continue
        for frag in c.choices[0].delta.tool_calls or []:
            slot = calls.setdefault(frag.index, {"id": None, "type": None, "name": None, "arguments": ""})
            if frag.id:
                assert slot["id"] is None, f"a second id for tool call {frag.index}: {frag}"
                slot["id"] = frag.id
            if frag.type:
                slot["type"] = frag.type
            if frag.function is not None:
                if frag.function.name:
                    slot["name"] = frag.function.name
                slot["arguments"] += frag.function.arguments or ""
    return [calls[i] for i in sorted(calls)]


def wait_idle(d, timeout=20.0):
    assert H.wait_for(lambda: d.call("status")["in_flight"] == 0, timeout=timeout), \
        f"in-flight requests did not return to 0: {d.call('status')}"


@pytest.fixture(params=["unix", "tcp"])
def via(request, daemon_factory, clients):  # noqa: F811
    """(daemon, SDK client) over the HTTP Unix socket or the TCP listener of the same kind of daemon."""
    d = daemon_factory(cfg_mutate=H.compose(TCP, H.resilience(health=NO_REORDER)))
    return d, clients.sdk(d, tcp=request.param == "tcp")


@pytest.fixture
def sdk_daemon(daemon_factory, clients):  # noqa: F811
    d = daemon_factory()
    return d, clients.sdk(d)


# --------------------------------------------------------------------------- plain chat


def test_non_streaming_completion(via, fake):
    d, sdk = via
    exp = exp_of("gpt-4o")
    t0 = time.time()
    r = create(sdk, model="default", messages=MSGS)
    assert isinstance(r, openai.types.chat.ChatCompletion)
    assert r.id.startswith("chatcmpl-") and r.object == "chat.completion"
    assert isinstance(r.created, int) and t0 - 300 <= r.created <= time.time() + 300, r.created
    assert r.model == "gpt-4o", "model is the pool model that served"
    assert len(r.choices) == 1
    ch = r.choices[0]
    assert ch.index == 0 and ch.finish_reason == "stop"
    assert ch.message.role == "assistant" and ch.message.content == exp["content"]
    assert not ch.message.tool_calls and ch.message.refusal is None
    u = r.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (
        exp["input_tokens"], exp["output_tokens"], exp["input_tokens"] + exp["output_tokens"])
    fd = fallbackd_of(r)
    assert isinstance(fd["request_id"], str) and fd["request_id"]
    assert (fd["task"], fd["chain"], fd["model"], fd["provider"], fd["fallback_count"]) == (
        "default", "default", "gpt-4o", "openai", 0)
    assert H.approx(fd["cost_usd"], H.POOL["gpt-4o"].cost(exp["input_tokens"], exp["output_tokens"]))
    assert isinstance(fd["latency_ms"], int) and fd["latency_ms"] >= 0
    assert [(a["model"], a["outcome"]) for a in fd["attempts"]] == [("gpt-4o", "success")]
    assert fd["ignored_fields"] == []
    up = only_req(fake, "gpt-4o")
    assert up["body"]["messages"] == MSGS and up["stream_requested"] is False
    assert reqs(fake, "claude-3-5-sonnet") == []


def test_streaming_completion_with_usage(via, fake):
    d, sdk = via
    exp = exp_of("gpt-4o")
    chunks = drain(create(sdk, model="default", messages=MSGS, stream=True, stream_options={"include_usage": True}))
    assert len(chunks) >= 3, chunks
    for c in chunks:
        assert isinstance(c, openai.types.chat.ChatCompletionChunk)
        assert c.object == "chat.completion.chunk" and c.model == "gpt-4o", c
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    *with_choices, last = chunks
    assert all(c.choices for c in with_choices), "only the usage chunk has no choices"
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert content_of(chunks) == exp["content"]
    assert sum(1 for c in with_choices if c.choices[0].delta.content) >= 2, "the answer must arrive in pieces"
    reasons = [c.choices[0].finish_reason for c in with_choices]
    assert reasons == [None] * (len(reasons) - 1) + ["stop"], reasons
    assert all(c.usage is None for c in with_choices), "usage only on the usage chunk"
    # the usage chunk: choices [] and usage (+ fallbackd's account)
    assert last.choices == [] and last.usage is not None, last
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (
        exp["input_tokens"], exp["output_tokens"], exp["input_tokens"] + exp["output_tokens"])
    fd = fallbackd_of(last)
    assert (fd["model"], fd["task"], fd["fallback_count"]) == ("gpt-4o", "default", 0)
    assert only_req(fake, "gpt-4o")["stream_requested"] is True
    wait_idle(d)


def test_streaming_without_include_usage_has_no_usage_chunk(sdk_daemon, fake):
    d, sdk = sdk_daemon
    chunks = drain(create(sdk, model="default", messages=MSGS, stream=True))
    assert chunks and all(c.choices for c in chunks), "no usage chunk unless stream_options.include_usage"
    assert all(c.usage is None for c in chunks)
    assert content_of(chunks) == exp_of("gpt-4o")["content"]
    assert chunks[-1].choices[0].finish_reason == "stop"


# --------------------------------------------------------------------------- tools and JSON schema


@pytest.mark.parametrize("name", list(FLAVORS))
def test_tool_call_non_streaming(daemon_factory, clients, fake, name):  # noqa: F811
    d = daemon_factory()
    sdk = clients.sdk(d)
    fake.script(mid(name), [{"kind": "tool_call", "arguments": ARGS}], then="ok")
    r = create(sdk, model=name, messages=MSGS, tools=TOOLS, tool_choice="auto")
    assert r.model == name
    ch = r.choices[0]
    assert ch.finish_reason == "tool_calls"
    assert not ch.message.content
    assert ch.message.tool_calls and len(ch.message.tool_calls) == 1, ch.message
    tc = ch.message.tool_calls[0]
    assert tc.type == "function" and isinstance(tc.id, str) and tc.id
    assert tc.function.name == "get_weather"
    assert json.loads(tc.function.arguments) == ARGS
    # the SDK's own message goes back with the tool's result; the next turn is answered
    follow = MSGS + [ch.message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": tc.id, "content": json.dumps({"temp_c": 18})}]
    r2 = create(sdk, model=name, messages=follow, tools=TOOLS)
    assert r2.model == name and r2.choices[0].finish_reason == "stop"
    assert isinstance(r2.choices[0].message.content, str) and r2.choices[0].message.content
    if FLAVORS[name] == "openai":
        last = reqs(fake, name)[-1]["body"]["messages"][-1]
        assert last["role"] == "tool" and last["tool_call_id"] == tc.id, last


@pytest.mark.parametrize("name", list(FLAVORS))
def test_tool_call_streaming(daemon_factory, clients, fake, name):  # noqa: F811
    d = daemon_factory()
    sdk = clients.sdk(d)
    fake.script(mid(name), [], then={"kind": "tool_call", "arguments": ARGS})
    chunks = drain(create(sdk, model=name, messages=MSGS, tools=TOOLS, stream=True,
                          stream_options={"include_usage": True}))
    calls = tool_calls_of(chunks)
    assert len(calls) == 1, calls
    call = calls[0]
    assert isinstance(call["id"], str) and call["id"] and call["type"] == "function", call
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == ARGS, call["arguments"]
    assert content_of(chunks) == ""
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert reasons[-1] == "tool_calls" and all(x is None for x in reasons[:-1]), reasons
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    wait_idle(d)


@pytest.mark.parametrize("name", list(FLAVORS))
def test_json_schema_response_format(daemon_factory, clients, fake, name):  # noqa: F811
    d = daemon_factory()
    sdk = clients.sdk(d)
    fake.script(mid(name), [], then={"kind": "json", "value": PERSON})
    r = create(sdk, model=name, messages=[{"role": "user", "content": "Who wrote the first program?"}],
               response_format=SCHEMA_FORMAT)
    assert r.model == name
    assert r.choices[0].finish_reason == "stop"
    assert json.loads(r.choices[0].message.content) == PERSON
    assert not r.choices[0].message.tool_calls, "a schema answer is content, not a tool call"
    if FLAVORS[name] == "openai":
        assert only_req(fake, name)["body"]["response_format"] == SCHEMA_FORMAT


# --------------------------------------------------------------------------- routing and fallback


def test_outage_mid_test_falls_back(via, fake):
    d, sdk = via
    before = H.bounded(lambda: sdk.chat.completions.with_raw_response.create(model="default", messages=MSGS))
    assert before.parse().model == "gpt-4o"
    assert before.headers["x-fallbackd-fallbacks"] == "0" and before.headers["x-fallbackd-model"] == "gpt-4o"

    fake.script(mid("gpt-4o"), [], then="server_error")  # the primary goes down
    raw = H.bounded(lambda: sdk.chat.completions.with_raw_response.create(model="default", messages=MSGS))
    assert raw.status_code == 200
    comp = raw.parse()
    assert comp.model == "claude-3-5-sonnet"
    assert comp.choices[0].message.content == exp_of("claude-3-5-sonnet")["content"]
    assert int(raw.headers["x-fallbackd-fallbacks"]) >= 1
    assert raw.headers["x-fallbackd-model"] == "claude-3-5-sonnet"
    fd = fallbackd_of(comp)
    assert raw.headers["x-fallbackd-request-id"] == fd["request_id"]
    assert fd["fallback_count"] == int(raw.headers["x-fallbackd-fallbacks"]) == 1
    assert [(a["model"], a["error_type"]) for a in fd["attempts"]] == [
        ("gpt-4o", "server_error"), ("claude-3-5-sonnet", None)]

    # a stream during the same outage: the failure came before any content, so the fallback is invisible
    sraw = H.bounded(lambda: sdk.chat.completions.with_raw_response.create(
        model="default", messages=MSGS, stream=True, stream_options={"include_usage": True}))
    assert sraw.status_code == 200
    assert sraw.headers["x-fallbackd-model"] == "claude-3-5-sonnet"
    assert int(sraw.headers["x-fallbackd-fallbacks"]) >= 1
    chunks = drain(sraw.parse())
    assert content_of(chunks) == exp_of("claude-3-5-sonnet")["content"]
    assert {c.model for c in chunks} == {"claude-3-5-sonnet"}
    assert fallbackd_of(chunks[-1])["fallback_count"] == 1
    assert len(reqs(fake, "gpt-4o")) == 3


def test_task_and_pool_model_names(daemon_factory, clients, fake):  # noqa: F811
    d = daemon_factory()
    sdk = clients.sdk(d)
    for model in ("fallbackd/complex_reasoning", "complex_reasoning"):
        r = create(sdk, model=model, messages=MSGS)
        fd = fallbackd_of(r)
        assert (r.model, fd["task"], fd["chain"]) == ("claude-3-5-sonnet", "complex_reasoning", "complex_reasoning")
    r = create(sdk, model="fallbackd/default", messages=MSGS)
    assert r.model == "gpt-4o" and fallbackd_of(r)["task"] == "default"
    # a pool model runs first, then the rest of the default chain
    r = create(sdk, model="gemini-pro", messages=MSGS)
    assert r.model == "gemini-pro" and fallbackd_of(r)["fallback_count"] == 0
    fake.script(mid("gemini-pro"), [], then="server_error")
    r = create(sdk, model="gemini-pro", messages=MSGS)
    fd = fallbackd_of(r)
    assert r.model == "gpt-4o" and fd["fallback_count"] == 1
    assert [a["model"] for a in fd["attempts"]] == ["gemini-pro", "gpt-4o"]
    ids = [m.id for m in H.bounded(lambda: list(sdk.models.list()))]
    assert {f"fallbackd/{t}" for t in H.CHAINS} | set(H.POOL) == set(ids), ids


def test_pool_model_without_fallbacks(daemon_factory, clients, fake):  # noqa: F811
    d = daemon_factory(cfg_mutate=facade(pool_model_fallbacks=False))
    sdk = clients.sdk(d)
    fake.script(mid("gemini-pro"), [], then="server_error")
    e = raises(openai.APIStatusError, lambda: sdk.chat.completions.create(model="gemini-pro", messages=MSGS))
    assert e.status_code == 502
    assert [a["model"] for a in e.body["fallbackd"]["attempts"]] == ["gemini-pro"]
    assert reqs(fake, "gpt-4o") == []


def test_extra_body_carries_fallbackd_params(sdk_daemon, fake):
    d, sdk = sdk_daemon
    r = create(sdk, model="default", messages=MSGS, extra_body={"metadata": {"tenant": "acme"}, "timeout_ms": 20000})
    assert r.model == "gpt-4o"
    fd = fallbackd_of(r)
    rows = H.wait_count(lambda: H.flushed_rows(d, "WHERE request_id = ?", (fd["request_id"],)), 1, what="rows")
    assert [json.loads(x["metadata"]) for x in rows] == [{"tenant": "acme"}]
    up = only_req(fake, "gpt-4o")["body"]
    assert "metadata" not in up and "timeout_ms" not in up, f"fallbackd's own params leaked upstream: {up}"


# --------------------------------------------------------------------------- errors as SDK exceptions


def test_unknown_model_raises_not_found(sdk_daemon, fake):
    d, sdk = sdk_daemon
    for model in ("no-such-model", "fallbackd/no-such-task"):
        e = raises(openai.NotFoundError, lambda: sdk.chat.completions.create(model=model, messages=MSGS))
        assert e.status_code == 404
        assert (e.code, e.param, e.type) == ("model_not_found", "model", "invalid_request_error"), e.body
    assert fake.requests() == []


@pytest.mark.parametrize("kwargs,param", [
    ({"temperature": 5}, "temperature"),
    ({"messages": []}, "messages"),
    ({"extra_body": {"timeout_ms": 0}}, "timeout_ms"),
])
def test_invalid_params_raise_bad_request(sdk_daemon, fake, kwargs, param):
    d, sdk = sdk_daemon
    args = {"model": "default", "messages": MSGS, **kwargs}
    e = raises(openai.BadRequestError, lambda: sdk.chat.completions.create(**args))
    assert e.status_code == 400
    assert (e.type, e.param) == ("invalid_request_error", param), e.body
    assert fake.requests() == []


@pytest.mark.parametrize("stream", [False, True])
def test_every_model_failing_is_502(sdk_daemon, fake, stream):
    d, sdk = sdk_daemon
    for name in DEFAULT:
        fake.script(mid(name), [], then="server_error")
    e = raises(openai.APIStatusError, lambda: sdk.chat.completions.create(model="default", messages=MSGS,
                                                                          stream=stream))
    assert e.status_code == 502 and e.code == "all_models_failed", e.body
    assert [(a["model"], a["error_type"]) for a in e.body["fallbackd"]["attempts"]] == [
        (n, "server_error") for n in DEFAULT]
    assert e.response.headers["x-fallbackd-request-id"] == e.body["fallbackd"]["request_id"]
    wait_idle(d)


@pytest.mark.parametrize("stream", [False, True])
def test_spent_budget_raises_rate_limit(daemon_factory, clients, fake, stream):  # noqa: F811
    d = daemon_factory(cfg_mutate=lambda cfg: H.set_cost(cfg, budgets={"cheap": 0.0}))
    sdk = clients.sdk(d)
    e = raises(openai.RateLimitError, lambda: sdk.chat.completions.create(model="cheap", messages=MSGS,
                                                                          stream=stream))
    assert e.status_code == 429
    retry_after = e.response.headers.get("retry-after")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, e.response.headers
    assert fake.requests() == [], "a spent budget sends nothing"
    # other tasks still run
    assert create(sdk, model="default", messages=MSGS).model == "gpt-4o"


def test_content_filter_raises_bad_request(sdk_daemon, fake):
    d, sdk = sdk_daemon
    fake.script(mid("gpt-4o"), [], then="content_filter")
    e = raises(openai.BadRequestError, lambda: sdk.chat.completions.create(model="default", messages=MSGS))
    assert e.status_code == 400 and e.code == "content_filter", e.body


def test_deadline_raises_504(sdk_daemon, fake):
    d, sdk = sdk_daemon
    for name in DEFAULT:
        fake.script(mid(name), [], then="hang")
    e = raises(openai.APIStatusError, lambda: sdk.chat.completions.create(
        model="default", messages=MSGS, extra_body={"timeout_ms": 1000}))
    assert e.status_code == 504 and e.type == "timeout", e.body
    wait_idle(d)


def test_all_breakers_open_is_503(sdk_daemon, fake):
    d, sdk = sdk_daemon
    for name in DEFAULT:
        d.call("breaker.isolate", {"model": name})
    e = raises(openai.APIStatusError, lambda: sdk.chat.completions.create(model="default", messages=MSGS))
    assert e.status_code == 503 and e.code == "all_breakers_open", e.body
    ra = e.response.headers.get("retry-after")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, e.response.headers
    assert fake.requests() == []


def test_restart_on_interrupt_cannot_stream(sdk_daemon, fake):
    d, sdk = sdk_daemon
    e = raises(openai.BadRequestError, lambda: sdk.chat.completions.create(
        model="default", messages=MSGS, stream=True, extra_body={"on_interrupt": "restart"}))
    assert e.status_code == 400 and e.param == "on_interrupt", e.body
    assert fake.requests() == []


# --------------------------------------------------------------------------- a stream cut after content started


def test_mid_stream_cut_raises_in_the_sdk(via, fake):
    d, sdk = via
    fake.script(mid("gpt-4o"), [], then={"kind": "stream_cut", "after_chunks": 2, "content": LONG_TEXT, "chunks": 6})
    stream = create(sdk, model="default", messages=MSGS, stream=True, stream_options={"include_usage": True})
    got = []

    def consume():
        for c in stream:
            got.append(c)

    e = raises((openai.APIError, hx.HTTPError), consume)
    text = content_of(got)
    assert text and LONG_TEXT.startswith(text) and len(text) < len(LONG_TEXT), \
        f"expected a strict prefix of the answer before the error, got {text!r} ({e!r})"
    assert all(c.choices and c.choices[0].finish_reason is None for c in got), "no finish after a cut"
    assert all(c.usage is None for c in got), "no usage chunk after a cut"
    assert only_req(fake, "gpt-4o").get("ended") == "cut"
    assert reqs(fake, "claude-3-5-sonnet") == [], "content was delivered: no silent fallback"
    wait_idle(d)


# --------------------------------------------------------------------------- bearer token on TCP


@pytest.mark.parametrize("source", ["env", "file"])
def test_bearer_token_on_tcp(daemon_factory, clients, fake, tmp_path, source):  # noqa: F811
    if source == "env":
        d = daemon_factory(cfg_mutate=facade(listen="127.0.0.1:0", token_env=TOKEN_ENV), env_extra=TOKEN_ENV_EXTRA)
    else:
        path = tmp_path / "facade.token"
        path.write_text(TOKEN + "\n")
        os.chmod(path, 0o600)
        d = daemon_factory(cfg_mutate=facade(listen="127.0.0.1:0", token_file=str(path)))
    for key in ("wrong-token", TOKEN + "x"):
        bad = clients.sdk(d, tcp=True, api_key=key)
        e = raises(openai.AuthenticationError, lambda: bad.chat.completions.create(model="default", messages=MSGS))
        assert e.status_code == 401 and e.code == "invalid_api_key", e.body
    tcp = clients.tcp(d)
    for path in ("/v1/models", "/metrics"):
        r = tcp.get(path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key", (path, r.text)
    r = tcp.post("/v1/chat/completions", json={"model": "default", "messages": MSGS})
    assert r.status_code == 401, r.text
    for path in ("/healthz", "/readyz"):
        assert tcp.get(path).status_code == 200, path
    assert fake.requests() == [], "a rejected request reaches no provider"

    good = clients.sdk(d, tcp=True, api_key=TOKEN)
    assert create(good, model="default", messages=MSGS).model == "gpt-4o"
    assert "fallbackd/default" in [m.id for m in H.bounded(lambda: list(good.models.list()))]
    # the Unix socket never needs the token
    unix = clients.sdk(d, api_key="unused")
    assert create(unix, model="default", messages=MSGS).model == "gpt-4o"
    assert len(reqs(fake, "gpt-4o")) == 2


# --------------------------------------------------------------------------- the Python client's helper


def test_python_client_openai_helper(daemon, fb, fake):
    with fb.FallbackClient(daemon.socket) as c:
        sdk = c.openai(max_retries=0, timeout=60.0)
        try:
            assert isinstance(sdk, openai.OpenAI)
            r = create(sdk, model="default", messages=MSGS)
            assert r.model == "gpt-4o" and r.choices[0].message.content == exp_of("gpt-4o")["content"]
            chunks = drain(create(sdk, model="default", messages=MSGS, stream=True))
            assert content_of(chunks) == exp_of("gpt-4o")["content"]
            raises(openai.NotFoundError, lambda: sdk.chat.completions.create(model="nope", messages=MSGS))
        finally:
            sdk.close()
    assert len(reqs(fake, "gpt-4o")) == 2
