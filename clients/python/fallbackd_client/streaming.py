"""Streaming ``complete``: typed events, their accumulation, and the blocking stream.

With ``"stream": true`` the daemon sends ``complete.delta`` notifications (and,
with ``on_interrupt: "restart"``, ``complete.reset``) for the request's id, then
the ordinary reply with the whole result.  A stream yields:

- :class:`Delta`: ``content`` / ``refusal`` text to append, ``tool_calls``
  fragments (``{"index", "id"?, "type"?, "function": {"name"?, "arguments"?}}``),
  and on the last one ``finish_reason`` and ``usage``; ``model`` names the model.
- :class:`Reset`: the model that was streaming failed and the daemon starts
  again on the next model.  **Discard everything received so far** (the
  stream's accumulated ``content``/``tool_calls`` are cleared for you).

When the reply arrives the iteration ends and ``stream.result`` holds the
:class:`~fallbackd_client.result.CompletionResult`; an error reply is raised
from the iteration instead (e.g.
:class:`~fallbackd_client.errors.StreamInterrupted`, with the partial answer
attached, or :class:`~fallbackd_client.errors.AllModelsFailed`).  The request
is sent when the iteration starts, and never resent.
"""

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Union

from .errors import ProtocolError, StreamInterrupted, error_from_object
from .result import CompletionResult

__all__ = ["Delta", "Reset", "StreamEvent", "StreamAccumulator", "CompletionStream", "parse_event"]


@dataclass(frozen=True)
class Delta:
    """One ``complete.delta``: what to append, in OpenAI's chunk-delta shape."""

    model: Optional[str]
    content: Optional[str] = None
    tool_calls: List[Dict[str, Any]] = field(default_factory=list)
    refusal: Optional[str] = None
    finish_reason: Optional[str] = None
    usage: Optional[Dict[str, Any]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    kind = "delta"


@dataclass(frozen=True)
class Reset:
    """One ``complete.reset``: discard every delta received so far; ``reason`` is the failure's error_type."""

    model: Optional[str]
    reason: Optional[str]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    kind = "reset"


StreamEvent = Union[Delta, Reset]


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def parse_event(msg: Any) -> Optional[StreamEvent]:
    """The event of a ``complete.delta`` / ``complete.reset`` notification; None for anything else."""
    if not isinstance(msg, Mapping) or not isinstance(msg.get("params"), Mapping):
        return None
    params = msg["params"]
    if msg.get("method") == "complete.reset":
        return Reset(model=_text(params.get("model")), reason=_text(params.get("reason")), raw=dict(params))
    if msg.get("method") != "complete.delta":
        return None
    delta = params.get("delta")
    delta = delta if isinstance(delta, Mapping) else {}
    calls = delta.get("tool_calls")
    usage = delta.get("usage")
    return Delta(model=_text(params.get("model")), content=_text(delta.get("content")),
                 tool_calls=[dict(c) for c in calls if isinstance(c, Mapping)] if isinstance(calls, list) else [],
                 refusal=_text(delta.get("refusal")), finish_reason=_text(delta.get("finish_reason")),
                 usage=dict(usage) if isinstance(usage, Mapping) else None, raw=dict(delta))


class StreamAccumulator:
    """Adds deltas up: ``content``, ``refusal``, ``tool_calls`` (OpenAI's message shape), ``finish_reason``,
    ``usage`` and the ``model`` they came from.  A :class:`Reset` clears it all and counts in ``resets``.

    ``content``/``refusal`` are None until some text arrived, like the result's.
    """

    def __init__(self) -> None:
        self.resets = 0
        self._clear()

    def _clear(self) -> None:
        self.model: Optional[str] = None
        self.content: Optional[str] = None
        self.refusal: Optional[str] = None
        self.finish_reason: Optional[str] = None
        self.usage: Optional[Dict[str, Any]] = None
        self._calls: Dict[int, Dict[str, Any]] = {}

    @property
    def tool_calls(self) -> List[Dict[str, Any]]:
        """The tool calls so far, ``[{"id", "type": "function", "function": {"name", "arguments"}}]`` by index."""
        return [{"id": c["id"], "type": c["type"], "function": dict(c["function"])}
                for _, c in sorted(self._calls.items())]

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, Reset):
            self._clear()
            self.resets += 1
            return
        self.model = event.model or self.model
        if event.content is not None:
            self.content = (self.content or "") + event.content
        if event.refusal is not None:
            self.refusal = (self.refusal or "") + event.refusal
        for fragment in event.tool_calls:
            index = fragment.get("index")
            if not isinstance(index, int) or isinstance(index, bool):
                index = max(self._calls, default=0)
            call = self._calls.setdefault(index, {"id": "", "type": "function",
                                                  "function": {"name": "", "arguments": ""}})
            function = fragment.get("function") if isinstance(fragment.get("function"), Mapping) else {}
            if isinstance(fragment.get("id"), str):
                call["id"] = fragment["id"]
            if isinstance(fragment.get("type"), str):
                call["type"] = fragment["type"]
            if isinstance(function.get("name"), str):
                call["function"]["name"] = function["name"]
            if isinstance(function.get("arguments"), str):
                call["function"]["arguments"] += function["arguments"]
        if event.finish_reason is not None:
            self.finish_reason = event.finish_reason
        if event.usage is not None:
            self.usage = event.usage


