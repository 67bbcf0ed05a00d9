"""The resilience methods: health, circuit breakers, routes and outside reports.

Mixed into :class:`~fallbackd_client.FallbackClient`; every method sends one
request through :meth:`FallbackClient.call` and returns the decoded result
object, as ``models()`` and ``chains()`` do.
"""

from typing import Any, Dict, Mapping, Optional

__all__ = ["ResilienceMethods", "ERROR_TYPES"]

ERROR_TYPES = (
    "rate_limited", "overloaded", "server_error", "timeout", "connection", "auth", "quota", "misconfigured",
    "invalid_request", "context_length", "content_filter", "truncated", "bad_response", "cancelled",
    "local_capacity",
)
"""The ``error_type`` values of ``complete`` attempts (and of -32006's ``reason``), which
``report(outcome="error", error_type=...)`` accepts too (the daemon checks)."""

_OUTCOMES = ("success", "error")


class ResilienceMethods:
    """``health``, ``breakers``, ``breaker.reset``, ``breaker.isolate``, ``route``, ``report`` and ``fleet``."""

    def call(self, method: str, params: Any = None, *, timeout: Optional[float] = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def health(self, window_minutes: Optional[int] = None) -> Dict[str, Any]:
        """Each pool model's success rate, latency and breaker over the last ``window_minutes``.

        ``window_minutes`` is 1..60; ``None`` uses the daemon's default of 15.
        Returns ``{"window_minutes": int, "models": [{"model", "provider", "calls",
        "successes", "success_rate", "avg_latency_ms", "p50_latency_ms",
        "p95_latency_ms", "p99_latency_ms", "degraded", "breaker", "breaker_until"}, ...]}``.
        Raises :class:`InvalidParams` for a window out of range.
        """
        params = None if window_minutes is None else {"window_minutes": window_minutes}
        return self.call("health", params)

    def breakers(self) -> Dict[str, Any]:
        """Every pool model's circuit breaker, in priority order: ``{"breakers": [...]}``.

        Each entry has ``model``, ``state`` (``closed``, ``open``, ``half_open``,
        ``isolated``), ``until``/``until_ms`` (while open), ``consecutive_failures``,
        ``failure_rate``, ``slow_rate``, ``calls_in_window``, ``trips``, ``level``,
        ``misconfigured``, ``last_trip_reason`` and ``probes_in_flight``.
        """
        return self.call("breakers")

    def breaker_reset(self, model: str) -> Dict[str, Any]:
        """Close ``model``'s breaker (counters cleared, level 0, isolation lifted); returns the breaker.

        Raises :class:`InvalidParams` (``field == "model"``) for a name not in the pool.
        """
        return self.call("breaker.reset", {"model": model})

    def breaker_isolate(self, model: str) -> Dict[str, Any]:
        """Take ``model`` out of every chain until :meth:`breaker_reset`; returns the breaker."""
        return self.call("breaker.isolate", {"model": model})

    def fleet(self, all: bool = False) -> Dict[str, Any]:
        """The sidecars sharing breakers with this daemon through PostgreSQL (``[fleet]``).

        Returns ``{"enabled": False}`` without a fleet; with one, ``{"enabled", "fleet", "host",
        "connected", "last_error", "probe_leases", "events", "reconnects", "members": [{"host",
        "last_seen", "last_seen_ms", "self", "breakers": [{"model", "state", "until_ms", "opened_by",
        "reason", "misconfigured"}]}]}``. ``all=True`` lists closed breakers too. The daemon answers from
        what it last read: the call never waits on the database.
        """
        return self.call("fleet", {"all": True} if all else None)

    def route(self, task: str = "default") -> Dict[str, Any]:
        """The order a ``complete`` for ``task`` would try models in now, skipped models last.

        Returns ``{"task", "chain", "route": [...]}``; each route entry is
        ``{"model", "place", "reason"}`` plus ``until``/``until_ms`` for an open
        breaker.  An unknown task gets the default chain (see ``chain``).
        Nothing is sent to any provider.
        """
        return self.call("route", {"task": task})

    def report(self, model: str, outcome: str, latency_ms: int, error_type: Optional[str] = None,
               usage: Optional[Mapping[str, int]] = None, http_status: Optional[int] = None,
               task: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Report a call the app made to a provider itself, so it counts like one fallbackd made.

        ``outcome`` is ``"success"`` or ``"error"``; ``error_type`` is required
        with ``"error"`` (one of :data:`ERROR_TYPES`) and not allowed with
        ``"success"``.  ``usage`` is ``{"input_tokens", "output_tokens"}``.
        Returns ``{"model", "counted", "breaker", "cost_usd", "request_id"}``.
        Raises :class:`ValueError` for an outcome/error_type mismatch before
        sending, :class:`InvalidParams` for what the daemon rejects.
        """
        if outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be 'success' or 'error', not {outcome!r}")
        if outcome == "error" and not error_type:
            raise ValueError("error_type is required when outcome is 'error'")
        if outcome == "success" and error_type is not None:
            raise ValueError("error_type goes with outcome 'error' only")
        params: Dict[str, Any] = {"model": model, "outcome": outcome, "latency_ms": latency_ms}
        if error_type is not None:
            params["error_type"] = error_type
        if usage is not None:
            params["usage"] = dict(usage)
        if http_status is not None:
            params["http_status"] = http_status
        if task is not None:
            params["task"] = task
        if metadata is not None:
            params["metadata"] = dict(metadata)
        return self.call("report", params)
