"""What a fake model answers, before it is put on the wire (see fake_providers.py).

build_answer() turns an answering step (ok, tool_call, json, refusal, length, safety_stop, empty, ...) into a
flavor-neutral Answer; fakes_render.py writes it as one JSON body, fakes_sse.py as an SSE stream.
Also: what a request carries that the answers depend on (tools, tool_choice, output cap, trailing assistant turn).
"""

from __future__ import annotations

import json

from fakes_common import word_count

DEFAULT_TOOL = "lookup"
DEFAULT_JSON = {"ok": True}
DEFAULT_REFUSAL = "I'm sorry, but I can't help with that."
DEFAULT_CAP = 16  # output cap assumed by `length` when the request sets none
DEFAULT_REASONING = 64  # reasoning tokens of a `reasoning_model` answer (OpenAI/compat)


def compact(obj) -> str:
    """JSON as models and OpenAI write it in arguments: no spaces."""
    return json.dumps(obj, separators=(",", ":"))


# --------------------------------------------------------------------------- what the request carries


def request_tools(flavor, body) -> list[str]:
    """Names of the function tools the request declares, in order."""
    names = []
    tools = body.get("tools")
    if not isinstance(tools, list):
        return names
    for t in tools:
        if not isinstance(t, dict):
            continue
        if flavor in ("openai", "compat"):
            fn = t.get("function") if isinstance(t.get("function"), dict) else t.get("custom")
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                names.append(fn["name"])
        elif flavor == "anthropic":
            if isinstance(t.get("name"), str):
                names.append(t["name"])
        elif flavor == "gemini":
            decls = t.get("functionDeclarations", t.get("function_declarations"))
            if isinstance(decls, list):
                names += [d["name"] for d in decls if isinstance(d, dict) and isinstance(d.get("name"), str)]
    return names


def forced_tool(flavor, body) -> str | None:
    """The tool the request forces through tool_choice / toolConfig, if it names one."""
    tc = body.get("tool_choice")
    if flavor in ("openai", "compat") and isinstance(tc, dict):
        fn = tc.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return fn["name"]
    if flavor == "anthropic" and isinstance(tc, dict) and tc.get("type") == "tool" and isinstance(tc.get("name"), str):
        return tc["name"]
    if flavor == "gemini":
        cfg = body.get("toolConfig", body.get("tool_config"))
        fcc = cfg.get("functionCallingConfig", cfg.get("function_calling_config")) if isinstance(cfg, dict) else None
        names = fcc.get("allowedFunctionNames", fcc.get("allowed_function_names")) if isinstance(fcc, dict) else None
        if isinstance(names, list) and len(names) == 1 and isinstance(names[0], str):
            return names[0]
    return None


def output_cap(flavor, body) -> int:
    """The request's output-token cap (max_completion_tokens / max_tokens / maxOutputTokens), else DEFAULT_CAP."""
    if flavor in ("openai", "compat"):
        cands = [body.get("max_completion_tokens"), body.get("max_tokens")]
    elif flavor == "anthropic":
        cands = [body.get("max_tokens")]
    else:
        gc = body.get("generationConfig", body.get("generation_config"))
        gc = gc if isinstance(gc, dict) else {}
        cands = [gc.get("maxOutputTokens"), gc.get("max_output_tokens")]
    for c in cands:
        if isinstance(c, int) and not isinstance(c, bool) and c > 0:
            return c
    return DEFAULT_CAP


def last_is_assistant(flavor, body) -> bool:
    """True when the conversation ends with the model's own turn (an assistant prefill)."""
    key = "contents" if flavor == "gemini" else "messages"
    msgs = body.get(key)
    if not isinstance(msgs, list) or not msgs or not isinstance(msgs[-1], dict):
        return False
    return msgs[-1].get("role") == ("model" if flavor == "gemini" else "assistant")


def wants_stream(flavor, body, route_stream, query) -> bool:
    """Streaming detection: OpenAI/compat/Anthropic body "stream": true; Gemini the
    :streamGenerateContent route with ?alt=sse."""
    if flavor == "gemini":
        return bool(route_stream) and "sse" in query.get("alt", [])
    return isinstance(body, dict) and body.get("stream") is True


def include_usage(body) -> bool:
    so = body.get("stream_options")
    return isinstance(so, dict) and so.get("include_usage") is True


# --------------------------------------------------------------------------- the answer


