"""Resilience helpers for the integration tests (test_resilience_*.py): breaker/retry config, breaker and health probes."""

from __future__ import annotations

import time

from fbd_helpers import wait_for
from fbd_process import Daemon


def set_resilience(cfg: dict, breaker=None, retry=None, health=None, model_breakers=None) -> dict:
    """Replace the seed's [breaker] / [retry] (and add [health], [models.NAME.breaker]) in a config dict.

    Each table given replaces the section whole, so the seed's "breakers off" keys do not leak in.
    """
    if breaker is not None:
        cfg["breaker"] = dict(breaker)
    if retry is not None:
        cfg["retry"] = dict(retry)
    if health is not None:
        cfg["health"] = dict(health)
    for name, table in (model_breakers or {}).items():
        cfg["models"][name]["breaker"] = dict(table)
    return cfg


def resilience(**kw):
    """cfg_mutate for daemon_factory: set_resilience(cfg, **kw)."""
    return lambda cfg: set_resilience(cfg, **kw)


def now_ms() -> int:
    return int(time.time() * 1000)


def complete_reply(daemon: "Daemon", messages, timeout: float = 30.0, **params) -> dict:
    """One raw `complete` on a fresh connection: the whole JSON-RPC reply (result or error)."""
    p = {"messages": messages, **params}
    return daemon.request("complete", p, timeout=timeout)


def complete_ok(daemon: "Daemon", messages, timeout: float = 30.0, **params) -> dict:
    reply = complete_reply(daemon, messages, timeout=timeout, **params)
    assert "error" not in reply, f"complete failed: {reply}"
    return reply["result"]


def breaker_of(daemon: "Daemon", model: str) -> dict:
    """The `breakers` entry of one model."""
    for b in daemon.call("breakers")["breakers"]:
        if b["model"] == model:
            return b
    raise AssertionError(f"no breaker for {model!r} in `breakers`")


def health_of(daemon: "Daemon", model: str, window_minutes: int | None = None) -> dict:
    """The `health` entry of one model."""
    params = None if window_minutes is None else {"window_minutes": window_minutes}
    for m in daemon.call("health", params)["models"]:
        if m["model"] == model:
            return m
    raise AssertionError(f"no health entry for {model!r}")


def route_entry(route: list, model: str) -> dict:
    for e in route:
        if e["model"] == model:
            return e
    raise AssertionError(f"{model!r} not in route {route}")


def wait_breaker_state(daemon: "Daemon", model: str, state: str, timeout: float = 20.0) -> dict:
    """Poll `breakers` (bounded) until `model`'s state is `state`; returns that entry or fails."""
    last = wait_for(lambda: (lambda b: b if b["state"] == state else None)(breaker_of(daemon, model)),
                    timeout=timeout, interval=0.05)
    if not last:
        raise AssertionError(f"breaker of {model} not {state} within {timeout} s: {breaker_of(daemon, model)}")
    return last
