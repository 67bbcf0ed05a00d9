"""Typed view of a ``complete`` result."""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

__all__ = ["CompletionResult", "format_attempts", "format_route"]


@dataclass(frozen=True)
class CompletionResult:
    """The result of a ``complete`` call.

    Field names and meanings follow the daemon's result object; ``raw`` keeps
    the full decoded dict (including any fields added in later versions).
    ``route`` lists every model of the chain in planned order with its
    ``place``, ``reason`` (``healthy``, ``degraded``, ``open``, ...) and, for an
    open breaker, ``until``/``until_ms``; it is empty from a daemon without it.

    ``cost_usd`` is what every attempt cost together; ``primary_cost_usd`` what
    the chain's first model would have cost for the same input and output
    tokens; ``fallback_cost_delta_usd`` is ``cost_usd - primary_cost_usd``
    (negative when falling back saved money).  Both are None from a daemon
    without the cost ledger.
    """

    content: str
    model_used: str
    model_id: str
    provider: str
    task: str
    chain: str
    fallback_count: int
    used_fallback: bool
    latency_ms: int
    attempts: List[Dict[str, Any]]
    usage: Dict[str, Any]
    cost_usd: float
    request_id: str
    raw: Dict[str, Any] = field(repr=False, compare=False)
    route: List[Dict[str, Any]] = field(default_factory=list)
    primary_cost_usd: Optional[float] = None
    fallback_cost_delta_usd: Optional[float] = None

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> "CompletionResult":
        """Build a result from the daemon's JSON object (missing fields get neutral defaults)."""
        if not isinstance(result, Mapping):
            raise TypeError(f"complete result must be an object, got {type(result).__name__}")
        attempts = result.get("attempts")
        usage = result.get("usage")
        route = result.get("route")
        return cls(
            content=result.get("content") or "",
            model_used=result.get("model_used") or "",
            model_id=result.get("model_id") or "",
            provider=result.get("provider") or "",
            task=result.get("task") or "",
            chain=result.get("chain") or "",
            fallback_count=int(result.get("fallback_count") or 0),
            used_fallback=bool(result.get("used_fallback", False)),
            latency_ms=result.get("latency_ms") or 0,
            attempts=[dict(a) for a in attempts if isinstance(a, Mapping)] if isinstance(attempts, list) else [],
            usage=dict(usage) if isinstance(usage, Mapping) else {},
            cost_usd=float(result.get("cost_usd") or 0.0),
            request_id=result.get("request_id") or "",
            raw=dict(result),
            route=[dict(e) for e in route if isinstance(e, Mapping)] if isinstance(route, list) else [],
            primary_cost_usd=_number(result.get("primary_cost_usd")),
            fallback_cost_delta_usd=_number(result.get("fallback_cost_delta_usd")),
        )

    @property
    def input_tokens(self) -> Optional[int]:
        return self.usage.get("input_tokens")

    @property
    def output_tokens(self) -> Optional[int]:
        return self.usage.get("output_tokens")

    def attempts_summary(self) -> str:
        """One-line attempt chain, e.g. ``"gpt-4o:server_error -> claude-3-5-sonnet:ok"``."""
        return format_attempts(self.attempts)

    def route_summary(self) -> str:
        """One-line route, e.g. ``"gpt-4o:open -> claude-3-5-sonnet:healthy"``."""
        return format_route(self.route)


def _number(value: Any) -> Optional[float]:
    """A JSON number as a float; None for null, a missing member or another type."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def format_attempts(attempts: Iterable[Mapping[str, Any]]) -> str:
    """Render attempts as ``"model:ok"`` / ``"model:<error_type>"`` joined by ``" -> "``.

    Works for both ``CompletionResult.attempts`` and the ``attempts`` carried
    by :class:`~fallbackd_client.errors.AllModelsFailed` /
    :class:`~fallbackd_client.errors.DeadlineExceeded`.
    """
    parts = []
    for attempt in attempts:
        model = attempt.get("model") or "?"
        if attempt.get("outcome") == "success":
            status = "ok"
        else:
            status = attempt.get("error_type") or attempt.get("outcome") or "error"
        parts.append(f"{model}:{status}")
    return " -> ".join(parts)


def format_route(route: Iterable[Mapping[str, Any]]) -> str:
    """Render a route as ``"model:reason"`` joined by ``" -> "``.

    Works for ``CompletionResult.route``, the ``route`` of the ``route`` method,
    and the ``route`` carried by chain-failure errors (-32001, -32002, -32003).
    """
    return " -> ".join(f"{entry.get('model') or '?'}:{entry.get('reason') or '?'}" for entry in route)
