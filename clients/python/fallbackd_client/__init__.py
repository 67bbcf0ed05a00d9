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

Only the standard library is used.
"""

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
    error_from_object,
)
from .resilience import ERROR_TYPES
from .result import CompletionResult, format_attempts, format_route

__version__ = "0.1.0"

__all__ = [
    "FallbackClient",
    "default_socket_path",
    "DEFAULT_TIMEOUT",
    "CompletionResult",
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
    "DaemonUnavailable",
    "RequestInterrupted",
    "ProtocolError",
    "ERROR_CLASSES",
    "error_from_object",
    "__version__",
]
