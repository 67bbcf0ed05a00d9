"""Shared constants and helpers of the cost integration tests (test_cost_ledger.py, test_cost_report.py)."""

import math

import fbd_harness as H
from fake_providers import expected_reply


MSGS = [{"role": "user", "content": "How much does this answer cost?"}]
NO_REORDER = {"degraded_below": 0.0}
NO_SHADOW = {"sample_rate": 0.0}
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS

ALL_MODELS_FAILED = -32001
BUDGET_EXCEEDED = -32004
CONTENT_FILTERED = -32007
INVALID_PARAMS = -32602


def mid(name):
    return H.POOL[name].model_id


def usage_of(name, msgs=MSGS):
    """(input, output) tokens the fake reports for an ok answer of pool model `name`."""
    m = H.POOL[name]
    e = expected_reply(m.flavor, m.model_id, msgs)
    return e["input_tokens"], e["output_tokens"]


def cost_of(name, tokens):
    return H.POOL[name].cost(*tokens)


def input_words(msgs=MSGS):
    return sum(len(m["content"].split()) for m in msgs)


def close(a, b):
    return a is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def cost_cfg(**cost):
    """cfg_mutate: no health reordering, no shadows, plus the given cost sections."""
    cost.setdefault("shadow", NO_SHADOW)
    return H.compose(H.resilience(health=NO_REORDER), lambda cfg: H.set_cost(cfg, **cost))


def with_chain(name, models):
    def mutate(cfg):
        cfg["chains"][name] = list(models)
    return mutate


def n_requests(fake, name):
    return len(fake.requests(model=mid(name)))