class _StreamBase(StreamAccumulator):
    """What the blocking and the asyncio streams share: turning messages for the request into events."""

    def __init__(self, params: Dict[str, Any], wait: Optional[float]) -> None:
        super().__init__()
        self.params = params
        self.request_id: Optional[int] = None  # the JSON-RPC id, once sent
        self.result: Optional[CompletionResult] = None
        self.error: Optional[BaseException] = None
        self.done = False
        self._started = False
        self._wait = wait

    def _handle(self, msg: Any) -> Optional[StreamEvent]:
        """An event to yield, or None when ``msg`` was the reply (``result``/``error`` set, ``done``)."""
        if isinstance(msg, dict) and "method" in msg:
            event = parse_event(msg)
            if event is None:
                raise ProtocolError(f"unexpected notification for stream {self.request_id}: {msg!r:.200}")
            self.add(event)
            return event
        self.done = True
        if not isinstance(msg, dict):
            self.error = ProtocolError(f"expected a JSON-RPC reply object, got {msg!r:.200}")
        elif msg.get("error") is not None:
            self.error = error_from_object(msg["error"])
            if isinstance(self.error, StreamInterrupted):
                self.error.partial_content = self.content
                self.error.partial_tool_calls = self.tool_calls
        elif "result" not in msg:
            self.error = ProtocolError(f"reply has neither result nor error: {msg!r:.200}")
        else:
            try:
                self.result = CompletionResult.from_dict(msg["result"])
            except TypeError as exc:
                self.error = ProtocolError(str(exc))
        return None

    def _finished(self) -> CompletionResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def _text_of(self, event: StreamEvent, on_reset: Optional[Callable[[Reset], Any]]) -> Optional[str]:
        if isinstance(event, Reset):
            if on_reset is None:
                raise ProtocolError("fallbackd sent complete.reset, which only on_interrupt='restart' asks for")
            on_reset(event)
            return None
        return event.content or None

    def _check_text_chunks(self, on_reset: Optional[Callable[[Reset], Any]]) -> None:
        if on_reset is None and self.params.get("on_interrupt") == "restart":
            raise ValueError("with on_interrupt='restart', text_chunks() needs on_reset=callable: "
                             "the text yielded before a reset must be discarded")


class CompletionStream(_StreamBase):
    """A streaming ``complete`` on a :class:`~fallbackd_client.FallbackClient` (see the module docs).

    Iterate it for :class:`Delta`/:class:`Reset` events; afterwards ``result``
    holds the whole result.  ``content``, ``tool_calls``, ``refusal``,
    ``finish_reason``, ``usage`` and ``model`` add the deltas up as they pass
    (cleared at a reset).  ``timeout`` bounds the wait for each event, not the
    whole stream.  Other calls on the same client may run between events; the
    events that arrive meanwhile are kept for the stream.  :meth:`close` (or
    leaving a ``with`` block) before the reply closes the client's connection,
    which stops the request at the daemon (and interrupts any other stream on
    that connection); the next call reconnects.
    """

    def __init__(self, client: Any, params: Dict[str, Any], wait: Optional[float]) -> None:
        super().__init__(params, wait)
        self._client = client

    def __iter__(self) -> "CompletionStream":
        return self

    def __next__(self) -> StreamEvent:
        if self.done:
            raise StopIteration
        client = self._client
        with client._lock:
            try:
                if not self._started:
                    self._started = True
                    self.request_id, msg = client._open_stream(self.params, self._wait)
                    weakref.finalize(self, client._inbox.pop, self.request_id, None)
                else:
                    msg = client._stream_next(self.request_id, self._wait)
                event = self._handle(msg)
            except BaseException as exc:  # connection lost, timeout, garbage from the daemon: the stream is over
                self.done = True
                self.error = exc
                if self.request_id is not None:
                    client._stream_forget(self.request_id, cancel=isinstance(exc, ProtocolError))
                raise
            if self.done:
                client._stream_forget(self.request_id, cancel=False)
        if event is None:
            if self.error is not None:
                raise self.error
            raise StopIteration
        return event

    def __enter__(self) -> "CompletionStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop waiting for this stream; if it is still running, close the connection to stop it."""
        if self._started and not self.done:
            self.done = True
            with self._client._lock:
                self._client._stream_forget(self.request_id, cancel=True)
        self.done = True

    def final_result(self) -> CompletionResult:
        """Consume the remaining events and return the result (or raise the stream's error)."""
        for _ in self:
            pass
        if not self._started:
            raise RuntimeError("the stream was closed before it started")
        return self._finished()

    def text_chunks(self, on_reset: Optional[Callable[[Reset], Any]] = None) -> Iterator[str]:
        """Yield each piece of content text as it arrives; ``result`` is set once it ends.

        With ``on_interrupt="restart"`` pass ``on_reset``: it is called at a
        reset, when the text yielded so far must be discarded.
        """
        self._check_text_chunks(on_reset)
        for event in self:
            text = self._text_of(event, on_reset)
            if text:
                yield text
