"""Putting SSE streams on the wire: headers, chunked or close-delimited framing, tiny writes, stream faults that
act on the connection (reset, cut, stall), and the `ended` / `sent_chunks` marks of the recorded request."""

from __future__ import annotations

import random
import socket
import struct
import time

from fakes_common import HANG_LIMIT_S
from fakes_sse import plan_stream, render_event, stream_events
from fakes_steps import sse_options


class _Wire:
    """How the body bytes go out: chunked or not, whole or in tiny (1-7 byte) writes."""

    def __init__(self, handler, chunked, tiny, seed):
        self.h = handler
        self.chunked = chunked
        self.tiny = tiny
        self.rng = random.Random(seed)

    def write(self, data: bytes, framed=True):
        if self.tiny:
            parts, i = [], 0
            while i < len(data):
                n = self.rng.randint(1, 7)
                parts.append(data[i:i + n])
                i += n
        else:
            parts = [data]
        for p in parts:
            if self.chunked and framed:
                p = b"%x\r\n%s\r\n" % (len(p), p)
            self.h.wfile.write(p)
            if self.tiny:
                time.sleep(0.0001)  # let each tiny write leave as its own segment

    def terminate(self):
        if self.chunked:
            self.h.wfile.write(b"0\r\n\r\n")


class StreamMixin:
    """Handler methods that stream answers (mixed into fakes_server.Handler)."""

    def _stream_headers(self, flavor, a, chunked):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if flavor == "gemini" else "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if flavor in ("openai", "compat"):
            self.send_header("x-request-id", f"req_fake{a.n:06d}")
            self.send_header("openai-processing-ms", "1")
        elif flavor == "anthropic":
            self.send_header("request-id", f"req_fake{a.n:06d}")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()

    def _stream(self, flavor, model, body, step, entry, a, kind):
        """Stream answer `a` as step kind `kind` (ok, ..., or a stream fault) and record how it ended."""
        st = self.state
        opts = sse_options(step)
        actions, ending = plan_stream(flavor, kind, step, stream_events(flavor, model, a, body, step))
        chunked = step.get("framing", "chunked") == "chunked" and self.request_version != "HTTP/1.0"
        wire = _Wire(self, chunked, "split" in opts, a.n)
        total = sum(1 for x in actions if not isinstance(x, tuple) and x.role == "content")
        last = max((i for i, x in enumerate(actions) if not isinstance(x, tuple)), default=-1)
        st.update(entry, stream=True)
        sent = 0
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._stream_headers(flavor, a, chunked)
            for i, x in enumerate(actions):
                if isinstance(x, tuple):  # ("wait", seconds): the slow first token
                    end = self._wait_client_gone(x[1])
                    if end != "timeout":
                        st.update(entry, ended=end, sent_chunks=sent)
                        self.close_connection = True
                        return
                    continue
                if i == last and ending in ("done", "no_done", "error_event"):
                    # marked before the last event leaves: a client that saw it finds the mark
                    st.update(entry, ended=ending, sent_chunks=total)
                wire.write(render_event(flavor, x, opts))
                if x.role == "content":
                    sent += 1
            if ending == "cut":
                st.update(entry, ended="cut", sent_chunks=sent)
                self.close_connection = True  # no terminator, no [DONE] / message_stop: the connection just closes
                return
            if ending == "stall":
                st.update(entry, stalled_after_chunks=sent, sent_chunks=sent)
                end = self._wait_client_gone(HANG_LIMIT_S)
                st.update(entry, ended="stalled_" + end)
                self.close_connection = True
                return
            wire.terminate()
            if ending != "done" or not chunked:
                self.close_connection = True
        except OSError:
            st.update(entry, ended="client_closed", sent_chunks=sent)
            self.close_connection = True

    def _reset_connection(self, entry):
        """Close the connection at once with a TCP RST, before any byte of an answer."""
        self.state.update(entry, ended="reset")
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # the fd really closes (RST) when finish() closes rfile; the server's shutdown(SHUT_WR) then fails
            # harmlessly on the closed socket, so no FIN goes out first
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
