"""OpenAI / OpenAI-compatible answers of the fake providers for the scripted step kinds."""

from __future__ import annotations

import time

from fakes_common import Reply, _fmt_seconds, _openai_error, _retry_after, mask_key


class OpenAIKindsMixin:
    """Handler method for OpenAI-flavored script kinds (mixed into fakes_server.Handler)."""

    def _openai_kind(self, flavor, kind, model, entry, inp, step) -> Reply:
        n = self.state.next_id()
        hdrs = {"x-request-id": f"req_fake{n:06d}"}
        if kind == "rate_limited":
            step_ra = _retry_after(step)
            ra = _fmt_seconds(step_ra)
            hdrs.update(
                {
                    "retry-after": ra,
                    "retry-after-ms": str(int(step_ra * 1000)),
                    "x-ratelimit-limit-requests": "500",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{ra}s",
                }
            )
            return Reply(
                429,
                _openai_error(
                    f"Rate limit reached for {model} in organization org-fake on requests per min (RPM): Limit 500, "
                    f"Used 500, Requested 1. Please try again in {ra}s. Visit "
                    "https://platform.openai.com/account/rate-limits to learn more.",
                    "requests",
                    "rate_limit_exceeded",
                ),
                hdrs,
            )
        if kind == "server_error":
            return Reply(
                500,
                _openai_error(
                    "The server had an error while processing your request. Sorry about that!", "server_error", None
                ),
                hdrs,
            )
        if kind in ("unavailable", "overloaded"):
            if "retry_after" in step:  # a 503 that says when to come back (only when the step asks)
                hdrs["retry-after"] = _fmt_seconds(_retry_after(step))
            return Reply(
                503,
                _openai_error("The engine is currently overloaded, please try again later.", "server_error", None),
                hdrs,
            )
        if kind in ("auth", "invalid_key"):
            key = entry["headers"].get("authorization", "")[7:].strip()
            return Reply(
                401,
                _openai_error(
                    f"Incorrect API key provided: {mask_key(key)}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
                hdrs,
            )
        if kind in ("forbidden", "suspended"):
            return Reply(
                403,
                _openai_error(
                    "Country, region, or territory not supported", "request_forbidden",
                    "unsupported_country_region_territory",
                ),
                hdrs,
            )
        if kind == "bad_request":
            return Reply(
                400,
                _openai_error(
                    "Invalid type for 'temperature': expected a decimal, but got a string instead.",
                    "invalid_request_error", "invalid_type", "temperature",
                ),
                hdrs,
            )
        if kind == "not_found":
            return Reply(
                404,
                _openai_error(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error", "model_not_found",
                ),
                hdrs,
            )
        if kind == "context_length":
            return Reply(
                400,
                _openai_error(
                    "This model's maximum context length is 128000 tokens. However, your messages resulted in "
                    "130412 tokens. Please reduce the length of the messages.",
                    "invalid_request_error", "context_length_exceeded", "messages",
                ),
                hdrs,
            )
        if kind == "content_filter":
            if flavor == "compat":  # Azure OpenAI style
                return Reply(
                    400,
                    {
                        "error": {
                            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                            "management policy. Please modify your prompt and retry.",
                            "type": None,
                            "param": "prompt",
                            "code": "content_filter",
                            "status": 400,
                            "innererror": {
                                "code": "ResponsibleAIPolicyViolation",
                                "content_filter_result": {
                                    "hate": {"filtered": False, "severity": "safe"},
                                    "violence": {"filtered": True, "severity": "high"},
                                },
                            },
                        }
                    },
                    hdrs,
                )
            return Reply(
                400,
                _openai_error(
                    "Your request was rejected as a result of our safety system. Your prompt may contain text that "
                    "is not allowed by our safety system.",
                    "invalid_request_error", "content_policy_violation",
                ),
                hdrs,
            )
        if kind == "safety_stop":
            return Reply(
                200,
                {
                    "id": f"chatcmpl-fake{n:06d}", "object": "chat.completion", "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": None},
                                 "finish_reason": "content_filter"}],
                    "usage": {"prompt_tokens": inp, "completion_tokens": 0, "total_tokens": inp},
                },
                hdrs,
            )
        if kind == "empty":
            return Reply(
                200,
                {
                    "id": f"chatcmpl-fake{n:06d}", "object": "chat.completion", "created": int(time.time()),
                    "model": model, "choices": [],
                    "usage": {"prompt_tokens": inp, "completion_tokens": 0, "total_tokens": inp},
                },
                hdrs,
            )
        if kind == "error_in_200":
            return Reply(200, _openai_error("upstream model crashed", "server_error", None), hdrs)
        raise AssertionError(f"unhandled kind {kind}")
