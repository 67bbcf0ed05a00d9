"""Answers (fakes_answers.Answer) as each provider's JSON: usage blocks, messages/content/candidates, whole bodies.

Shared by the non-streaming bodies (render_reply) and the SSE streams (fakes_sse.py).
"""

from __future__ import annotations

import time

from fakes_answers import compact
from fakes_common import GEMINI_JSON_CT as GEMINI_CT, Reply

OPENAI_FINISH = {"stop": "stop", "tool_calls": "tool_calls", "length": "length", "refusal": "stop",
                 "safety": "content_filter"}
ANTHROPIC_STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "refusal": "refusal",
                  "safety": "refusal"}
GEMINI_FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS", "refusal": "SAFETY",
                 "safety": "SAFETY"}
SAFETY_RATINGS = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
PROMPT_FEEDBACK = {
    "blockReason": "SAFETY",
    "safetyRatings": [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    ],
}


# --------------------------------------------------------------------------- usage


def output_tokens(u) -> int:
    """OpenAI completion_tokens / Anthropic output_tokens: visible + reasoning unless given explicitly."""
    return u.out if u.out is not None else u.visible + u.reasoning


def usage_openai(flavor, u) -> dict:
    out = output_tokens(u)
    d = {"prompt_tokens": u.prompt, "completion_tokens": out, "total_tokens": u.prompt + out}
    if flavor == "openai" or u.cached:
        d["prompt_tokens_details"] = {"cached_tokens": u.cached, "audio_tokens": 0}
    if flavor == "openai" or u.reasoning:
        d["completion_tokens_details"] = {"reasoning_tokens": u.reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    return d


def anthropic_input(u) -> int:
    """Anthropic input_tokens exclude the cache reads and writes (unless input_tokens was given)."""
    return u.prompt if u.inp_explicit else max(0, u.prompt - u.cached - u.cache_write)


def usage_anthropic(u) -> dict:
    return {"input_tokens": anthropic_input(u), "output_tokens": output_tokens(u),
            "cache_creation_input_tokens": u.cache_write, "cache_read_input_tokens": u.cached}


def usage_gemini(u, candidates=None) -> dict:
    """usageMetadata; `candidates` overrides candidatesTokenCount (partial counts of a stream)."""
    cand = (u.out if u.out is not None else u.visible) if candidates is None else candidates
    d = {"promptTokenCount": u.prompt}
    if cand:
        d["candidatesTokenCount"] = cand
    d["totalTokenCount"] = u.prompt + cand + u.reasoning
    if u.cached:
        d["cachedContentTokenCount"] = u.cached
    d["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": u.prompt}]
    if u.cached:
        d["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": u.cached}]
    if u.reasoning:
        d["thoughtsTokenCount"] = u.reasoning
    return d


# --------------------------------------------------------------------------- pieces


def openai_tool_calls(a) -> list[dict]:
    return [{"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": compact(c["arguments"])}}
            for c in a.tool_calls]


def openai_message(a) -> dict:
    content = a.text
    if content is None and a.finish == "length":
        content = ""
    msg = {"role": "assistant", "content": content, "refusal": a.refusal}
    if a.tool_calls:
        msg["tool_calls"] = openai_tool_calls(a)
    return msg


def anthropic_blocks(a) -> list[dict]:
    blocks = []
    if a.text is not None and (a.text or a.kind == "ok"):
        blocks.append({"type": "text", "text": a.text})
    for c in a.tool_calls:
        blocks.append({"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"]})
    return blocks


def gemini_parts(a) -> list[dict]:
    parts = []
    if a.text is not None and (a.text or a.kind == "ok"):
        parts.append({"text": a.text})
    for c in a.tool_calls:
        parts.append({"functionCall": {"name": c["name"], "args": c["arguments"]}})
    return parts


def gemini_candidate(a, parts, finish=True) -> dict:
    """One candidate with `parts` (None: no content at all, as in SAFETY stops)."""
    cand = {}
    if parts is not None:
        cand["content"] = {"parts": parts, "role": "model"} if parts else {"role": "model"}
    if finish:
        cand["finishReason"] = GEMINI_FINISH[a.finish]
    cand["index"] = 0
    if finish and a.finish in ("refusal", "safety"):
        cand["safetyRatings"] = SAFETY_RATINGS
    return cand


def gemini_final_parts(a):
    return None if a.finish in ("refusal", "safety") else gemini_parts(a)


# --------------------------------------------------------------------------- whole bodies


def openai_headers(a) -> dict:
    return {"x-request-id": f"req_fake{a.n:06d}", "openai-processing-ms": "1"}


def render_reply(flavor, model, a) -> Reply:
    """The non-streaming 200 of answer `a`."""
    if flavor in ("openai", "compat"):
        body = {
            "id": f"chatcmpl-fake{a.n:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": openai_message(a), "logprobs": None, "finish_reason": OPENAI_FINISH[a.finish]}
            ],
            "usage": usage_openai(flavor, a.usage),
            "system_fingerprint": "fp_fake",
        }
        return Reply(200, body, openai_headers(a))
    if flavor == "anthropic":
        body = {
            "id": f"msg_fake{a.n:06d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": anthropic_blocks(a),
            "stop_reason": ANTHROPIC_STOP[a.finish],
            "stop_sequence": None,
            "usage": usage_anthropic(a.usage),
        }
        return Reply(200, body, {"request-id": f"req_fake{a.n:06d}"})
    if a.finish == "blocked":
        body = {"promptFeedback": PROMPT_FEEDBACK, "usageMetadata": usage_gemini(a.usage), "modelVersion": model,
                "responseId": f"fake{a.n:06d}"}
        return Reply(200, body, content_type=GEMINI_CT)
    body = {
        "candidates": [gemini_candidate(a, gemini_final_parts(a))],
        "usageMetadata": usage_gemini(a.usage),
        "modelVersion": model,
        "responseId": f"fake{a.n:06d}",
    }
    return Reply(200, body, content_type=GEMINI_CT)
