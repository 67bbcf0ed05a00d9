"""Answers as Server-Sent-Event streams in each provider's real shape, stream faults, and SSE framing.

stream_events() lists the events of an answer; plan_stream() applies a stream fault (cut, stall, error event,
malformed data, missing [DONE], slow first token); render_event() writes one event with the `sse` options.
fakes_stream.py puts the result on the wire.
"""

from __future__ import annotations

import json
import time

from fakes_answers import compact, include_usage
from fakes_render import (
    ANTHROPIC_STOP,
    OPENAI_FINISH,
    PROMPT_FEEDBACK,
    anthropic_input,
    gemini_candidate,
    gemini_final_parts,
    output_tokens,
    usage_gemini,
    usage_openai,
)

DEFAULT_PIECES = 4  # content deltas per text (fewer when the text is shorter)
DEFAULT_AFTER_CHUNKS = 2  # content chunks streamed before a stream_cut / stream_stall

OPENAI_STREAM_ERROR = {"error": {"message": "The server had an error while processing your request.",
                                 "type": "server_error"}}
ANTHROPIC_STREAM_ERROR = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
GEMINI_STREAM_ERROR = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}


class Ev:
    """One SSE event. role: pre (before any content), hdr (structure between contents), content (a counted
    content chunk), fin (finish), usage, done (the terminator: [DONE] / message_stop), error, bad (not JSON).
    final: this event finishes the answer (Gemini's last content chunk carries the finishReason)."""

    def __init__(self, name, data, role, final=False):
        self.name = name
        self.data = data  # dict, or str sent as-is
        self.role = role
        self.final = final

    def text(self, flavor) -> str:
        if isinstance(self.data, str):
            return self.data
        return json.dumps(self.data) if flavor == "gemini" else compact(self.data)


def pieces(text: str, n: int) -> list[str]:
    """`text` in up to n contiguous pieces of near-equal length ("" -> [])."""
    if not text:
        return []
    n = max(1, min(n, len(text)))
    size, extra = divmod(len(text), n)
    out, i = [], 0
    for k in range(n):
        j = i + size + (1 if k < extra else 0)
        out.append(text[i:j])
        i = j
    return out


# --------------------------------------------------------------------------- per-flavor event lists


def _openai_events(flavor, model, a, body, step, n_pieces):
    base = {"id": f"chatcmpl-fake{a.n:06d}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "system_fingerprint": "fp_fake"}
    with_usage = include_usage(body)
    so = body.get("stream_options")
    obfuscate = flavor == "openai" and not (isinstance(so, dict) and so.get("include_obfuscation") is False)

    def chunk(delta, finish=None, choices=True):
        c = dict(base)
        c["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else []
        if with_usage:
            c["usage"] = None
        if obfuscate:
            c["obfuscation"] = "fakeobf"
        return c

    evs = []
    if a.tool_calls:
        for i, call in enumerate(a.tool_calls):
            head = {"index": i, "id": call["id"], "type": "function",
                    "function": {"name": call["name"], "arguments": ""}}
            if i == 0:  # the real API merges the role into the first tool call fragment
                evs.append(Ev(None, chunk({"role": "assistant", "content": None, "tool_calls": [head],
                                           "refusal": None}), "pre"))
            else:
                evs.append(Ev(None, chunk({"tool_calls": [head]}), "hdr"))
            for p in pieces(compact(call["arguments"]), n_pieces):
                evs.append(Ev(None, chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]}), "content"))
    elif a.refusal is not None:
        evs.append(Ev(None, chunk({"role": "assistant", "content": None, "refusal": ""}), "pre"))
        evs += [Ev(None, chunk({"refusal": p}), "content") for p in pieces(a.refusal, n_pieces)]
    else:
        evs.append(Ev(None, chunk({"role": "assistant", "content": "", "refusal": None}), "pre"))
        evs += [Ev(None, chunk({"content": p}), "content") for p in pieces(a.text or "", n_pieces)]
    evs.append(Ev(None, chunk({}, OPENAI_FINISH[a.finish]), "fin", final=True))
    if with_usage:
        u = chunk(None, choices=False)
        u["usage"] = usage_openai(flavor, a.usage)
        evs.append(Ev(None, u, "usage"))
    evs.append(Ev(None, "[DONE]", "done"))
    return evs


def _anthropic_events(model, a, n_pieces):
    u = a.usage
    start = {"type": "message_start", "message": {
        "id": f"msg_fake{a.n:06d}", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": anthropic_input(u), "cache_creation_input_tokens": u.cache_write,
                  "cache_read_input_tokens": u.cached, "output_tokens": 1}}}
    evs = [Ev("message_start", start, "pre")]
    blocks = []
    if a.text is not None and (a.text or a.kind == "ok"):
        blocks.append(({"type": "text", "text": ""}, "text_delta", "text", pieces(a.text, n_pieces)))
    for c in a.tool_calls:
        blocks.append(({"type": "tool_use", "id": c["id"], "name": c["name"], "input": {}}, "input_json_delta",
                       "partial_json", pieces(compact(c["arguments"]), n_pieces)))
    for idx, (cb, dtype, field, ps) in enumerate(blocks):
        role = "pre" if idx == 0 else "hdr"
        evs.append(Ev("content_block_start", {"type": "content_block_start", "index": idx, "content_block": cb}, role))
        if idx == 0:
            evs.append(Ev("ping", {"type": "ping"}, "pre"))
        for p in ps:
            evs.append(Ev("content_block_delta",
                          {"type": "content_block_delta", "index": idx, "delta": {"type": dtype, field: p}},
                          "content"))
        evs.append(Ev("content_block_stop", {"type": "content_block_stop", "index": idx}, "hdr"))
    if not blocks:
        evs.append(Ev("ping", {"type": "ping"}, "pre"))
    evs.append(Ev("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": ANTHROPIC_STOP[a.finish], "stop_sequence": None},
                                    "usage": {"output_tokens": output_tokens(u)}}, "fin", final=True))
    evs.append(Ev("message_stop", {"type": "message_stop"}, "done"))
    return evs


