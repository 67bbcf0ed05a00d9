"""What each step kind does with a validated request: wait (hang, hold, slow, stall_body), fault the connection
(stream_*), answer (ok, tool_call, json, ... as JSON or as an SSE stream) or fail (error kinds)."""

from __future__ import annotations

from fakes_answers import build_answer
from fakes_common import GEMINI_JSON_CT, HANG_LIMIT_S, Reply, reply_text
from fakes_render import render_reply
from fakes_sse import json_array, stream_events

# kinds whose answer is an Answer (fakes_answers.build_answer)
ANSWER_KINDS = frozenset({"ok", "tool_call", "json", "refusal", "length", "reasoning_model", "reject_prefill"})
# 200 kinds that keep their own JSON bodies (fakes_openai/anthropic/gemini) but stream as Answers
STREAMED_200_KINDS = frozenset({"safety_stop", "empty"})
STREAM_FAULTS = frozenset({"stream_slow_first", "stream_cut", "stream_stall", "stream_malformed", "stream_no_done",
                           "stream_error_event"})
# a stream fault when the request does not stream
NOT_STREAMING = {"stream_malformed": "malformed", "stream_no_done": "ok"}


class DispatchMixin:
    """Handler methods running one step (mixed into fakes_server.Handler)."""

    route_stream = False  # set per request: the Gemini :streamGenerateContent route

    def _answer_of(self, flavor, kind, model, body, step):
        words, last_user = self._conversation(flavor, body)
        st = self.state
        return build_answer(flavor, kind, model, body, step, st.next_id(), st.next_id, words,
                            reply_text(flavor, model, last_user))

    def _ok_reply(self, flavor, model, body, step) -> Reply:
        return render_reply(flavor, model, self._answer_of(flavor, "ok", model, body, step))

    def _respond(self, flavor, model, body, step, entry, kind, streaming):
        """Answer as `kind`: a stream when the request streams, else one JSON body."""
        fault = kind if kind in STREAM_FAULTS else None
        answer_kind = step.get("answer", "ok") if fault else kind
        a = self._answer_of(flavor, answer_kind, model, body, step)
        if streaming:
            self._stream(flavor, model, body, step, entry, a, kind)
        elif self.route_stream:  # Gemini :streamGenerateContent without alt=sse: a JSON array of the chunks
            evs = stream_events(flavor, model, a, body, step)
            self._send(Reply(200, json_array(flavor, evs), content_type=GEMINI_JSON_CT))
        else:
            self._send(render_reply(flavor, model, a))

    def _run_kind(self, flavor, model, body, step, entry, kind, streaming):
        st = self.state
        if kind in ("hang", "stream_silent"):
            end = self._wait_client_gone(HANG_LIMIT_S)
            if kind == "stream_silent" and streaming:
                st.update(entry, stream=True, ended="silent_" + end)
            else:
                st.update(entry, ended=end)
            self.close_connection = True
            return
        if kind == "hold":
            gate, all_released = st.gate(model), st.all_released
            end = self._wait_client_gone(HANG_LIMIT_S, released=lambda: st.released(gate, all_released))
            st.update(entry, ended=end)
            if end != "released":
                self.close_connection = True
                return
            self._run_kind(flavor, model, body, step, entry, step.get("after", "ok"), streaming)
            return
        if kind == "stream_reset":
            if streaming:
                st.update(entry, stream=True)
            self._reset_connection(entry)
            return
        if kind == "slow" or (kind == "stream_slow_first" and not streaming):
            end = self._wait_client_gone(step["ms"] / 1000.0)
            if end != "timeout":
                st.update(entry, ended=end)
                self.close_connection = True
                return
            st.update(entry, ended="answered")
            self._respond(flavor, model, body, step, entry, "ok", streaming)
            return
        if kind == "stall_body" or (kind in ("stream_cut", "stream_stall") and not streaming):
            self._stall_body(flavor, model, body, step, entry)
            return
        if kind == "reasoning_model":
            err = self._reasoning_check(flavor, body)
            if err is not None:
                self._send(err)
                return
        if kind == "reject_prefill":
            err = self._prefill_check(flavor, body)
            if err is not None:
                self._send(err)
                return
        if kind in STREAM_FAULTS and not streaming:  # (also Gemini's JSON-array streams)
            if kind == "stream_error_event":  # the same failure as an HTTP status
                kind = "server_error" if flavor in ("openai", "compat") else "overloaded"
            else:
                kind = NOT_STREAMING[kind]
        streamed = streaming or self.route_stream
        if (kind in ANSWER_KINDS or kind in STREAM_FAULTS
                or (streamed and (kind in STREAMED_200_KINDS or (kind == "content_filter" and flavor == "gemini")))):
            self._respond(flavor, model, body, step, entry, kind, streaming)
            return
        extra = self._extra_error(flavor, kind, model, body, step, entry)
        self._send(extra if extra is not None else self._kind_reply(flavor, kind, model, body, step, entry))

    def _stall_body(self, flavor, model, body, step, entry):
        st = self.state
        reply = self._ok_reply(flavor, model, body, step)
        self.send_response(200)
        self.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        part = reply.body[: max(1, len(reply.body) // 3)]
        self.wfile.write(part)
        self.wfile.flush()
        st.update(entry, sent_body_bytes=len(part))  # from here on nothing more is sent
        end = self._wait_client_gone(HANG_LIMIT_S)
        st.update(entry, ended=end)
        self.close_connection = True
