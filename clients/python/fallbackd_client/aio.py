"""asyncio client for fallbackd: :class:`AsyncFallbackClient`.

One Unix-socket connection (``asyncio.open_unix_connection``), opened on first
use, carries any number of concurrent requests: they are pipelined and their
replies and stream events matched by id, as the protocol allows.  Same methods
as :class:`~fallbackd_client.FallbackClient`, as coroutines (``batch`` aside)::

    async with AsyncFallbackClient() as client:
        result = await client.complete("Is 391 prime?", task="complex_reasoning")
        async for event in client.stream("Tell me a story"):
            if event.kind == "delta" and event.content:
                print(event.content, end="", flush=True)

A request is never sent twice: when the connection ends after a request went
out and before its reply, the call raises
:class:`~fallbackd_client.errors.RequestInterrupted`; the next call opens a new
connection.  A timeout (``timeout``: seconds per reply, or per stream event)
raises :class:`TimeoutError` and leaves the connection, and the request at the
daemon, running; :meth:`AsyncFallbackClient.close` stops every request on it.
Use the client from one event loop.
"""

import asyncio
import itertools
import json
import os
import weakref
from typing import Any, AsyncIterator, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

from .client import DEFAULT_TIMEOUT, _options, default_socket_path
from .cost import CostMethods
from .errors import ProtocolError
from .request import Messages, complete_params, reply_wait
from .resilience import ResilienceMethods
from .result import CompletionResult
from .streaming import Reset, StreamEvent, _StreamBase
from .transport import Params, _encode, _request, _unwrap, interrupted_error, message_target, unavailable_error

__all__ = ["AsyncFallbackClient", "AsyncCompletionStream"]

_LINE_LIMIT = 1 << 26  # longest reply line accepted (asyncio's default of 64 KiB is too small for results)
_LOST = object()  # queued for a stream whose connection ended


