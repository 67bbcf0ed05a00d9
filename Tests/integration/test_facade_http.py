"""The OpenAI-compatible HTTP facade at the HTTP level, on its Unix socket: where the socket is, /healthz and
/readyz, /v1/models against the config, error statuses (404 model, 400 bad JSON, 413 body too large, 503
overloaded), the x-fallbackd-* headers, SSE framing (clean end and mid-stream failure), the call log of an
HTTP request, and a client that goes away mid-request.

Requests are raw HTTP/1.1 (facade_lib.raw_request: one `Connection: close` request per connection, read to
EOF, chunked bodies decoded by hand so a missing terminator is visible) or httpx(2) over the Unix socket.
The SDK's view is in test_facade_openai.py; /metrics in test_metrics.py.
"""

import json
import os
import shutil
import socket
import stat

import pytest

import fbd_harness as H
from chat_lib import mid, only_req, providers_timeouts, reqs
from facade_lib import (MSGS, TOKEN, TOKEN_ENV, TOKEN_ENV_EXTRA, chat_body, facade, http_socket, raw_request,
                        read_response, send_request, sse_events)

DEFAULT = H.CHAINS["default"]
NO_REORDER = {"degraded_below": 0.0}
HEADERS = ("x-fallbackd-model", "x-fallbackd-fallbacks", "x-fallbackd-cost-usd", "x-fallbackd-request-id")
LONG_TEXT = ("Evaporation lifts water from the oceans, condensation builds clouds, precipitation brings it back "
             "down, and collection gathers it in rivers, lakes and seas before the cycle starts all over again.")


def post(d, body: bytes, **kw):
    return raw_request(http_socket(d), "POST", "/v1/chat/completions", body, **kw)


def get(d, target: str):
    return raw_request(http_socket(d), "GET", target)


def assert_openai_error(r, status, code=None, param=None, type_=None):
    assert r.status == status, r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    body = r.json()
    err = body.get("error")
    assert isinstance(err, dict), f"not an OpenAI error object: {body}"
    assert isinstance(err.get("message"), str) and err["message"], err
    assert isinstance(err.get("type"), str) and err["type"], err
    assert {"message", "type", "param", "code"} <= set(err), f"OpenAI's error has message/type/param/code: {err}"
    if code is not None:
        assert err["code"] == code, err
    if param is not None:
        assert err["param"] == param, err
    if type_ is not None:
        assert err["type"] == type_, err
    return err


def in_flight(d):
    return d.call("status")["in_flight"]


def wait_idle(d, timeout=20.0):
    assert H.wait_for(lambda: in_flight(d) == 0, timeout=timeout), f"in-flight did not return to 0: {d.call('status')}"


# --------------------------------------------------------------------------- where it listens, probes


