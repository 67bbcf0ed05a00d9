"""Blocking JSON-RPC 2.0 client for the fallbackd Unix socket.

Wire format: one JSON text per line, ``\\n`` terminated, in both directions.
A :class:`FallbackClient` keeps a single connection, opens it lazily, and
serialises requests with a lock, so one instance can be shared by threads
(requests then run one at a time; give each thread its own client for
parallelism).  :meth:`FallbackClient.stream` runs a streaming ``complete``
(see :mod:`fallbackd_client.streaming`); :class:`~fallbackd_client.AsyncFallbackClient`
is the asyncio twin.
"""

import itertools
import os
import socket
import threading
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .cost import CostMethods
from .errors import FallbackError, ProtocolError
from .request import Messages, complete_params
from .request import reply_wait as _reply_wait
from .resilience import ResilienceMethods
from .result import CompletionResult
from .streaming import CompletionStream
from .transport import Params, SocketTransport, _encode, _is_id, _request, _unwrap

__all__ = ["FallbackClient", "default_socket_path", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for a reply (and for connecting) unless told otherwise."""

BatchItem = Union[str, Tuple[str], Tuple[str, Params]]


def default_socket_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """Where the daemon listens by default.

    ``$FALLBACKD_SOCKET``, else ``$XDG_RUNTIME_DIR/fallbackd.sock``, else
    ``/tmp/fallbackd-<uid>.sock`` (empty variables count as unset).
    """
    env = os.environ if environ is None else environ
    explicit = env.get("FALLBACKD_SOCKET")
    if explicit:
        return explicit
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        return os.path.join(runtime_dir, "fallbackd.sock")
    return f"/tmp/fallbackd-{os.getuid()}.sock"


def _split_batch_item(item: BatchItem) -> Tuple[str, Params]:
    if isinstance(item, str):
        return item, None
    if isinstance(item, (tuple, list)) and len(item) in (1, 2):
        return item[0], (item[1] if len(item) == 2 else None)
    raise TypeError(f"batch items must be (method, params) tuples or method names, not {item!r:.100}")


def _options(names: Mapping[str, Any]) -> Dict[str, Any]:
    """A complete()/stream() call's arguments (its ``locals()``) for :func:`complete_params`."""
    return {k: v for k, v in names.items() if k != "self"}


class FallbackClient(ResilienceMethods, CostMethods, SocketTransport):
    """Client for a running fallbackd.

    Args:
        socket_path: daemon socket; defaults to :func:`default_socket_path`.
        timeout: seconds to wait for connecting and for each reply
            (``None`` waits forever).  ``complete(timeout_ms=...)`` extends the
            wait so the daemon's own deadline always fires first.

    Besides ``call``/``notify``/``batch`` and the typed ``ping``, ``status``,
    ``models``, ``chains``, ``complete`` and ``stream`` (a streaming
    ``complete``), it has the resilience methods
    ``health``, ``breakers``, ``breaker_reset``, ``breaker_isolate``, ``route``
    and ``report`` (see :mod:`fallbackd_client.resilience`), and the cost
    reports ``cost_report`` and ``shadow_report`` (see :mod:`fallbackd_client.cost`).

    The connection is opened on first use and reused.  If the daemon closed
    it in the meantime (restart, idle close), that is noticed before sending and
    the request goes out on a fresh connection.  A request is never sent twice:
    if the connection ends after it was sent and before the reply, the call
    raises :class:`~fallbackd_client.errors.RequestInterrupted` (a
    :class:`DaemonUnavailable`), since the daemon may have processed it.  Use as
    a context manager or call :meth:`close`.
    """

    def __init__(self, socket_path: Union[str, "os.PathLike[str]", None] = None,
                 timeout: Optional[float] = DEFAULT_TIMEOUT) -> None:
        self.socket_path = os.fspath(socket_path) if socket_path is not None else default_socket_path()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._buf = bytearray()
        self._ids = itertools.count(1)
        self._inbox: Dict[int, Any] = {}

    # -- lifecycle -------------------------------------------------------

    def __enter__(self) -> "FallbackClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "connected" if self._sock is not None else "idle"
        return f"<FallbackClient {self.socket_path!r} {state}>"

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        with self._lock:
            self._disconnect()

    # -- generic JSON-RPC ------------------------------------------------

    def call(self, method: str, params: Params = None, *, timeout: Optional[float] = None) -> Any:
        """Send one request and return its decoded ``result``.

        Raises the :class:`~fallbackd_client.errors.FallbackError` subclass for
        the reply's error code, :class:`DaemonUnavailable` when the daemon
        cannot be reached (:class:`RequestInterrupted` when the connection ended
        after the request was sent: it may have been processed, and is not resent),
        :class:`TimeoutError` when no reply arrives in time.
        ``timeout`` overrides the client timeout for this call.
        """
        with self._lock:
            req_id = next(self._ids)
            line = _encode(_request(method, params, req_id))

            def matches(msg: Any) -> bool:
                return isinstance(msg, dict) and _is_id(msg.get("id")) and msg["id"] == req_id

            reply = self._exchange(line, matches, self._pick_timeout(timeout))
        return _unwrap(reply)

    def notify(self, method: str, params: Params = None) -> None:
        """Send a notification (no id, the daemon sends no reply)."""
        with self._lock:
            self._exchange(_encode(_request(method, params, None)), None, self._pick_timeout(None))

    def batch(self, calls: Iterable[BatchItem], *, timeout: Optional[float] = None) -> List[Any]:
        """Send several requests as one JSON-RPC batch.

        ``calls`` holds ``(method, params)`` tuples (or bare method names).
        Returns one entry per call, in call order: the decoded ``result``, or
        the :class:`FallbackError` instance for that call (not raised).
        An error for the batch as a whole is raised.
        """
        items = [_split_batch_item(item) for item in calls]
        if not items:
            return []
        with self._lock:
            ids = [next(self._ids) for _ in items]
            line = _encode([_request(m, p, i) for (m, p), i in zip(items, ids)])
            wanted = set(ids)

            def matches(msg: Any) -> bool:
                return isinstance(msg, list) and any(
                    isinstance(e, dict) and _is_id(e.get("id")) and e["id"] in wanted for e in msg)

            reply = self._exchange(line, matches, self._pick_timeout(timeout))
        if not isinstance(reply, list):
            _unwrap(reply)  # raises the batch-level error
            raise ProtocolError(f"expected an array reply to a batch, got {reply!r:.200}")
        by_id = {e["id"]: e for e in reply if isinstance(e, dict) and _is_id(e.get("id"))}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ProtocolError(f"batch reply lacks entries for ids {missing}")
        results: List[Any] = []
        for i in ids:
            try:
                results.append(_unwrap(by_id[i]))
            except FallbackError as exc:
                results.append(exc)
        return results

    # -- daemon methods --------------------------------------------------

    def ping(self) -> str:
        """Return ``"pong"`` if the daemon is up."""
        return self.call("ping")

    def status(self) -> Dict[str, Any]:
        """Daemon status: version, uptime_s, pid, in_flight, call_log, models, chains, ..."""
        return self.call("status")

    def models(self) -> Dict[str, Any]:
        """The model pool: ``{"models": [{"name", "provider", "priority", ...}, ...]}``."""
        return self.call("models")

    def chains(self) -> Dict[str, Any]:
        """Fallback chains: ``{"chains": {task: [model, ...]}, "default_chain": "default"}``."""
        return self.call("chains")

    def openai(self, **kwargs: Any) -> Any:
        """An ``openai.OpenAI`` client wired to this daemon's OpenAI-compatible HTTP endpoint.

        The endpoint's Unix socket is read from :meth:`status` (``http_socket``), so the daemon must be
        running.  ``kwargs`` go to ``openai.OpenAI`` (``timeout``, ``max_retries``, ...); ``api_key``
        defaults to a placeholder (the Unix socket needs none) and ``http_client`` is not accepted.
        ``model`` names a task (``"default"``, ``"fallbackd/<task>"``) or a pool model; fallbackd's own
        options go in ``extra_body``.  Close the returned client when done.

        Raises :class:`ImportError` (saying ``pip install openai``) when the ``openai`` package is not
        installed, :class:`RuntimeError` when the daemon reports no HTTP socket.
        See :mod:`fallbackd_client.openai_facade`.
        """
        from .openai_facade import _import_openai, check_kwargs, openai_client

        check_kwargs(kwargs)
        _import_openai()  # both reported before the daemon is asked anything
        return openai_client(self.status(), **kwargs)

    def complete(self, messages: Messages, task: Optional[str] = "default", models: Optional[Sequence[str]] = None,
                 max_tokens: Optional[int] = None, temperature: Optional[float] = None,
                 timeout_ms: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None,
                 shadow: Optional[bool] = None, *, tools: Optional[Sequence[Mapping[str, Any]]] = None,
                 tool_choice: Union[str, Mapping[str, Any], None] = None, parallel_tool_calls: Optional[bool] = None,
                 response_format: Optional[Mapping[str, Any]] = None, max_completion_tokens: Optional[int] = None,
                 top_p: Optional[float] = None, stop: Union[str, Sequence[str], None] = None,
                 seed: Optional[int] = None, presence_penalty: Optional[float] = None,
                 frequency_penalty: Optional[float] = None, logit_bias: Optional[Mapping[str, float]] = None,
                 user: Optional[str] = None, reasoning_effort: Optional[str] = None,
                 extra: Optional[Mapping[str, Any]] = None) -> CompletionResult:
        """Run a chat completion through the task's fallback chain.

        The request is an OpenAI Chat Completions request: ``messages`` is a
        list of message dicts exactly as the OpenAI SDK takes them (roles
        ``system``, ``developer``, ``user``, ``assistant``, ``tool``; content a
        string or a list of parts; assistant ``tool_calls``; ``tool_call_id``),
        or a plain string (one user message).  ``tools``, ``tool_choice``,
        ``response_format`` and the scalar options have OpenAI's meaning;
        ``max_tokens`` is the older name of ``max_completion_tokens``.
        Fields without a keyword here (``logprobs``, ``service_tier``,
        ``prediction``, ...) go in ``extra``, which is merged into the request
        as is (the daemon passes them to OpenAI-style models).

        fallbackd's own: ``task`` picks the chain, ``models`` gives an explicit
        chain of pool names, ``timeout_ms`` the overall deadline, ``metadata``
        is stored in the call log, ``shadow=True`` asks for a shadow call on
        the backup model (``False``: never).  Options left as ``None`` are not
        sent, so the daemon's defaults apply.

        Returns a :class:`CompletionResult` (``content``, ``tool_calls``,
        ``finish_reason``, ``usage``, ...).  Raises :class:`AllModelsFailed` /
        :class:`DeadlineExceeded` (with ``.attempts`` and ``.route``),
        :class:`AllBreakersOpen` (with ``.retry_after_ms``),
        :class:`BudgetExceeded` (with ``.budget_usd``, ``.spent_usd``,
        ``.resets_at``), :class:`InvalidParams` (with ``.field``), etc.;
        :class:`TypeError`/:class:`ValueError` before sending for a malformed
        ``messages`` or an ``extra`` key that has a keyword of its own.
        """
        params = complete_params(**_options(locals()))
        return CompletionResult.from_dict(self.call("complete", params, timeout=_reply_wait(self.timeout, timeout_ms)))

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
               extra: Optional[Mapping[str, Any]] = None) -> CompletionStream:
        """A streaming :meth:`complete` (same options, plus ``on_interrupt`` and ``stream_options``).

        Returns a :class:`~fallbackd_client.streaming.CompletionStream`; the
        request is sent when the iteration starts::

            stream = client.stream("Tell me a story", task="simple_generation")
            for event in stream:               # Delta / Reset events as they arrive
                if event.kind == "delta" and event.content:
                    print(event.content, end="", flush=True)
            print(stream.result.finish_reason, stream.result.usage)

        ``on_interrupt="restart"`` asks the daemon to start over on the next
        model when the streaming one fails after its first delta: a
        :class:`~fallbackd_client.streaming.Reset` event then says to discard
        what arrived so far.  With the default (``"error"``) the iteration
        raises :class:`StreamInterrupted` (``.partial_content`` holds what
        arrived).  Other errors are raised as :meth:`complete` raises them.
        """
        params = complete_params(stream=True, **_options(locals()))
        wait = _reply_wait(self.timeout, timeout_ms)
        return CompletionStream(self, params, self.timeout if wait is None else wait)

    def _open_stream(self, params: Dict[str, Any], wait: Optional[float]) -> Tuple[int, Any]:
        """Send a streaming complete (the caller holds the lock); its id and the first message for it."""
        req_id = next(self._ids)
        return req_id, self._stream_open(_encode(_request("complete", params, req_id)), req_id, wait)
