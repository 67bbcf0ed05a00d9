"""Shared constants and helpers of the shadow-testing integration tests (test_shadow.py, test_shadow_cap.py)."""

import re

import fbd_harness as H
from fake_providers import expected_reply


MSGS = [{"role": "user", "content": "Shadow me if you can."}]
NO_REORDER = {"degraded_below": 0.0}
PRIMARY, SHADOW = "gpt-4o", "claude-3-5-sonnet"
INVALID_PARAMS = -32602


def mid(name):
    return H.POOL[name].model_id


def user(i):
    return [{"role": "user", "content": f"Question number {i}: what is {i} plus {i}?"}]


def reply_of(name, msgs=MSGS):
    m = H.POOL[name]
    return expected_reply(m.flavor, m.model_id, msgs)


def cost_of(name, msgs=MSGS):
    e = reply_of(name, msgs)
    return H.POOL[name].cost(e["input_tokens"], e["output_tokens"])


def jaccard(a, b):
    """The daemon's Similarity.jaccard: distinct lowercase runs of letters and digits."""
    wa = set(re.findall(r"[^\W_]+", a.lower()))
    wb = set(re.findall(r"[^\W_]+", b.lower()))
    if not wa and not wb:
        return 1.0
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def close(a, b, rel=1e-9):
    return a is not None and abs(float(a) - float(b)) <= max(rel * abs(float(b)), 1e-12)


def shadow_cfg(breaker=None, pairs=None, **shadow):
    return H.compose(
        H.resilience(health=NO_REORDER, breaker=breaker),
        lambda cfg: H.set_cost(cfg, shadow=shadow, shadow_pairs=pairs),
    )


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))


def wait_requests(fake, name, n, timeout=10.0):
    return H.wait_count(lambda: fake.requests(model=mid(name)), n, timeout=timeout, what=f"requests to {name}")


def wait_answered(fake, name, n, timeout=20.0):
    """Wait until the fake has finished n requests of `name` (answered or cut)."""
    def done():
        rs = fake.requests(model=mid(name))
        return [r for r in rs if r.get("kind") and (r["kind"] not in ("slow", "hang", "hold") or r.get("ended"))]
    return H.wait_count(done, n, timeout=timeout, what=f"finished requests to {name}")


def stop_and_count(d, fake, name):
    """Stop `d` cleanly (H.stop_settled: every shadow it started has finished and is logged), then return
    (requests the fake got for `name`, the call log's shadow rows). Absences checked on these are final."""
    H.stop_settled(d)
    return n_requests(fake, name), H.shadow_calls(d)


SAME_FIELDS = ("content", "model_used", "model_id", "provider", "task", "chain", "fallback_count", "used_fallback",
               "usage", "cost_usd", "primary_cost_usd", "fallback_cost_delta_usd", "finish_reason")


def assert_same_reply(a, b):
    for f in SAME_FIELDS:
        assert a.get(f) == b.get(f), f"{f}: shadowed reply {a.get(f)!r} != plain reply {b.get(f)!r}"
    assert set(a) == set(b), (sorted(a), sorted(b))
    assert [x["model"] for x in a["attempts"]] == [x["model"] for x in b["attempts"]]
    assert a["route"] == b["route"]