def test_http_socket_sits_beside_the_rpc_socket(daemon):
    st = daemon.call("status")
    assert daemon.socket.endswith(".sock")
    assert st["http_socket"] == daemon.socket[: -len(".sock")] + "-http.sock", st
    assert st["http_listen"] is None, "no TCP listener unless [facade] listen is set"
    assert stat.S_ISSOCK(os.stat(st["http_socket"]).st_mode)
    r = get(daemon, "/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}, r


def test_facade_socket_setting_overrides_the_path(daemon_factory):
    def mutate(cfg):
        cfg.setdefault("facade", {})["socket"] = os.path.join(os.path.dirname(cfg["daemon"]["database"]), "oai.sock")
    d = daemon_factory(cfg_mutate=mutate)
    want = os.path.join(d.dir, "oai.sock")
    assert d.call("status")["http_socket"] == want
    assert not os.path.exists(d.socket[: -len(".sock")] + "-http.sock")
    r = raw_request(want, "GET", "/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}


def _ready(d):
    r = get(d, "/readyz")
    body = r.json()
    return r, body, [(e["model"], e["breaker"]) for e in body["default_chain"]]


def test_readyz_follows_the_default_chain_breakers(daemon):
    r, body, chain = _ready(daemon)
    assert r.status == 200 and body["ready"] is True and body["store"] == "ok", r
    assert chain == [(m, "closed") for m in DEFAULT]
    assert "reason" not in body or not body["reason"]
    for name in DEFAULT[:-1]:
        daemon.call("breaker.isolate", {"model": name})
    r, body, chain = _ready(daemon)
    assert r.status == 200 and body["ready"] is True, f"one callable model keeps it ready: {r}"
    daemon.call("breaker.isolate", {"model": DEFAULT[-1]})
    r, body, chain = _ready(daemon)
    assert r.status == 503 and body["ready"] is False, r
    assert isinstance(body.get("reason"), str) and body["reason"], body
    assert chain == [(m, "isolated") for m in DEFAULT]
    assert get(daemon, "/healthz").status == 200, "liveness does not depend on the breakers"
    daemon.call("breaker.reset", {"model": "claude-3-5-sonnet"})
    r, body, chain = _ready(daemon)
    assert r.status == 200 and body["ready"] is True and ("claude-3-5-sonnet", "closed") in chain, r


def test_readyz_503_when_failures_open_every_breaker(daemon_factory, fake):
    def mutate(cfg):
        H.set_resilience(cfg, breaker={"consecutive_failures": 1, "failure_rate": 0, "open_ms": 600_000,
                                       "auth_open_ms": 3_600_000}, health=NO_REORDER)
        cfg["recovery"] = {"enabled": False}
    d = daemon_factory(cfg_mutate=mutate)
    for name in DEFAULT:
        fake.script(mid(name), [], then="server_error")
    assert_openai_error(post(d, chat_body()), 502, code="all_models_failed")
    for name in DEFAULT:
        H.wait_breaker_state(d, name, "open")
    r, body, chain = _ready(d)
    assert r.status == 503 and body["ready"] is False and body["reason"], r
    assert chain == [(m, "open") for m in DEFAULT]
    # and a request now gets 503 all_breakers_open with Retry-After, without calling anyone
    n = len(fake.requests())
    r = post(d, chat_body())
    assert_openai_error(r, 503, code="all_breakers_open")
    assert r.headers.get("retry-after", "").isdigit() and int(r.headers["retry-after"]) >= 1, r
    assert len(fake.requests()) == n


# --------------------------------------------------------------------------- /v1/models


def test_models_list_matches_the_config(daemon_factory):
    def mutate(cfg):
        cfg["chains"]["summarize"] = ["gpt-4o-mini", "claude-3-haiku"]
    d = daemon_factory(cfg_mutate=mutate)
    r = get(d, "/v1/models")
    assert r.status == 200 and r.headers["content-type"].startswith("application/json"), r
    body = r.json()
    assert body["object"] == "list"
    data = body["data"]
    chains = set(H.CHAINS) | {"summarize"}
    head, tail = data[: len(chains)], data[len(chains):]
    assert {m["id"] for m in head} == {f"fallbackd/{c}" for c in chains}, "chains first, as fallbackd/<task>"
    assert {(m["id"], m["owned_by"]) for m in tail} == {(p.name, p.provider) for p in H.POOL.values()}, tail
    assert len(tail) == len(H.POOL)
    for m in data:
        assert m["object"] == "model" and isinstance(m["created"], int), m


# --------------------------------------------------------------------------- refusals before routing


def test_unknown_model_is_404(daemon, fake):
    for model in ("gpt-5-ultra", "fallbackd/nope", "fallbackd/gpt-4o"):
        assert_openai_error(post(daemon, chat_body(model=model)), 404, code="model_not_found", param="model",
                            type_="invalid_request_error")
    assert fake.requests() == []


@pytest.mark.parametrize("body", [b"{not json", b'{"model": "default", "messages": [', b"\xff\xfe", b""])
def test_bad_json_is_400_invalid_json(daemon, fake, body):
    assert_openai_error(post(daemon, body), 400, code="invalid_json", type_="invalid_request_error")
    assert fake.requests() == []


def test_missing_model_and_non_object_bodies_are_400(daemon, fake):
    assert_openai_error(post(daemon, json.dumps({"messages": MSGS}).encode()), 400, param="model")
    assert_openai_error(post(daemon, b"[1, 2]"), 400)
    assert_openai_error(post(daemon, chat_body(messages=[{"role": "wizard", "content": "x"}])), 400,
                        type_="invalid_request_error")
    assert fake.requests() == []


MAX_BODY = 2048


def _big_body(size):
    body = chat_body(messages=[{"role": "user", "content": ""}])
    pad = size - len(body)
    return chat_body(messages=[{"role": "user", "content": "x" * pad}])


def test_body_over_max_body_bytes_is_413(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=facade(max_body_bytes=MAX_BODY))
    small = _big_body(MAX_BODY - 200)
    assert len(small) < MAX_BODY
    r = post(d, small)
    assert r.status == 200, r
    big = _big_body(MAX_BODY * 3)
    assert len(big) > MAX_BODY
    r = post(d, big)
    assert r.status == 413, r
    assert len(reqs(fake, "gpt-4o")) == 1, "the refused body reached no provider"
    assert get(d, "/healthz").status == 200


def test_413_has_an_openai_error_body(daemon_factory, fake):
    """Like every other refusal, a 413 carries OpenAI's {"error": {...}} so SDKs can show why."""
    d = daemon_factory(cfg_mutate=facade(max_body_bytes=MAX_BODY))
    assert_openai_error(post(d, _big_body(MAX_BODY * 3)), 413, type_="invalid_request_error")


def test_overloaded_is_503(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=lambda cfg: cfg["daemon"].update(max_in_flight=1))
    fake.script(mid("gpt-4o"), [{"kind": "hold"}], then="ok")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(60)
        s.connect(http_socket(d))
        send_request(s, "POST", "/v1/chat/completions", chat_body(), close=True)
        assert H.wait_for(lambda: len(reqs(fake, "gpt-4o")) == 1, timeout=20), "the first request never arrived"
        r = post(d, chat_body())
        assert_openai_error(r, 503)
        assert len(reqs(fake, "gpt-4o")) == 1
        fake.release(mid("gpt-4o"))
        first = read_response(s, to_eof=True)
        assert first.status == 200 and first.json()["model"] == "gpt-4o", first
    finally:
        s.close()
    wait_idle(d)
    assert post(d, chat_body()).status == 200


# --------------------------------------------------------------------------- headers and request ids


def test_served_headers_match_the_body(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(health=NO_REORDER))
    fake.script(mid("gpt-4o"), ["server_error"], then="ok")
    ids = set()
    for want_model, want_fallbacks in (("claude-3-5-sonnet", 1), ("gpt-4o", 0)):
        r = post(d, chat_body())
        assert r.status == 200, r
        for h in HEADERS:
            assert h in r.headers, f"{h} missing: {r.headers}"
        body = r.json()
        fd = body["fallbackd"]
        assert r.headers["x-fallbackd-request-id"] == fd["request_id"]
        assert r.headers["x-fallbackd-model"] == body["model"] == fd["model"] == want_model
        assert int(r.headers["x-fallbackd-fallbacks"]) == fd["fallback_count"] == want_fallbacks
        assert H.approx(float(r.headers["x-fallbackd-cost-usd"]), fd["cost_usd"])
        assert fd["cost_usd"] > 0
        ids.add(fd["request_id"])
    # a failure carries the request id too
    for name in DEFAULT:
        fake.script(mid(name), [], then="server_error")
    r = post(d, chat_body())
    err = assert_openai_error(r, 502, code="all_models_failed")
    assert r.headers.get("x-fallbackd-request-id") == err["fallbackd"]["request_id"], r
    ids.add(err["fallbackd"]["request_id"])
    assert len(ids) == 3, f"request ids must be unique: {ids}"


# --------------------------------------------------------------------------- SSE on the wire


def test_sse_framing_of_a_complete_stream(daemon, fake):
    r = post(daemon, chat_body(stream=True, stream_options={"include_usage": True}))
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/event-stream"), r.headers
    assert r.headers.get("x-fallbackd-model") == "gpt-4o"
    assert r.chunked and r.terminated, f"a complete stream ends with the zero chunk: {r}"
    events = sse_events(r.body)
    assert all(e["event"] is None and not e.get("unterminated") for e in events), events
    assert events[-1]["data"] == "[DONE]" and sum(e["data"] == "[DONE]" for e in events) == 1
    chunks = [json.loads(e["data"]) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] > 0, usage
    assert r.headers["x-fallbackd-request-id"] == usage["fallbackd"]["request_id"]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]][-1] == "stop"