class _Connection:
    """One connection: the reader task files each message with the request it answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.pending: Dict[int, "asyncio.Future[Any]"] = {}
        self.streams: Dict[int, "asyncio.Queue[Any]"] = {}
        self.closed = False
        self.task: Optional["asyncio.Task[None]"] = None

    def dispatch(self, msg: Any) -> None:
        target = message_target(msg)
        if target in self.streams:
            self.streams[target].put_nowait(msg)
        elif target in self.pending and isinstance(msg, dict) and "method" not in msg:
            future = self.pending.pop(target)
            if not future.done():
                future.set_result(msg)
        elif isinstance(msg, dict) and msg.get("id") is None and msg.get("error") is not None:
            # An error without an id (parse error, line too long) concerns some request of ours: all of them.
            for future in self.pending.values():
                if not future.done():
                    future.set_result(msg)
            self.pending.clear()
            for queue in self.streams.values():
                queue.put_nowait(msg)
        # else: a late reply after a timeout, or events of a stream nobody waits for any more

    def end(self, error: BaseException) -> None:
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()
        for queue in self.streams.values():
            queue.put_nowait(_LOST)

    async def read_loop(self, socket_path: str) -> None:
        error: BaseException = interrupted_error(socket_path, "fallbackd closed the connection before replying")
        try:
            while True:
                line = await self.reader.readline()
                if not line.endswith(b"\n"):
                    break  # EOF (possibly in the middle of a line)
                raw = line.strip()
                if not raw:
                    continue
                try:
                    msg = json.loads(raw)
                except ValueError:
                    error = ProtocolError(f"fallbackd sent a line that is not JSON: {raw[:200]!r}")
                    break
                self.dispatch(msg)
        except (OSError, ValueError, asyncio.LimitOverrunError) as exc:
            error = interrupted_error(socket_path, f"the connection to fallbackd failed: {exc}")
        finally:
            self.end(error)
            self.writer.close()


class AsyncFallbackClient(ResilienceMethods, CostMethods):
    """asyncio client for a running fallbackd (see the module docs).

    The resilience and cost methods (``health``, ``breakers``, ``route``,
    ``report``, ``cost_report``, ...) return awaitables here.
    """

    def __init__(self, socket_path: Union[str, "os.PathLike[str]", None] = None,
                 timeout: Optional[float] = DEFAULT_TIMEOUT) -> None:
        self.socket_path = os.fspath(socket_path) if socket_path is not None else default_socket_path()
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._conn: Optional[_Connection] = None
        self._connecting: Optional[asyncio.Lock] = None
        self._writing: Optional[asyncio.Lock] = None

    async def __aenter__(self) -> "AsyncFallbackClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "connected" if self._conn is not None and not self._conn.closed else "idle"
        return f"<AsyncFallbackClient {self.socket_path!r} {state}>"

    async def close(self) -> None:
        """Close the connection; requests still running on it raise :class:`RequestInterrupted`."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.writer.close()
        if conn.task is not None:
            await asyncio.gather(conn.task, return_exceptions=True)

    # -- plumbing ----------------------------------------------------------

    async def _connection(self) -> _Connection:
        if self._connecting is None:
            self._connecting, self._writing = asyncio.Lock(), asyncio.Lock()
        async with self._connecting:
            if self._conn is None or self._conn.closed:  # never used, or closed by the daemon while idle
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_unix_connection(self.socket_path, limit=_LINE_LIMIT), self.timeout)
                except (OSError, asyncio.TimeoutError) as exc:
                    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                    raise unavailable_error(self.socket_path, f"cannot connect to fallbackd: {reason}") from exc
                conn = _Connection(reader, writer)
                conn.task = asyncio.ensure_future(conn.read_loop(self.socket_path))
                self._conn = conn
            return self._conn

    async def _send(self, method: str, params: Params, register: Callable[[_Connection, int], Any]) -> Tuple[
            _Connection, int]:
        """Send one request; ``register`` files its reply slot first. At most once."""
        req_id = next(self._ids)
        line = _encode(_request(method, params, req_id))
        conn = await self._connection()
        register(conn, req_id)
        assert self._writing is not None
        try:
            async with self._writing:
                conn.writer.write(line)
                await conn.writer.drain()
        except OSError as exc:
            conn.pending.pop(req_id, None)
            conn.streams.pop(req_id, None)
            conn.writer.close()
            raise interrupted_error(self.socket_path, f"sending to fallbackd failed: {exc}") from exc
        return conn, req_id

    async def _await(self, awaitable: Any, wait: Optional[float], what: str) -> Any:
        try:
            return await asyncio.wait_for(awaitable, wait)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no {what} from fallbackd at {self.socket_path} within {wait}s") from None

    # -- generic JSON-RPC ----------------------------------------------------

    async def call(self, method: str, params: Params = None, *, timeout: Optional[float] = None) -> Any:
        """Send one request and return its decoded ``result`` (errors as :meth:`FallbackClient.call`)."""
        future = asyncio.get_running_loop().create_future()
        conn, req_id = await self._send(method, params, lambda c, i: c.pending.__setitem__(i, future))
        try:
            reply = await self._await(future, self.timeout if timeout is None else timeout, "reply")
        finally:
            conn.pending.pop(req_id, None)
        return _unwrap(reply)

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no id, the daemon sends no reply)."""
        conn = await self._connection()
        assert self._writing is not None
        async with self._writing:
            conn.writer.write(_encode(_request(method, params, None)))
            await conn.writer.drain()

    async def ping(self) -> str:
        return await self.call("ping")

    async def status(self) -> Dict[str, Any]:
        return await self.call("status")

    async def models(self) -> Dict[str, Any]:
        return await self.call("models")

    async def chains(self) -> Dict[str, Any]:
        return await self.call("chains")

    async def complete(self, messages: Messages, task: Optional[str] = "default",
                       models: Optional[Sequence[str]] = None, max_tokens: Optional[int] = None,
                       temperature: Optional[float] = None, timeout_ms: Optional[int] = None,
                       metadata: Optional[Mapping[str, Any]] = None, shadow: Optional[bool] = None, *,
                       tools: Optional[Sequence[Mapping[str, Any]]] = None,
                       tool_choice: Union[str, Mapping[str, Any], None] = None,
                       parallel_tool_calls: Optional[bool] = None, response_format: Optional[Mapping[str, Any]] = None,
                       max_completion_tokens: Optional[int] = None, top_p: Optional[float] = None,
                       stop: Union[str, Sequence[str], None] = None, seed: Optional[int] = None,
                       presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
                       logit_bias: Optional[Mapping[str, float]] = None, user: Optional[str] = None,
                       reasoning_effort: Optional[str] = None,
                       extra: Optional[Mapping[str, Any]] = None) -> CompletionResult:
        """As :meth:`FallbackClient.complete`."""
        params = complete_params(**_options(locals()))
        return CompletionResult.from_dict(await self.call("complete", params,
                                                          timeout=reply_wait(self.timeout, timeout_ms)))

    def stream(self, messages: Messages, task: Optional[str] = "default", models: Optional[Sequence[str]] = None,
               max_tokens: Optional[int] = None, temperature: Optional[float] = None,
               timeout_ms: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None,
               shadow: Optional[bool] = None, *, on_interrupt: Optional[str] = None,
               tools: Optional[Sequence[Mapping[str, Any]]] = None,
               tool_choice: Union[str, Mapping[str, Any], None] = None, parallel_tool_calls: Optional[bool] = None,
               response_format: Optional[Mapping[str, Any]] = None, max_completion_tokens: Optional[int] = None,
               top_p: Optional[float] = None, stop: Union[str, Sequence[str], None] = None,
               seed: Optional[int] = None, presence_penalty: Optional[float] = None,
               frequency_penalty: Optional[float] = None, logit_bias: Optional[Mapping[str, float]] = None,
               user: Optional[str] = None, reasoning_effort: Optional[str] = None,
               stream_options: Optional[Mapping[str, Any]] = None,
               extra: Optional[Mapping[str, Any]] = None) -> "AsyncCompletionStream":
        """As :meth:`FallbackClient.stream`; iterate the result with ``async for``."""
        params = complete_params(stream=True, **_options(locals()))
        wait = reply_wait(self.timeout, timeout_ms)
        return AsyncCompletionStream(self, params, self.timeout if wait is None else wait)


class AsyncCompletionStream(_StreamBase):
    """A streaming ``complete`` on an :class:`AsyncFallbackClient`: the asyncio twin of
    :class:`~fallbackd_client.streaming.CompletionStream` (same events, attributes and errors).

    :meth:`aclose` (or leaving ``async with``) before the reply stops waiting
    for it; the daemon finishes the request unless ``cancel=True`` closes the
    client's connection (which interrupts every other request on it).
    """

    def __init__(self, client: AsyncFallbackClient, params: Dict[str, Any], wait: Optional[float]) -> None:
        super().__init__(params, wait)
        self._client = client
        self._conn: Optional[_Connection] = None
        self._queue: "Optional[asyncio.Queue[Any]]" = None  # made in the running loop

    def __aiter__(self) -> "AsyncCompletionStream":
        return self

    async def __anext__(self) -> StreamEvent:
        if self.done:
            raise StopAsyncIteration
        try:
            if not self._started:
                self._started = True
                queue = self._queue = asyncio.Queue()
                self._conn, self.request_id = await self._client._send(
                    "complete", self.params, lambda c, i: c.streams.__setitem__(i, queue))
                weakref.finalize(self, self._conn.streams.pop, self.request_id, None)
            assert self._queue is not None
            msg = await self._client._await(self._queue.get(), self._wait, "stream event")
            if msg is _LOST:
                raise interrupted_error(self._client.socket_path, "the connection to fallbackd ended during the stream")
            event = self._handle(msg)
        except BaseException as exc:  # connection lost, timeout, cancelled: the stream is over
            self.done, self.error = True, exc
            self._forget()
            raise
        if event is None:
            self._forget()
            if self.error is not None:
                raise self.error
            raise StopAsyncIteration
        return event

    def _forget(self) -> None:
        if self._conn is not None and self.request_id is not None:
            self._conn.streams.pop(self.request_id, None)

    async def __aenter__(self) -> "AsyncCompletionStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def aclose(self, cancel: bool = False) -> None:
        """Stop waiting for this stream; ``cancel=True`` also closes the connection, stopping it at the daemon."""
        running = self._started and not self.done
        self.done = True
        self._forget()
        if running and cancel and self._conn is not None and self._client._conn is self._conn:
            await self._client.close()

    async def final_result(self) -> CompletionResult:
        """Consume the remaining events and return the result (or raise the stream's error)."""
        async for _ in self:
            pass
        if not self._started:
            raise RuntimeError("the stream was closed before it started")
        return self._finished()

    async def text_chunks(self, on_reset: Optional[Callable[[Reset], Any]] = None) -> AsyncIterator[str]:
        """As :meth:`CompletionStream.text_chunks`, with ``async for``."""
        self._check_text_chunks(on_reset)
        async for event in self:
            text = self._text_of(event, on_reset)
            if text:
                yield text