class Usage:
    """Neutral token counts; fakes_render.usage_* put them in each flavor's fields.

    prompt = every input token (cached ones included); visible = tokens of the text/arguments produced;
    out = the explicit `output_tokens` (the flavor's output field as-is) or None; inp_explicit = `input_tokens`
    was given (Anthropic then reports it as-is instead of prompt - cached - cache_write).
    """

    def __init__(self, prompt, visible, out=None, inp_explicit=False, cached=0, cache_write=0, reasoning=0):
        self.prompt = prompt
        self.visible = visible
        self.out = out
        self.inp_explicit = inp_explicit
        self.cached = cached
        self.cache_write = cache_write
        self.reasoning = reasoning


class Answer:
    """A 200 answer. finish: stop | tool_calls | length | refusal | safety | blocked (Gemini promptFeedback)."""

    def __init__(self, kind, n, finish, usage, text=None, refusal=None, tool_calls=()):
        self.kind = kind  # the answering kind (ok, tool_call, json, refusal, length, safety_stop, empty, ...)
        self.n = n  # the id counter of this answer (ids, request ids)
        self.finish = finish
        self.usage = usage
        self.text = text  # visible text, None when the answer has none
        self.refusal = refusal  # OpenAI message.refusal
        self.tool_calls = list(tool_calls)  # [{"id", "name", "arguments": dict}]


def _tool_name(flavor, body, step) -> str:
    if isinstance(step.get("name"), str):
        return step["name"]
    forced = forced_tool(flavor, body)
    if forced:
        return forced
    names = request_tools(flavor, body)
    return names[0] if names else DEFAULT_TOOL


def build_answer(flavor, kind, model, body, step, n, next_id, words, default_text) -> Answer:
    """The Answer of answering `kind` (ok, tool_call, json, refusal, length, reasoning_model, reject_prefill,
    safety_stop, empty, content_filter [Gemini]). next_id() numbers tool call ids; default_text is ok's content."""
    prompt = step["input_tokens"] if isinstance(step.get("input_tokens"), int) else max(1, words)
    cached = step.get("cached_tokens", 0)
    reasoning = step.get("reasoning_tokens", 0)

    def usage(visible, reasoning=reasoning):
        return Usage(prompt, visible, step.get("output_tokens"), "input_tokens" in step, cached,
                     step.get("cache_write_tokens", 0), reasoning)

    if kind in ("ok", "reasoning_model", "reject_prefill"):
        content = step.get("content")
        if not isinstance(content, str):
            content = default_text
        if kind == "reasoning_model" and flavor in ("openai", "compat") and "reasoning_tokens" not in step:
            reasoning = DEFAULT_REASONING
        return Answer("ok", n, "stop", usage(max(1, word_count(content)), reasoning), text=content)
    if kind == "tool_call":
        name = _tool_name(flavor, body, step)
        args = step.get("arguments", {})
        calls = []
        for _ in range(step.get("count", 1)):
            cid = next_id()
            calls.append({"id": f"toolu_fake{cid:06d}" if flavor == "anthropic" else f"call_fake{cid:06d}",
                          "name": name, "arguments": args})
        vis = max(1, word_count(compact(args))) * len(calls)
        return Answer(kind, n, "tool_calls", usage(vis), tool_calls=calls)
    if kind == "json":
        value = step.get("value", DEFAULT_JSON)
        text = compact(value)
        forced = forced_tool(flavor, body) if flavor == "anthropic" else None
        if forced:
            cid = next_id()
            call = {"id": f"toolu_fake{cid:06d}", "name": forced, "arguments": value}
            return Answer(kind, n, "tool_calls", usage(max(1, word_count(text))), tool_calls=[call])
        return Answer(kind, n, "stop", usage(max(1, word_count(text))), text=text)
    if kind == "refusal":
        text = step.get("text", DEFAULT_REFUSAL)
        return Answer(kind, n, "refusal", usage(max(1, word_count(text))), refusal=text)
    if kind == "length":
        content = step.get("content", "")
        cap = output_cap(flavor, body)
        if content:
            return Answer(kind, n, "length", usage(cap), text=content)
        r = step.get("reasoning_tokens", cap)
        return Answer(kind, n, "length", usage(0, r), text="")
    if kind == "safety_stop":
        return Answer(kind, n, "safety", usage(0))
    if kind == "empty":
        return Answer(kind, n, "stop", usage(0))
    if kind == "content_filter":  # Gemini only: a 200 whose prompt was blocked
        return Answer(kind, n, "blocked", usage(0))
    raise AssertionError(f"not an answering kind: {kind}")
