"""Small utilities for fallbackd's integration tests: temp dirs, polling, bounded calls, result dicts."""

from __future__ import annotations

import dataclasses
import math
import tempfile
import threading
import time


def short_tmpdir(prefix="fbd-") -> str:
    """A short directory under /tmp: Unix socket paths must stay under ~100 bytes."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def wait_for(pred, timeout=20.0, interval=0.02):
    """Poll pred() until it returns something true; return that, or the last (false) value after `timeout`.

    The timeout is a generous bound for a loaded machine, never a measurement: callers assert the result.
    """
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


def bounded(fn, timeout=20.0):
    """Run fn() in a thread; return its value or re-raise its exception; fail if it takes longer than timeout."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"call did not return within {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def to_plain(obj):
    """Result objects of the Python client -> plain dicts/lists."""
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: to_plain(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return obj


RESULT_FIELDS = (
    "content", "model_used", "model_id", "provider", "task", "chain", "fallback_count", "used_fallback",
    "latency_ms", "attempts", "usage", "cost_usd", "request_id",
    "tool_calls", "refusal", "finish_reason", "provider_finish_reason", "ignored_fields",
)


def result_dict(res) -> dict:
    """The `complete` result as the wire dict, whether the client gave a dict or an object with .raw."""
    if isinstance(res, dict):
        return res
    raw = getattr(res, "raw", None)
    if isinstance(raw, dict):
        # some clients keep the whole JSON-RPC reply in raw
        if "result" in raw and isinstance(raw["result"], dict) and "jsonrpc" in raw:
            return raw["result"]
        return raw
    return {f: to_plain(getattr(res, f)) for f in RESULT_FIELDS if hasattr(res, f)}


def approx(a, b, rel=1e-6, abs_=1e-9) -> bool:
    return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def usage(input_tokens: int, output_tokens: int, cached: int = 0, cache_write: int = 0, reasoning: int = 0) -> dict:
    """A result's ``usage`` object as the daemon writes it."""
    return {
        "input_tokens": input_tokens, "output_tokens": output_tokens, "cached_input_tokens": cached,
        "cache_write_tokens": cache_write, "reasoning_tokens": reasoning,
    }
