"""Python client for fallbackd, the LLM fallback daemon.

fallbackd speaks line-delimited JSON-RPC 2.0 over a Unix socket (see
docs/protocol.md).  Typical use::

    from fallbackd_client import FallbackClient, AllModelsFailed

    with FallbackClient() as client:
        result = client.complete("Summarise this paragraph ...", task="document_analysis")
        print(result.model_used, result.fallback_count, result.cost_usd)
        print(result.route_summary())          # gpt-4o:open -> claude-3-5-sonnet:healthy
        print(client.breakers())               # {"breakers": [{"model", "state", "until", ...}]}
        print(client.cost_report(days=7)["totals"]["spend_usd"])

``complete`` takes an OpenAI Chat Completions request (messages as the OpenAI
SDK takes them, ``tools``, ``tool_choice``, ``response_format``, the sampling
options as keywords, anything else in ``extra={...}``) plus fallbackd's own
``task``, ``models``, ``timeout_ms``, ``metadata`` and ``shadow``; the result
has ``content``, ``tool_calls``, ``refusal``, ``finish_reason`` and ``usage``.
``client.stream(...)`` yields :class:`Delta`/:class:`Reset` events as they
arrive (see :mod:`fallbackd_client.streaming`); :class:`AsyncFallbackClient` is
the asyncio client (see :mod:`fallbackd_client.aio`)::

    stream = client.stream(messages, task="chat", tools=[...], on_interrupt="restart")
    for event in stream:
        if isinstance(event, Reset):       # the model failed mid-answer; another one starts over
            discard_what_you_showed()
        elif event.content:
            show(event.content)
    result = stream.result                 # the whole CompletionResult, as complete() returns it

Only the standard library is used.
"""

from .aio import AsyncCompletionStream, AsyncFallbackClient
from .client import DEFAULT_TIMEOUT, FallbackClient, default_socket_path
from .cost import COST_ROW_FIELDS, SHADOW_PAIR_FIELDS
from .errors import (
    ERROR_CLASSES,
    AllBreakersOpen,
    AllModelsFailed,
    BudgetExceeded,
    DaemonUnavailable,
    DeadlineExceeded,
    FallbackError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    Overloaded,
    ParseError,
    ProtocolError,
    RequestInterrupted,
    ShuttingDown,
    StreamInterrupted,
    error_from_object,
)
from .request import complete_params
from .resilience import ERROR_TYPES
from .result import CompletionResult, ToolCall, format_attempts, format_route
from .streaming import CompletionStream, Delta, Reset, StreamAccumulator, StreamEvent, parse_event

__version__ = "0.1.0"

__all__ = [
    "FallbackClient",
    "AsyncFallbackClient",
    "default_socket_path",
    "DEFAULT_TIMEOUT",
    "complete_params",
    "CompletionResult",
    "ToolCall",
    "CompletionStream",
    "AsyncCompletionStream",
    "Delta",
    "Reset",
    "StreamEvent",
    "StreamAccumulator",
    "parse_event",
    "format_attempts",
    "format_route",
    "ERROR_TYPES",
    "COST_ROW_FIELDS",
    "SHADOW_PAIR_FIELDS",
    "FallbackError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "ShuttingDown",
    "AllModelsFailed",
    "DeadlineExceeded",
    "AllBreakersOpen",
    "BudgetExceeded",
    "Overloaded",
    "StreamInterrupted",
    "DaemonUnavailable",
    "RequestInterrupted",
    "ProtocolError",
    "ERROR_CLASSES",
    "error_from_object",
    "__version__",
]