def test_sse_mid_stream_failure_is_an_error_event_then_a_broken_connection(daemon, fake):
    fake.script(mid("gpt-4o"), [], then={"kind": "stream_cut", "after_chunks": 2, "content": LONG_TEXT, "chunks": 6})
    r = post(daemon, chat_body(stream=True, stream_options={"include_usage": True}))
    assert r.status == 200, r
    assert r.closed and not r.terminated, f"the body must not end cleanly after a failure: {r}"
    events = sse_events(r.body)
    assert all(e["data"] != "[DONE]" for e in events), "no [DONE] after a failure"
    errors = [i for i, e in enumerate(events) if e["event"] == "error"]
    assert errors == [len(events) - 1], f"exactly one error event, last: {events}"
    err = json.loads(events[-1]["data"])["error"]
    assert isinstance(err["message"], str) and err["message"] and isinstance(err["type"], str), err
    chunks = [json.loads(e["data"]) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text and LONG_TEXT.startswith(text) and len(text) < len(LONG_TEXT), text
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)
    assert reqs(fake, "claude-3-5-sonnet") == []
    wait_idle(daemon)


# --------------------------------------------------------------------------- the call log


def test_call_log_has_the_attempts_of_an_http_request(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=H.resilience(health=NO_REORDER))
    fake.script(mid("gpt-4o"), [], then="server_error")
    meta = {"tenant": "acme", "trace": ["a", "b"]}
    r = post(d, chat_body(metadata=meta))
    assert r.status == 200, r
    fd = r.json()["fallbackd"]
    rows = H.wait_count(lambda: H.flushed_rows(d, "WHERE request_id = ?", (fd["request_id"],)), 2, what="rows")
    rows.sort(key=lambda x: x["attempt_index"])
    assert [(x["attempt_index"], x["model_name"], x["provider"], x["success"], x["error_type"], x["http_status"])
            for x in rows] == [(0, "gpt-4o", "openai", 0, "server_error", 500),
                               (1, "claude-3-5-sonnet", "anthropic", 1, None, 200)], rows
    assert all((x["task"], x["chain"]) == ("default", "default") for x in rows)
    assert all(json.loads(x["metadata"]) == meta for x in rows)
    assert H.approx(rows[1]["cost_usd"], fd["cost_usd"]) and rows[0]["cost_usd"] in (0, 0.0, None)
    assert (rows[1]["input_tokens"], rows[1]["output_tokens"]) == (
        r.json()["usage"]["prompt_tokens"], r.json()["usage"]["completion_tokens"])


