"""Error answers added with tools/streaming: insufficient_quota, unsupported_parameter, the checks of
reasoning_model (OpenAI o-series parameter rules) and reject_prefill (no trailing assistant turn)."""

from __future__ import annotations

import json

from fakes_answers import last_is_assistant
from fakes_common import GEMINI_JSON_CT as GEMINI_CT, Reply, _anthropic_error, _gemini_error, _openai_error


OPENAI_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more information on this "
    "error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
ANTHROPIC_CREDIT = (
    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
    "purchase credits."
)
GEMINI_LOCATION = "User location is not supported for the API use."
OPENAI_MAX_TOKENS = (
    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
)
PREFILL_OPENAI = (
    "Invalid 'messages': the last message must have role 'user' or 'tool'; this model does not support assistant "
    "message prefill."
)
PREFILL_ANTHROPIC = (
    "This model does not support assistant message prefill. The conversation must end with a user message."
)
PREFILL_GEMINI = "Please ensure that the last content has role user: this model does not support model prefill."


class ExtraErrorsMixin:
    """Handler methods for the error kinds of fakes_errors (mixed into fakes_server.Handler)."""

    def _oa_hdrs(self):
        return {"x-request-id": self._req_id()}

    def _extra_error(self, flavor, kind, model, body, step, entry):
        """The Reply of error kind `kind` (insufficient_quota, unsupported_parameter), else None."""
        if kind == "insufficient_quota":
            if flavor in ("openai", "compat"):
                return Reply(429, _openai_error(OPENAI_QUOTA, "insufficient_quota", "insufficient_quota"),
                             self._oa_hdrs())
            if flavor == "anthropic":
                rid = self._req_id()
                return Reply(400, _anthropic_error("invalid_request_error", ANTHROPIC_CREDIT, rid), {"request-id": rid})
            return Reply(400, _gemini_error(400, "FAILED_PRECONDITION", GEMINI_LOCATION), content_type=GEMINI_CT)
        if kind == "unsupported_parameter":
            if flavor in ("openai", "compat"):
                return self._unsupported_max_tokens()
            return self._kind_reply(flavor, "bad_request", model, body, step, entry)
        return None

    def _unsupported_max_tokens(self):
        return Reply(400, {"error": {"message": OPENAI_MAX_TOKENS, "type": "invalid_request_error",
                                     "param": "max_tokens", "code": "unsupported_parameter"}}, self._oa_hdrs())

    def _reasoning_check(self, flavor, body):
        """What an o-series model rejects (OpenAI/compat only): max_tokens, a temperature other than 1."""
        if flavor not in ("openai", "compat"):
            return None
        if "max_tokens" in body:
            return self._unsupported_max_tokens()
        t = body.get("temperature")
        if t is not None and t != 1:
            shown = json.dumps(t)
            return Reply(
                400,
                {"error": {"message": f"Unsupported value: 'temperature' does not support {shown} with this model. "
                                      "Only the default (1) value is supported.",
                           "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}},
                self._oa_hdrs(),
            )
        return None

    def _prefill_check(self, flavor, body):
        """400 when the conversation ends with the assistant's (model's) own turn."""
        if not last_is_assistant(flavor, body):
            return None
        if flavor in ("openai", "compat"):
            return Reply(400, _openai_error(PREFILL_OPENAI, "invalid_request_error", "invalid_value", "messages"),
                         self._oa_hdrs())
        if flavor == "anthropic":
            rid = self._req_id()
            return Reply(400, _anthropic_error("invalid_request_error", PREFILL_ANTHROPIC, rid), {"request-id": rid})
        return Reply(400, _gemini_error(400, "INVALID_ARGUMENT", PREFILL_GEMINI), content_type=GEMINI_CT)
