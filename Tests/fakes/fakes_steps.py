"""Validation of the step parameters added for tools, JSON, usage details and streaming (see fake_providers.py).

Imports nothing from the other fakes modules (fakes_common.normalize_step calls check_params).
"""

from __future__ import annotations

SSE_OPTIONS = frozenset({"crlf", "lf", "comments", "multiline", "split"})
FRAMINGS = ("chunked", "close")
MALFORMED_POSITIONS = ("first", "middle")
# what a stream fault streams before (or around) its fault: {"kind": "stream_cut", "answer": "tool_call"}
STREAM_ANSWERS = ("ok", "tool_call", "json", "refusal", "length")

_INT_PARAMS = ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
               "after_chunks")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_params(d: dict) -> None:
    """Check (and normalize in place) the optional params of step `d`. Raises ValueError."""
    kind = d["kind"]
    for key in _INT_PARAMS:
        if key in d and (not _is_int(d[key]) or d[key] < 0):
            raise ValueError(f"{kind} step: {key} must be an integer >= 0")
    for key in ("chunks", "count"):
        if key in d and (not _is_int(d[key]) or d[key] < 1):
            raise ValueError(f"{kind} step: {key} must be an integer >= 1")
    if "name" in d and (not isinstance(d["name"], str) or not d["name"]):
        raise ValueError(f"{kind} step: name must be a non-empty string")
    for key in ("arguments", "value"):
        if key in d and not isinstance(d[key], dict):
            raise ValueError(f"{kind} step: {key} must be an object")
    for key in ("content", "text"):
        if key in d and not isinstance(d[key], str):
            raise ValueError(f"{kind} step: {key} must be a string")
    if "position" in d and d["position"] not in MALFORMED_POSITIONS:
        raise ValueError(f"{kind} step: position must be one of {', '.join(MALFORMED_POSITIONS)}")
    if "answer" in d and kind != "hold" and d["answer"] not in STREAM_ANSWERS:
        raise ValueError(f"{kind} step: answer must be one of {', '.join(STREAM_ANSWERS)}")
    if "framing" in d and d["framing"] not in FRAMINGS:
        raise ValueError(f"{kind} step: framing must be one of {', '.join(FRAMINGS)}")
    if "sse" in d:
        opts = d["sse"]
        if isinstance(opts, str):
            opts = [opts]
        if not isinstance(opts, list) or not all(isinstance(o, str) and o in SSE_OPTIONS for o in opts):
            raise ValueError(f"{kind} step: sse must be one of (or a list of) {', '.join(sorted(SSE_OPTIONS))}")
        if "crlf" in opts and "lf" in opts:
            raise ValueError(f"{kind} step: sse cannot be both crlf and lf")
        d["sse"] = list(opts)


def sse_options(step: dict) -> frozenset:
    """The `sse` options of a (normalized) step."""
    opts = step.get("sse") or []
    return frozenset([opts] if isinstance(opts, str) else opts)