# --------------------------------------------------------------------------- a client that goes away


@pytest.mark.parametrize("stream", [False, True])
def test_client_disconnect_cancels_the_attempt(daemon_factory, fake, stream):
    # long provider timeouts: only the client going away can end these requests before the fake's 60 s
    d = daemon_factory(cfg_mutate=providers_timeouts(first_token_ms=45000, idle_ms=45000))
    if stream:
        fake.script(mid("gpt-4o"), [{"kind": "stream_stall", "after_chunks": 2, "content": LONG_TEXT}])
        fake_end = "stalled_client_closed"
    else:
        fake.script(mid("gpt-4o"), [{"kind": "hold"}])
        fake_end = "client_closed"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(30)
        s.connect(http_socket(d))
        send_request(s, "POST", "/v1/chat/completions", chat_body(stream=stream))
        if stream:
            got = b""
            while b"data: " not in got:  # bounded by the socket timeout
                chunk = s.recv(65536)
                assert chunk, f"connection closed before the first event: {got!r}"
                got += chunk
            assert got.startswith(b"HTTP/1.1 200"), got[:200]
            assert H.wait_for(lambda: "stalled_after_chunks" in only_req(fake, "gpt-4o"), timeout=20)
        else:
            assert H.wait_for(lambda: len(reqs(fake, "gpt-4o")) == 1, timeout=20), "the request never arrived"
        assert in_flight(d) == 1
    finally:
        s.close()
    wait_idle(d)
    assert H.wait_for(lambda: only_req(fake, "gpt-4o").get("ended") == fake_end, timeout=20), \
        f"upstream call not cancelled: {only_req(fake, 'gpt-4o').get('ended')!r}"
    rows = H.wait_count(lambda: H.flushed_rows(d), 1, what="call-log rows")
    assert [(x["model_name"], x["success"], x["error_type"]) for x in rows] == [("gpt-4o", 0, "cancelled")], rows
    assert reqs(fake, "claude-3-5-sonnet") == [], "a cancelled request does not fall back"
    # the daemon still serves
    assert post(d, chat_body()).status == 200


# --------------------------------------------------------------------------- [facade] listen beyond loopback


@pytest.mark.parametrize("facade_table,ok,key", [
    ({"listen": "127.0.0.1:0"}, True, None),
    ({"listen": "0.0.0.0:0"}, False, "listen"),
    ({"listen": "0.0.0.0:0", "allow_remote": True}, False, "token"),
    ({"listen": "0.0.0.0:0", "allow_remote": True, "token_env": TOKEN_ENV}, True, None),
])
def test_non_loopback_listen_needs_allow_remote_and_a_token(fallbackd_bin, fake_server, facade_table, ok, key):
    d = H.short_tmpdir("fbd-cfg-")
    try:
        key_file = os.path.join(d, "compat.key")
        with open(key_file, "w") as f:
            f.write(H.COMPAT_KEY)
        os.chmod(key_file, 0o600)
        cfg = H.config_dict(fake_server, os.path.join(d, "calls.sqlite"), key_file)
        cfg["facade"] = dict(facade_table)
        path = os.path.join(d, "c.toml")
        with open(path, "w") as f:
            f.write(H.to_toml(cfg))
        rc, out, err = H.run_check_config(fallbackd_bin, path, env_extra=TOKEN_ENV_EXTRA)
        if ok:
            assert rc == 0, out + err
        else:
            assert rc != 0, f"accepted {facade_table}: {out + err}"
            assert "facade" in out + err and key in out + err, out + err
        assert TOKEN not in out + err, "the token must never be printed"
    finally:
        shutil.rmtree(d, ignore_errors=True)
