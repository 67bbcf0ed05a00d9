"""Exceptions raised by the fallbackd client.

Every JSON-RPC error object returned by the daemon becomes a
:class:`FallbackError` (or the subclass registered for its code, see
:data:`ERROR_CLASSES`).  Transport problems are reported separately:
:class:`DaemonUnavailable` (a :class:`ConnectionError`) when the socket cannot
be reached or drops the connection -- :class:`RequestInterrupted`, its
subclass, when the drop came after the request was (partly) sent, so the daemon
may have processed it -- :class:`ProtocolError` when the daemon sends something
that is not a JSON-RPC reply, and the builtin :class:`TimeoutError` when no
reply arrives within the client timeout.
"""

from typing import Any, Dict, List, Optional, Type

__all__ = [
    "FallbackError", "ParseError", "InvalidRequest", "MethodNotFound", "InvalidParams", "InternalError",
    "ShuttingDown", "AllModelsFailed", "DeadlineExceeded", "AllBreakersOpen", "BudgetExceeded", "Overloaded",
    "StreamInterrupted", "DaemonUnavailable", "RequestInterrupted", "ProtocolError", "ERROR_CLASSES",
    "error_from_object",
]


class FallbackError(Exception):
    """A JSON-RPC error returned by fallbackd.

    Attributes:
        code: the JSON-RPC error code (e.g. -32001).
        message: the daemon's human-readable message.
        data: the optional ``data`` member (usually a dict), or None.
    """

    code: int

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    def _data_get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default) if isinstance(self.data, dict) else default

    def to_dict(self) -> Dict[str, Any]:
        """The error as a JSON-RPC error object."""
        obj: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            obj["data"] = self.data
        return obj

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, data={self.data!r})"


class ParseError(FallbackError):
    """-32700: the daemon could not parse the request line as JSON."""


class InvalidRequest(FallbackError):
    """-32600: not a valid JSON-RPC request (or the line exceeded the size cap)."""


class MethodNotFound(FallbackError):
    """-32601: unknown method; ``data`` is ``{"method": name}``."""

    @property
    def method(self) -> Optional[str]:
        return self._data_get("method")


class InvalidParams(FallbackError):
    """-32602: invalid params; ``data`` is ``{"field": ..., "reason": ...}``."""

    @property
    def field(self) -> Optional[str]:
        """The offending parameter path, e.g. ``"messages[0].role"``."""
        return self._data_get("field")

    @property
    def reason(self) -> Optional[str]:
        return self._data_get("reason")

    @property
    def capability(self) -> Optional[str]:
        """The capability no model of the chain has (``tools``, ``vision``, ``json_schema``, ...), if that was it."""
        return self._data_get("capability")

    @property
    def estimated_input_tokens(self) -> Optional[int]:
        """The request's estimated input when it fits no model's context window."""
        return _int(self._data_get("estimated_input_tokens"))


class InternalError(FallbackError):
    """-32603: internal daemon error."""


class ShuttingDown(FallbackError):
    """-32000: the daemon is draining and accepts no new work."""


class _ChainFailure(FallbackError):
    """Shared accessors for errors whose data describes a failed chain run."""

    @property
    def attempts(self) -> List[Dict[str, Any]]:
        """The attempts made before giving up (dicts like the ``attempts`` of a result)."""
        attempts = self._data_get("attempts")
        return list(attempts) if isinstance(attempts, list) else []

    @property
    def request_id(self) -> Optional[str]:
        return self._data_get("request_id")

    @property
    def task(self) -> Optional[str]:
        return self._data_get("task")

    @property
    def chain(self) -> Optional[str]:
        return self._data_get("chain")

    @property
    def route(self) -> List[Dict[str, Any]]:
        """The chain's models in planned order with their ``place`` and ``reason`` (see ``route``)."""
        route = self._data_get("route")
        return list(route) if isinstance(route, list) else []

    @property
    def latency_ms(self) -> Optional[int]:
        """How long the request ran before it failed."""
        return _int(self._data_get("latency_ms"))


class AllModelsFailed(_ChainFailure):
    """-32001: every model in the chain failed; see :attr:`attempts` and :attr:`route`."""


class DeadlineExceeded(_ChainFailure):
    """-32002: the overall ``timeout_ms`` ran out; see :attr:`attempts`."""


class AllBreakersOpen(_ChainFailure):
    """-32003: every model of the chain has an open (or isolated) breaker; nothing was tried.

    :attr:`retry_after_ms` says when the first breaker lets a probe through;
    :attr:`route` shows each model's state.
    """

    @property
    def retry_after_ms(self) -> Optional[int]:
        """Milliseconds until a breaker of the chain reopens; None when none will by itself (all isolated)."""
        value = self._data_get("retry_after_ms")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class BudgetExceeded(FallbackError):
    """-32004: the task's daily budget (``[budgets]``, USD per UTC day) is spent; no model was tried.

    :attr:`resets_at` says when the budget starts again: the next UTC midnight.
    """

    @property
    def task(self) -> Optional[str]:
        return self._data_get("task")

    @property
    def budget_usd(self) -> Optional[float]:
        """The task's budget in US dollars per UTC day."""
        return _float(self._data_get("budget_usd"))

    @property
    def spent_usd(self) -> Optional[float]:
        """What the task has spent today (UTC), at or above :attr:`budget_usd`."""
        return _float(self._data_get("spent_usd"))

    @property
    def resets_at(self) -> Optional[str]:
        """When the budget resets, ISO-8601 UTC with milliseconds (``2026-11-25T00:00:00.000Z``)."""
        return self._data_get("resets_at")

    @property
    def resets_at_ms(self) -> Optional[int]:
        """:attr:`resets_at` in Unix milliseconds."""
        value = self._data_get("resets_at_ms")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class Overloaded(FallbackError):
    """-32005: too many requests in flight; ``data`` has ``in_flight`` and ``max_in_flight``."""

    @property
    def in_flight(self) -> Optional[int]:
        return self._data_get("in_flight")

    @property
    def max_in_flight(self) -> Optional[int]:
        return self._data_get("max_in_flight")


