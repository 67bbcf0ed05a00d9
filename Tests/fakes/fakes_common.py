"""Constants, wire helpers and error bodies shared by the fake providers (see fake_providers.py)."""

from __future__ import annotations

import json
import re

from fakes_steps import check_params

HANG_LIMIT_S = 60.0
GEMINI_JSON_CT = "application/json; charset=UTF-8"
DEFAULT_RETRY_AFTER_S = 1

FLAVORS = ("openai", "compat", "anthropic", "gemini")

KINDS = frozenset(
    {
        "ok",
        "rate_limited",
        "server_error",
        "unavailable",
        "overloaded",
        "auth",
        "forbidden",
        "invalid_key",
        "suspended",
        "bad_request",
        "not_found",
        "context_length",
        "content_filter",
        "safety_stop",
        "malformed",
        "empty",
        "error_in_200",
        "gateway",
        "hang",
        "hold",
        "slow",
        "stall_body",
        # tools / JSON / finish reasons / usage (fakes_answers.py)
        "tool_call",
        "json",
        "refusal",
        "length",
        "insufficient_quota",
        "unsupported_parameter",
        "reasoning_model",
        "reject_prefill",
        # stream faults (fakes_sse.py, fakes_stream.py)
        "stream_reset",
        "stream_silent",
        "stream_slow_first",
        "stream_cut",
        "stream_stall",
        "stream_malformed",
        "stream_no_done",
        "stream_error_event",
    }
)

# kinds that wait instead of answering at once: not allowed as the answer after a `hold`
TIMING_KINDS = frozenset(
    {"hang", "hold", "slow", "stall_body", "stream_silent", "stream_slow_first", "stream_stall"}
)

# base path of each provider kind (what a daemon's base_url ends with)
BASE_PATHS = {
    "openai": "/openai/v1",
    "compat": "/compat/v1",
    "openai-compatible": "/compat/v1",
    "anthropic": "/anthropic/v1",
    "gemini": "/gemini/v1beta",
}

_GEMINI_ROUTE = re.compile(r"^/gemini/v1beta/models/([^/]+):generateContent$")
_GEMINI_STREAM_ROUTE = re.compile(r"^/gemini/v1beta/models/([^/]+):streamGenerateContent$")
_ROUTES = {
    "/openai/v1/chat/completions": "openai",
    "/compat/v1/chat/completions": "compat",
    "/anthropic/v1/messages": "anthropic",
}


# --------------------------------------------------------------------------- helpers shared with tests


def word_count(text: str) -> int:
    return len(text.split())


def reply_text(flavor: str, model: str, last_user: str) -> str:
    """The deterministic content of an ``ok`` answer."""
    return f"fake-{flavor} {model} says: {last_user[:40]}"


def reply_usage(all_text_words: int, content: str) -> tuple[int, int]:
    """(input_tokens, output_tokens) of an ``ok`` answer."""
    return max(1, all_text_words), max(1, word_count(content))


def expected_reply(flavor: str, model: str, messages: list[dict]) -> dict:
    """What an ``ok`` answer contains for fallbackd-style messages [{role, content}].

    input tokens = words of every message (system included), output tokens = words of the reply.
    """
    last_user = ""
    for m in messages:
        if m.get("role") == "user":
            last_user = m.get("content", "")
    content = reply_text(flavor, model, last_user)
    words = sum(word_count(m.get("content", "")) for m in messages)
    inp, out = reply_usage(words, content)
    return {"content": content, "input_tokens": inp, "output_tokens": out}


def mask_key(key: str) -> str:
    """OpenAI-style masked key as it appears in a real 401 message."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def normalize_step(step) -> dict:
    """'slow:800' / 'ok' / {"kind": ..., ...} -> {"kind": ..., params}. Raises ValueError."""
    if isinstance(step, str):
        d = {"kind": step}
    elif isinstance(step, dict):
        d = dict(step)
    else:
        raise ValueError(f"step must be a string or an object, got {type(step).__name__}")
    kind = d.get("kind")
    if not isinstance(kind, str):
        raise ValueError("step needs a string 'kind'")
    for timed in ("slow", "stream_slow_first"):
        if kind.startswith(timed + ":"):
            try:
                d["ms"] = int(kind[len(timed) + 1:])
            except ValueError:
                raise ValueError(f"bad {timed} step {kind!r}") from None
            d["kind"] = kind = timed
    if kind not in KINDS:
        raise ValueError(f"unknown step kind {kind!r}")
    if kind in ("slow", "stream_slow_first"):
        ms = d.get("ms")
        if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
            raise ValueError(f"{kind} step needs an integer ms >= 0")
    check_params(d)
    if kind == "hold":
        after = d.setdefault("after", "ok")
        if not isinstance(after, str) or after not in KINDS or after in TIMING_KINDS:
            raise ValueError(f"hold step: 'after' must be an answering kind, not {after!r}")
    return d


def _text_of(content) -> str:
    """Text of an OpenAI/Anthropic content value: a string or a list of text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for block in content:
            if isinstance(block, str):
                out.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                out.append(block["text"])
        return "\n".join(out)
    return ""


def _parts_text(obj) -> str:
    """Text of a Gemini Content ({parts: [{text}]}) or a bare string."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        parts = obj.get("parts")
        if isinstance(parts, list):
            return "\n".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        if isinstance(parts, dict) and isinstance(parts.get("text"), str):
            return parts["text"]
    return ""


def _retry_after(step) -> float:
    ra = step.get("retry_after", DEFAULT_RETRY_AFTER_S)
    if not isinstance(ra, (int, float)) or isinstance(ra, bool) or ra < 0:
        ra = DEFAULT_RETRY_AFTER_S
    return ra


def _fmt_seconds(ra) -> str:
    if float(ra).is_integer():
        return str(int(ra))
    return f"{ra:.3f}".rstrip("0")


def _json_bytes(obj) -> bytes:
    return json.dumps(obj).encode()

# --------------------------------------------------------------------------- response bodies


def _openai_error(message, type_, code, param=None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _anthropic_error(type_, message, req_id):
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": req_id}


def _gemini_error(code, status, message, details=None):
    err = {"code": code, "message": message, "status": status}
    if details is not None:
        err["details"] = details
    return {"error": err}


_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class Reply:
    """One HTTP answer: status, extra headers, body bytes, content type."""

    def __init__(self, status, body, headers=None, content_type="application/json"):
        self.status = status
        self.body = body if isinstance(body, bytes) else _json_bytes(body)
        self.headers = dict(headers or {})
        self.content_type = content_type
