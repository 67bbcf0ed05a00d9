"""Anthropic answers of the fake providers for the scripted step kinds."""

from __future__ import annotations

import time

from fakes_common import Reply, _anthropic_error, _fmt_seconds, _retry_after


class AnthropicKindsMixin:
    """Handler method for Anthropic-flavored script kinds (mixed into fakes_server.Handler)."""

    def _anthropic_kind(self, kind, model, inp, step) -> Reply:
        rid = self._req_id()
        hdrs = {"request-id": rid}

        def err(status, t, msg, extra=None):
            h = dict(hdrs)
            h.update(extra or {})
            return Reply(status, _anthropic_error(t, msg, rid), h)

        if kind == "rate_limited":
            ra_s = _retry_after(step)
            ra = _fmt_seconds(ra_s)
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ra_s))
            return err(
                429, "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit "
                "(https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. "
                "Please reduce the prompt length or the maximum tokens requested, or try again later.",
                {
                    "retry-after": ra,
                    "anthropic-ratelimit-requests-limit": "50",
                    "anthropic-ratelimit-requests-remaining": "0",
                    "anthropic-ratelimit-requests-reset": reset,
                },
            )
        if kind == "server_error":
            return err(500, "api_error", "Internal server error")
        # a 503/529 that says when to come back, only when the step asks (param retry_after)
        later = {"retry-after": _fmt_seconds(_retry_after(step))} if "retry_after" in step else None
        if kind == "unavailable":
            return err(503, "api_error", "Service unavailable", later)
        if kind == "overloaded":
            return err(529, "overloaded_error", "Overloaded", later)
        if kind in ("auth", "invalid_key"):
            return err(401, "authentication_error", "invalid x-api-key")
        if kind in ("forbidden", "suspended"):
            return err(403, "permission_error", "Your API key does not have permission to use the specified resource.")
        if kind == "bad_request":
            return err(400, "invalid_request_error", "messages: text content blocks must be non-empty")
        if kind == "not_found":
            return err(404, "not_found_error", f"model: {model}")
        if kind == "context_length":
            return err(400, "invalid_request_error", "prompt is too long: 215342 tokens > 200000 maximum")
        if kind == "content_filter":
            return err(400, "invalid_request_error", "Output blocked by content filtering policy")
        usage = {"input_tokens": inp, "output_tokens": 0}
        if kind == "safety_stop":
            return Reply(
                200,
                {"id": f"msg_{rid}", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": "refusal", "stop_sequence": None, "usage": usage},
                hdrs,
            )
        if kind == "empty":
            return Reply(
                200,
                {"id": f"msg_{rid}", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": "end_turn", "stop_sequence": None, "usage": usage},
                hdrs,
            )
        if kind == "error_in_200":
            return Reply(200, _anthropic_error("api_error", "upstream model crashed", rid), hdrs)
        raise AssertionError(f"unhandled kind {kind}")
