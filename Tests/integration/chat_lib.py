"""Shared helpers of the full-fidelity chat and streaming tests (test_chat_fidelity.py, test_streaming.py,
test_stream_faults.py): streaming over a raw connection, model ids, config mutators, fake request lookups."""

from __future__ import annotations

import json
import time

import fbd_harness as H

# pool name -> fake flavor, for the streaming parametrizations (OpenAI, Anthropic, Gemini, OpenAI-compatible)
FLAVOR_OF = {"gpt-4o": "openai", "claude-3-5-sonnet": "anthropic", "gemini-pro": "gemini", "local-llama": "compat"}
# a fallback of another provider for each streaming primary
NEXT_OF = {"gpt-4o": "claude-3-5-sonnet", "claude-3-5-sonnet": "gemini-pro", "gemini-pro": "gpt-4o",
           "local-llama": "claude-3-5-sonnet"}
# fallbackd's own params: never sent to a provider
OWN_FIELDS = ("task", "models", "timeout_ms", "metadata", "shadow", "on_interrupt")


def mid(name: str) -> str:
    """The model id the fake sees for a pool model (models a test adds use their name as model id)."""
    m = H.POOL.get(name)
    return m.model_id if m else name


def reqs(fake, name: str) -> list[dict]:
    """The fake's recorded requests for a pool model, in arrival order."""
    return sorted(fake.requests(model=mid(name)), key=lambda r: r["seq"])


def only_req(fake, name: str) -> dict:
    got = reqs(fake, name)
    assert len(got) == 1, f"expected exactly one request to {name}, got {len(got)}: {[r['body'] for r in got]}"
    return got[0]


def stream_request(conn, params: dict, id, timeout: float = 30.0):
    """Send a `complete` with params on `conn` and read lines until the reply for `id`.

    Returns (notifications, reply): every notification (a message with `method` and no `id`) received
    before the reply, in order. Replies for other ids are not expected here and fail the test.
    """
    conn.send({"jsonrpc": "2.0", "id": id, "method": "complete", "params": params})
    notes = []
    end = time.monotonic() + timeout
    while True:
        rem = end - time.monotonic()
        assert rem > 0, f"no reply for id {id!r} within {timeout} s; notifications so far: {notes[-5:]}"
        msg = conn.recv(rem)
        if isinstance(msg, dict) and "method" in msg and "id" not in msg:
            notes.append(msg)
            continue
        assert isinstance(msg, dict) and msg.get("id") == id, f"unexpected line while waiting for {id!r}: {msg}"
        return notes, msg


def read_until_replies(conn, ids, timeout: float = 30.0):
    """Read lines until a reply for every id in `ids` arrived. Returns (notifications, {id: reply})."""
    notes, replies = [], {}
    end = time.monotonic() + timeout
    while set(ids) - set(replies):
        rem = end - time.monotonic()
        assert rem > 0, f"replies missing for {set(ids) - set(replies)} after {timeout} s"
        msg = conn.recv(rem)
        if isinstance(msg, dict) and "method" in msg and "id" not in msg:
            notes.append(msg)
        else:
            assert isinstance(msg, dict) and msg.get("id") in ids, f"unexpected line: {msg}"
            replies[msg["id"]] = msg
    return notes, replies


def deltas(notes, id=None, model=None) -> list[dict]:
    """The `delta` objects of the complete.delta notifications (of request `id`, of `model`)."""
    out = []
    for n in notes:
        if n.get("method") != "complete.delta":
            continue
        p = n["params"]
        if id is not None and p.get("id") != id:
            continue
        if model is not None and p.get("model") != model:
            continue
        out.append(p["delta"])
    return out


def text_of(ds) -> str:
    return "".join(d.get("content") or "" for d in ds)


def tool_calls_of(ds) -> list[dict]:
    """The tool calls the deltas add up to, in OpenAI's shape, ordered by index."""
    calls: dict[int, dict] = {}
    for d in ds:
        for frag in d.get("tool_calls") or []:
            slot = calls.setdefault(frag["index"], {"id": None, "type": None, "function": {"name": None, "arguments": ""}})
            if "id" in frag:
                assert slot["id"] is None, f"a second id for tool call {frag['index']}: {frag}"
                slot["id"] = frag["id"]
            if "type" in frag:
                slot["type"] = frag["type"]
            fn = frag.get("function") or {}
            if "name" in fn:
                slot["function"]["name"] = fn["name"]
            slot["function"]["arguments"] += fn.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def assert_delta_shapes(notes, id, model):
    """Every notification is a complete.delta of request `id` from `model` carrying only non-empty members; the
    last one carries finish_reason and usage and nothing else; no other delta has a finish_reason."""
    assert notes, "no complete.delta notifications"
    for n in notes:
        assert n["jsonrpc"] == "2.0" and n["method"] == "complete.delta", n
        assert n["params"]["id"] == id, n
        assert n["params"]["model"] == model, n
    ds = [n["params"]["delta"] for n in notes]
    for d in ds[:-1]:
        assert d, f"an empty delta: {ds}"
        assert set(d) <= {"content", "tool_calls", "refusal"}, f"unexpected members in {d}"
        assert all(d[k] not in ("", None, []) for k in d), f"a delta member that carries nothing: {d}"
    last = ds[-1]
    assert set(last) == {"finish_reason", "usage"}, f"the last delta must carry finish_reason and usage only: {last}"
    return ds


def providers_timeouts(first_token_ms=None, idle_ms=None, providers=("openai", "anthropic", "gemini", "compat")):
    """cfg_mutate: first_token_timeout_ms / idle_timeout_ms on the providers (docs/protocol.md, Streaming)."""
    def mutate(cfg):
        for p in providers:
            if first_token_ms is not None:
                cfg["providers"][p]["first_token_timeout_ms"] = first_token_ms
            if idle_ms is not None:
                cfg["providers"][p]["idle_timeout_ms"] = idle_ms
        return cfg
    return mutate


def add_model(name, provider, model_id, **extra):
    """cfg_mutate: a new pool model."""
    def mutate(cfg):
        d = {"provider": provider, "model_id": model_id, "max_tokens": 4096, "cost_per_1k_input": 0.001,
             "cost_per_1k_output": 0.002}
        d.update(extra)
        cfg["models"][name] = d
        return cfg
    return mutate


def set_model(name, **keys):
    """cfg_mutate: set keys of [models.NAME]."""
    def mutate(cfg):
        cfg["models"][name].update(keys)
        return cfg
    return mutate


def last_turn(fake_req: dict):
    """(role, text) of the last turn of a recorded upstream request, whatever the flavor."""
    body = fake_req["body"]
    if fake_req["flavor"] == "gemini":
        c = body["contents"][-1]
        return c.get("role"), "".join(p.get("text", "") for p in c.get("parts", []))
    m = body["messages"][-1]
    content = m.get("content")
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return m.get("role"), content or ""


def dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True)