class StreamInterrupted(_ChainFailure):
    """-32006: a streaming ``complete`` failed after its first delta reached the caller.

    The model that was streaming (:attr:`model`) failed with the ``error_type``
    :attr:`reason` (``timeout``, ``connection``, ...); :attr:`detail` is its
    shortened error message (``data.message``; :attr:`message` stays the
    JSON-RPC error message, as on every :class:`FallbackError`).
    :attr:`delivered` says what reached the caller before the cut:
    ``{"content_chars", "tool_calls", "tool_call_open"}``.  The answer is
    partial and the daemon did not fall back (``on_interrupt: "restart"`` asks
    it to).  When raised by a client stream, :attr:`partial_content` and
    :attr:`partial_tool_calls` hold what the stream delivered (None otherwise).
    """

    partial_content: Optional[str] = None
    partial_tool_calls: Optional[List[Dict[str, Any]]] = None

    @property
    def model(self) -> Optional[str]:
        """Pool name of the model whose stream was cut."""
        return self._data_get("model")

    @property
    def reason(self) -> Optional[str]:
        """The ``error_type`` of the failure (see ``ERROR_TYPES``)."""
        return self._data_get("reason")

    @property
    def detail(self) -> Optional[str]:
        """The provider's error message (``data.message``), shortened, or None."""
        return self._data_get("message")

    @property
    def delivered(self) -> Dict[str, Any]:
        """``{"content_chars": int, "tool_calls": int, "tool_call_open": bool}`` as the daemon counted it."""
        value = self._data_get("delivered")
        return dict(value) if isinstance(value, dict) else {}

    @property
    def content_chars(self) -> Optional[int]:
        """Characters of content delivered before the cut."""
        return _int(self.delivered.get("content_chars"))

    @property
    def delivered_tool_calls(self) -> Optional[int]:
        """Tool calls (complete or not) delivered before the cut."""
        return _int(self.delivered.get("tool_calls"))

    @property
    def tool_call_open(self) -> Optional[bool]:
        """True when the cut came in the middle of a tool call's arguments."""
        value = self.delivered.get("tool_call_open")
        return value if isinstance(value, bool) else None


ERROR_CLASSES: Dict[int, Type[FallbackError]] = {
    -32700: ParseError,
    -32600: InvalidRequest,
    -32601: MethodNotFound,
    -32602: InvalidParams,
    -32603: InternalError,
    -32000: ShuttingDown,
    -32001: AllModelsFailed,
    -32002: DeadlineExceeded,
    -32003: AllBreakersOpen,
    -32004: BudgetExceeded,
    -32005: Overloaded,
    -32006: StreamInterrupted,
}


def _float(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def error_from_object(error: Any) -> FallbackError:
    """Build the typed exception for a JSON-RPC ``error`` object.

    Unknown codes give a plain :class:`FallbackError`; a malformed error
    object is still turned into a :class:`FallbackError` rather than crashing.
    """
    if not isinstance(error, dict):
        return InternalError(-32603, f"malformed error object: {error!r}", None)
    code = error.get("code")
    message = error.get("message")
    if not isinstance(message, str):
        message = str(message) if message is not None else "unknown error"
    if not isinstance(code, int) or isinstance(code, bool):
        return FallbackError(-32603, message, error.get("data"))
    cls = ERROR_CLASSES.get(code, FallbackError)
    return cls(code, message, error.get("data"))


class DaemonUnavailable(ConnectionError):
    """The daemon's socket cannot be reached, or it dropped the connection.

    Attributes:
        socket_path: the path the client tried.
        request_sent: whether any byte of the request had been written when the connection failed
            (always True for :class:`RequestInterrupted`, False otherwise).
    """

    request_sent = False

    def __init__(self, socket_path: str, message: str) -> None:
        super().__init__(message)
        self.socket_path = socket_path

    def __reduce__(self):  # keep the exception picklable
        return (type(self), (self.socket_path, str(self)))


class RequestInterrupted(DaemonUnavailable):
    """The connection ended after the request was (at least partly) sent and before its reply.

    The daemon may have received and processed the request -- for ``complete``, a provider call
    may have been made and billed -- so the client never sends it again by itself. Check the
    call log (``cost.report``, the request ids in it) before resending a ``complete``; read-only
    methods (``ping``, ``status``, ``health`` ...) are safe to repeat.
    """

    request_sent = True


class ProtocolError(Exception):
    """The daemon sent a line that is not a valid JSON-RPC reply."""
