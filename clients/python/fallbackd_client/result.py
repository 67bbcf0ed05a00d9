"""Typed view of a ``complete`` result."""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

__all__ = ["CompletionResult", "format_attempts"]


@dataclass(frozen=True)
class CompletionResult:
    """The result of a ``complete`` call.

    Field names and meanings follow the daemon's result object; ``raw`` keeps
    the full decoded dict (including any fields added in later versions).
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

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> "CompletionResult":
        """Build a result from the daemon's JSON object (missing fields get neutral defaults)."""
        if not isinstance(result, Mapping):
            raise TypeError(f"complete result must be an object, got {type(result).__name__}")
        attempts = result.get("attempts")
        usage = result.get("usage")
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
