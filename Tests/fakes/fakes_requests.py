"""Request checks of the fake providers: auth presence and the validation the real APIs do."""

from __future__ import annotations

from fakes_common import Reply, _anthropic_error, _gemini_error, _openai_error


class RequestChecksMixin:
    """Handler methods that reject requests a real provider would reject (mixed into fakes_server.Handler)."""

    # ---- auth presence (values are not checked; tests read them from /_control/requests)

    def _check_auth(self, flavor, entry):
        h = entry["headers"]
        if flavor == "openai":
            a = h.get("authorization", "")
            if not a.startswith("Bearer ") or not a[7:].strip():
                return Reply(
                    401,
                    _openai_error(
                        "You didn't provide an API key. You need to provide your API key in an Authorization header "
                        "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
                        "username) if you're accessing the API from your browser and are prompted for a username and "
                        "password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
                        "invalid_request_error",
                        None,
                    ),
                )
        elif flavor == "anthropic":
            if not h.get("x-api-key", "").strip():
                rid = self._req_id()
                return Reply(
                    401,
                    _anthropic_error("authentication_error", "x-api-key header is required", rid),
                    {"request-id": rid},
                )
        elif flavor == "gemini":
            if not h.get("x-goog-api-key", "").strip() and not entry["query"].get("key"):
                return Reply(
                    403,
                    _gemini_error(
                        403,
                        "PERMISSION_DENIED",
                        "Method doesn't allow unregistered callers (callers without established identity). "
                        "Please use API Key or other form of API consumer identity to call this API.",
                    ),
                    content_type="application/json; charset=UTF-8",
                )
        return None  # compat: local servers often need no key

    # ---- request validation (the real APIs reject these)

    def _validate(self, flavor, body, entry):
        if flavor in ("openai", "compat"):
            if not isinstance(body.get("model"), str) or not body["model"]:
                return Reply(400, _openai_error("you must provide a model parameter", "invalid_request_error", None))
            msgs = body.get("messages")
            if not isinstance(msgs, list):
                return Reply(
                    400,
                    _openai_error(
                        "Missing required parameter: 'messages'.", "invalid_request_error",
                        "missing_required_parameter", "messages",
                    ),
                )
            if not msgs:
                return Reply(
                    400,
                    _openai_error(
                        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
                        "array instead.", "invalid_request_error", "empty_array", "messages",
                    ),
                )
            for i, m in enumerate(msgs):
                role = m.get("role") if isinstance(m, dict) else None
                if role not in ("system", "developer", "user", "assistant", "tool", "function"):
                    return Reply(
                        400,
                        _openai_error(
                            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                            "'function', 'tool', and 'developer'.",
                            "invalid_request_error", "invalid_value", f"messages[{i}].role",
                        ),
                    )
            return None
        if flavor == "anthropic":
            rid = self._req_id()
            if not entry["headers"].get("anthropic-version"):
                return Reply(
                    400, _anthropic_error("invalid_request_error", "anthropic-version: header is required", rid),
                    {"request-id": rid},
                )
            if not isinstance(body.get("model"), str) or not body["model"]:
                return Reply(400, _anthropic_error("invalid_request_error", "model: Field required", rid),
                             {"request-id": rid})
            mt = body.get("max_tokens")
            if mt is None:
                return Reply(400, _anthropic_error("invalid_request_error", "max_tokens: Field required", rid),
                             {"request-id": rid})
            if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
                return Reply(
                    400,
                    _anthropic_error("invalid_request_error", "max_tokens: Input should be a valid integer", rid),
                    {"request-id": rid},
                )
            msgs = body.get("messages")
            if not isinstance(msgs, list) or not msgs:
                return Reply(
                    400,
                    _anthropic_error("invalid_request_error", "messages: at least one message is required", rid),
                    {"request-id": rid},
                )
            for i, m in enumerate(msgs):
                role = m.get("role") if isinstance(m, dict) else None
                if role == "system":
                    return Reply(
                        400,
                        _anthropic_error(
                            "invalid_request_error",
                            'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                            'parameter, not "system" as an input message role.',
                            rid,
                        ),
                        {"request-id": rid},
                    )
                if role not in ("user", "assistant"):
                    return Reply(
                        400,
                        _anthropic_error(
                            "invalid_request_error", f"messages.{i}.role: Input should be 'user' or 'assistant'", rid
                        ),
                        {"request-id": rid},
                    )
            return None
        if flavor == "gemini":
            contents = body.get("contents")
            if not isinstance(contents, list) or not contents:
                return Reply(
                    400,
                    _gemini_error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"),
                    content_type="application/json; charset=UTF-8",
                )
            for i, c in enumerate(contents):
                if not isinstance(c, dict):
                    return Reply(400, _gemini_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."),
                                 content_type="application/json; charset=UTF-8")
                role = c.get("role")
                if role is not None and role not in ("user", "model"):
                    return Reply(
                        400, _gemini_error(400, "INVALID_ARGUMENT", "Please use a valid role: user, model."),
                        content_type="application/json; charset=UTF-8",
                    )
                parts = c.get("parts")
                if not isinstance(parts, list) or not parts:
                    return Reply(
                        400,
                        _gemini_error(
                            400, "INVALID_ARGUMENT",
                            f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n",
                        ),
                        content_type="application/json; charset=UTF-8",
                    )
            return None
        return None
