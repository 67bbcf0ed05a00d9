"""Outage conduct, content filters (issue 10): a provider's content-policy refusal ends the request with -32007
and the provider's reason (data: model, reason, http_status, attempts, route) instead of falling back, unless
the chain says [chain_options.NAME] on_content_filter = "fallback" ("explicit" for requests with `models`).
Real daemon, fake providers.
"""

import pytest

import fbd_harness as H
from chat_lib import deltas, stream_request, text_of

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Which model answers this one?"}]
CONTENT_FILTERED = -32007


def model_id(name):
    return H.POOL[name].model_id


# what the fakes answer for a content filter: the provider's reason must reach the caller
PROVIDER_REASON = {
    ("openai", "content_filter"): "rejected as a result of our safety system",
    ("compat", "content_filter"): "content management policy",
}


def assert_content_filtered(err, pool_name, status, kind=None):
    """-32007: the request ended at the model that filtered; data names it, its reason and HTTP status."""
    data = err["data"]
    assert data["model"] == pool_name, data
    assert data["http_status"] == status, data
    att = data["attempts"]
    assert [(a["model"], a["error_type"]) for a in att] == [(pool_name, "content_filter")], att
    assert isinstance(data["reason"], str) and data["reason"], data
    assert data["reason"] == att[0]["message"], (data["reason"], att[0])
    assert data["reason"] in err["message"], err
    want = PROVIDER_REASON.get((H.POOL[pool_name].flavor, kind))
    if want:
        assert want in data["reason"], data["reason"]
    assert data["route"][0]["model"] == pool_name, data["route"]
    assert isinstance(data["request_id"], str) and data["request_id"]


# (Anthropic's 400 "Output blocked by content filtering policy" is classified invalid_request, not content_filter:
# its refusal is the stop_reason "refusal" answer, safety_stop here.)
FILTERING = [
    ("gpt-4o", "content_filter", 400, "claude-3-5-sonnet"),
    ("local-llama", "content_filter", 400, "gpt-4o-mini"),
    ("claude-3-5-sonnet", "safety_stop", 200, "gpt-4o"),
    ("gemini-pro", "content_filter", 200, "gpt-4o"),
    ("gemini-pro", "safety_stop", 200, "claude-3-5-sonnet"),
    ("gpt-4o", "safety_stop", 200, "claude-3-haiku"),
]


@pytest.mark.parametrize("primary,kind,status,secondary", FILTERING, ids=[f"{m[0]}-{m[1]}" for m in FILTERING])
def test_content_filter_ends_the_request_with_the_providers_reason(daemon, conn, fake, primary, kind, status,
                                                                   secondary):
    """By default a content filter is the caller's answer (-32007), not something to route around."""
    fake.script(model_id(primary), [], then=kind)
    reply = conn.request("complete", {"messages": MSGS, "models": [primary, secondary], "timeout_ms": 10000},
                         id=7, timeout=15)
    assert "result" not in reply, reply
    err = reply["error"]
    assert err["code"] == CONTENT_FILTERED, err
    assert_content_filtered(err, primary, status, kind)
    assert err["data"]["chain"] == "explicit"
    assert len(fake.requests(model=model_id(primary))) == 1
    assert fake.requests(model=model_id(secondary)) == [], "a content filter fell back without on_content_filter"


def _filter_fallback(chain):
    def mutate(cfg):
        cfg.setdefault("chain_options", {}).setdefault(chain, {})["on_content_filter"] = "fallback"
    return mutate


@pytest.mark.parametrize("primary,kind,status,secondary", FILTERING, ids=[f"{m[0]}-{m[1]}" for m in FILTERING])
def test_content_filter_falls_back_when_the_chain_opts_in(daemon_factory, fake, primary, kind, status, secondary):
    """[chain_options.explicit] on_content_filter = "fallback": classified content_filter, then the next model."""
    d = daemon_factory(cfg_mutate=_filter_fallback("explicit"))
    fake.script(model_id(primary), [], then=kind)
    res = H.bounded(lambda: H.complete_ok(d, MSGS, models=[primary, secondary], timeout_ms=10000))
    assert res["model_used"] == secondary and res["fallback_count"] == 1
    att = res["attempts"]
    assert [(a["model"], a["outcome"], a["error_type"]) for a in att] == [
        (primary, "error", "content_filter"), (secondary, "success", None)], att
    assert att[0]["http_status"] == status
    assert len(fake.requests(model=model_id(primary))) == 1


def test_on_content_filter_is_per_chain(daemon_factory, fake):
    """The opt-in of one chain does not change another's: default falls back, cheap ends with -32007."""
    d = daemon_factory(cfg_mutate=_filter_fallback("default"))
    fake.script(model_id("gpt-4o"), [], then="content_filter")
    fake.script(model_id("gpt-4o-mini"), [], then="content_filter")
    res = H.bounded(lambda: H.complete_ok(d, MSGS, timeout_ms=10000))
    assert res["model_used"] == "claude-3-5-sonnet" and res["attempts"][0]["error_type"] == "content_filter"
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, task="cheap", timeout_ms=10000))
    assert reply.get("error", {}).get("code") == CONTENT_FILTERED, reply
    assert_content_filtered(reply["error"], "gpt-4o-mini", 400, "content_filter")
    assert fake.requests(model=model_id("claude-3-haiku")) == []
    # nor does it reach requests with `models` (chain "explicit")
    reply = H.bounded(lambda: H.complete_reply(d, MSGS, models=["gpt-4o", "gemini-pro"], timeout_ms=10000))
    assert reply.get("error", {}).get("code") == CONTENT_FILTERED, reply
    assert fake.requests(model=model_id("gemini-pro")) == []


@pytest.mark.parametrize("primary,kind,status", [("gpt-4o", "content_filter", 400), ("gemini-pro", "content_filter", 200),
                                                 ("claude-3-5-sonnet", "safety_stop", 200)])
def test_streaming_content_filter_ends_the_request_before_any_delta(daemon, fake, primary, kind, status):
    fake.script(model_id(primary), [], then=kind)
    secondary = "gpt-4o-mini"
    with daemon.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": [primary, secondary],
                                          "timeout_ms": 10000}, id=5)
    assert "result" not in reply, reply
    err = reply["error"]
    assert err["code"] == CONTENT_FILTERED, err
    assert_content_filtered(err, primary, status, kind)
    assert deltas(notes, model=primary) == [] and deltas(notes, model=secondary) == [], notes
    assert fake.requests(model=model_id(secondary)) == []


def test_streaming_content_filter_falls_back_when_the_chain_opts_in(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=_filter_fallback("explicit"))
    fake.script(model_id("gemini-pro"), [], then="content_filter")
    with d.conn(30) as c:
        notes, reply = stream_request(c, {"messages": MSGS, "stream": True, "models": ["gemini-pro", "gpt-4o"],
                                          "timeout_ms": 10000}, id=6)
    res = reply["result"]
    assert res["model_used"] == "gpt-4o"
    assert [(a["model"], a["error_type"]) for a in res["attempts"]] == [("gemini-pro", "content_filter"), ("gpt-4o", None)]
    assert deltas(notes, model="gemini-pro") == []
    assert text_of(deltas(notes, model="gpt-4o")) == res["content"]