def _gemini_events(model, a, n_pieces):
    rid = f"fake{a.n:06d}"

    def resp(cand, usage):
        return {"candidates": [cand], "usageMetadata": usage, "modelVersion": model, "responseId": rid}

    if a.finish == "blocked":
        return [Ev(None, {"promptFeedback": PROMPT_FEEDBACK, "usageMetadata": usage_gemini(a.usage),
                          "modelVersion": model, "responseId": rid}, "content", final=True)]
    ps = pieces(a.text or "", n_pieces) if not a.tool_calls else []
    if len(ps) <= 1:  # one chunk: the whole answer (tool calls arrive whole, never in fragments)
        return [Ev(None, resp(gemini_candidate(a, gemini_final_parts(a)), usage_gemini(a.usage)), "content",
                   final=True)]
    evs, words = [], 0
    total = a.usage.out if a.usage.out is not None else a.usage.visible
    for i, p in enumerate(ps):
        last = i == len(ps) - 1
        words = total if last else min(total, words + max(1, len(p.split())))
        cand = gemini_candidate(a, [{"text": p}], finish=last)
        evs.append(Ev(None, resp(cand, usage_gemini(a.usage, candidates=words)), "content", final=last))
    return evs


def stream_events(flavor, model, a, body, step) -> list[Ev]:
    n_pieces = step.get("chunks", DEFAULT_PIECES)
    if flavor in ("openai", "compat"):
        return _openai_events(flavor, model, a, body, step, n_pieces)
    if flavor == "anthropic":
        return _anthropic_events(model, a, n_pieces)
    return _gemini_events(model, a, n_pieces)


# --------------------------------------------------------------------------- faults


def _bad(ev, flavor) -> Ev:
    """A truncated copy of `ev`: a data line that is not JSON."""
    t = ev.text(flavor)
    return Ev(ev.name, t[: max(1, len(t) // 2)], "bad")


def _error_event(flavor) -> Ev:
    if flavor in ("openai", "compat"):
        return Ev(None, OPENAI_STREAM_ERROR, "error")
    if flavor == "anthropic":
        return Ev("error", ANTHROPIC_STREAM_ERROR, "error")
    return Ev(None, GEMINI_STREAM_ERROR, "error")


def plan_stream(flavor, kind, step, events):
    """(actions, ending) for stream kind `kind`: actions are Ev or ("wait", seconds); ending is done, no_done,
    cut, stall or error_event. Cut points never include the finishing event (nor anything after it)."""
    limit = next(i for i, e in enumerate(events) if e.final or e.role in ("fin", "usage", "done"))
    contents = [i for i, e in enumerate(events[:limit]) if e.role == "content"]
    first = contents[0] if contents else limit

    def cut_index(k):
        k = min(k, len(contents))
        return contents[k - 1] + 1 if k else first

    evs = list(events)
    if kind in ("stream_cut", "stream_stall", "stream_error_event"):
        k = step.get("after_chunks", 0 if kind == "stream_error_event" else DEFAULT_AFTER_CHUNKS)
        sent = evs[:cut_index(k)]
        if kind == "stream_error_event":
            return sent + [_error_event(flavor)], "error_event"
        return sent, ("cut" if kind == "stream_cut" else "stall")
    if kind == "stream_malformed":
        if step.get("position", "first") == "first":
            evs[first] = _bad(evs[first], flavor)
        else:
            at = first + 1 if contents else first
            evs.insert(at, _bad(evs[first], flavor))
        return evs, "done"
    if kind == "stream_no_done" and flavor in ("openai", "compat"):
        return [e for e in evs if e.role != "done"], "no_done"
    if kind == "stream_slow_first":
        return evs[:first] + [("wait", step["ms"] / 1000.0)] + evs[first:], "done"
    return evs, "done"


# --------------------------------------------------------------------------- framing


def _split_json(text):
    """`text` split after its first top-level comma (so the parts join with "\\n" into the same JSON)."""
    depth, in_str, esc = 0, False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 1:
            return [text[: i + 1], text[i + 1:]]
    return [text]


def eol_for(flavor, opts) -> str:
    """Line ending: Gemini's real streams use CRLF, the others LF; `sse` crlf / lf force one."""
    if "crlf" in opts:
        return "\r\n"
    if "lf" in opts:
        return "\n"
    return "\r\n" if flavor == "gemini" else "\n"


def render_event(flavor, ev, opts) -> bytes:
    eol = eol_for(flavor, opts)
    lines = []
    if "comments" in opts:
        lines += [": keep-alive", ""]
    if ev.name:
        lines.append(f"event: {ev.name}")
    text = ev.text(flavor)
    parts = _split_json(text) if "multiline" in opts and not isinstance(ev.data, str) else [text]
    lines += ["data: " + p for p in parts]
    return (eol.join(lines) + eol + eol).encode()


def json_array(flavor, events) -> bytes:
    """Gemini :streamGenerateContent without alt=sse: the chunks as one JSON array."""
    return ("[" + ",\r\n".join(e.text(flavor) for e in events if e.role not in ("done",)) + "]").encode()
