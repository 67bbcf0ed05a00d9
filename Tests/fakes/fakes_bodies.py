"""Answer bodies of the fake providers: conversation counts, protocol errors and the error-kind dispatch
(ok and the other answering kinds: fakes_answers.py, fakes_render.py)."""

from __future__ import annotations

from fakes_common import (
    _GATEWAY_HTML,
    Reply,
    _anthropic_error,
    _gemini_error,
    _openai_error,
    _parts_text,
    _text_of,
    word_count,
)


class BodiesMixin:
    """Handler methods that build answers (mixed into fakes_server.Handler)."""

    # ---- bodies

    def _req_id(self) -> str:
        return f"req_fake{self.state.next_id():06d}"

    @staticmethod
    def _conversation(flavor, body):
        """(all text words, last user text) of a validated request body."""
        words = 0
        last_user = ""
        if flavor in ("openai", "compat"):
            for m in body.get("messages", []):
                t = _text_of(m.get("content"))
                words += word_count(t)
                if m.get("role") == "user":
                    last_user = t
        elif flavor == "anthropic":
            words += word_count(_text_of(body.get("system")))
            for m in body.get("messages", []):
                t = _text_of(m.get("content"))
                words += word_count(t)
                if m.get("role") == "user":
                    last_user = t
        elif flavor == "gemini":
            si = body.get("systemInstruction", body.get("system_instruction"))
            words += word_count(_parts_text(si))
            for c in body.get("contents", []):
                t = _parts_text(c)
                words += word_count(t)
                if c.get("role", "user") == "user":
                    last_user = t
        return words, last_user

    def _error_reply(self, flavor, status, message, model) -> Reply:
        """A generic error in the flavor's shape (used for protocol problems, not for script kinds)."""
        if flavor == "anthropic":
            rid = self._req_id()
            t = {400: "invalid_request_error", 404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
            return Reply(status, _anthropic_error(t, message, rid), {"request-id": rid})
        if flavor == "gemini":
            s = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 405: "INVALID_ARGUMENT"}.get(status, "INTERNAL")
            return Reply(status, _gemini_error(status, s, message), content_type="application/json; charset=UTF-8")
        return Reply(status, _openai_error(message, "invalid_request_error", None))

    def _kind_reply(self, flavor, kind, model, body, step, entry) -> Reply:
        if kind == "gateway":
            return Reply(502, _GATEWAY_HTML, content_type="text/html")
        if kind == "malformed":
            if flavor == "gemini":
                text = b'{\n  "candidates": [\n    {\n      "content": {\n        "parts": [\n          {\n            "text": "trunc'
                return Reply(200, text, content_type="application/json; charset=UTF-8")
            if flavor == "anthropic":
                return Reply(200, b'{"id": "msg_fake", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "trunc',
                             {"request-id": self._req_id()})
            return Reply(200, b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "trunc')
        words, _ = self._conversation(flavor, body)
        inp = max(1, words)
        if flavor in ("openai", "compat"):
            return self._openai_kind(flavor, kind, model, entry, inp, step)
        if flavor == "anthropic":
            return self._anthropic_kind(kind, model, inp, step)
        return self._gemini_kind(kind, model, entry, inp, step)
