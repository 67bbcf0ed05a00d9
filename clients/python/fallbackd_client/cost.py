"""The cost methods: the spend report and the shadow-testing report.

Mixed into :class:`~fallbackd_client.FallbackClient`; each method sends one
request through :meth:`FallbackClient.call` and returns the decoded result
object, as ``health()`` does.  Both reports are computed by the daemon from
its call log (SQLite); nothing is sent to any provider.
"""

import datetime
from typing import Any, Dict, Optional, Union

__all__ = ["CostMethods", "COST_ROW_FIELDS", "SHADOW_PAIR_FIELDS", "unix_millis"]

COST_ROW_FIELDS = (
    "key", "requests", "attempts", "input_tokens", "output_tokens", "spend_usd", "served_by_fallback",
    "fallback_share", "fallback_extra_usd", "failed_attempts", "failed_cost_usd", "shadow_calls",
    "shadow_spend_usd",
)
"""The members of every row of ``cost_report()`` (``totals``, ``by_task``, ``by_model``, ``weekly``)."""

SHADOW_PAIR_FIELDS = (
    "primary_model", "shadow_model", "calls", "primary_success_rate", "shadow_success_rate",
    "latency_ratio", "cost_ratio", "mean_similarity",
)
"""The members of every entry of ``shadow_report()["pairs"]``."""

Moment = Union[int, datetime.datetime]


def unix_millis(moment: Moment) -> int:
    """``moment`` as Unix milliseconds: an int is taken as is, a datetime converted.

    A naive datetime is read as local time, as :meth:`datetime.datetime.timestamp` does;
    pass ``tzinfo=datetime.timezone.utc`` for UTC.
    """
    if isinstance(moment, datetime.datetime):
        return int(round(moment.timestamp() * 1000))
    if isinstance(moment, bool) or not isinstance(moment, int):
        raise TypeError(f"since/until must be unix milliseconds (int) or a datetime, not {type(moment).__name__}")
    return moment


def _period(days: Optional[int], since: Optional[Moment], until: Optional[Moment]) -> Dict[str, Any]:
    """The shared period params: ``days``, or ``since``/``until``; never both (the daemon refuses it too)."""
    if days is not None and (since is not None or until is not None):
        raise ValueError("give days, or since/until, not both")
    if until is not None and since is None:
        raise ValueError("until needs since")
    params: Dict[str, Any] = {}
    if days is not None:
        params["days"] = days
    if since is not None:
        params["since"] = unix_millis(since)
    if until is not None:
        params["until"] = unix_millis(until)
    return params


class CostMethods:
    """``cost.report`` and ``shadow.report``."""

    def call(self, method: str, params: Any = None, *, timeout: Optional[float] = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def cost_report(self, days: Optional[int] = None, since: Optional[Moment] = None, until: Optional[Moment] = None,
                    weeks: Optional[int] = None) -> Dict[str, Any]:
        """Spend per task and per model over a period, the totals, and the totals week by week.

        The period is the last ``days`` (1..3660, daemon default 7) back from now,
        or ``since`` to ``until`` (Unix milliseconds or datetimes; ``until``
        defaults to now).  ``weeks`` (1..520, daemon default 8) is how many UTC
        weeks (Monday to Monday) the ``weekly`` list covers, ending at ``until``.

        Returns ``{"since", "until", "since_ms", "until_ms", "days", "totals",
        "by_task", "by_model", "weekly"}``; every row has the members of
        :data:`COST_ROW_FIELDS`, weekly rows also ``week_start``/``week_start_ms``.
        ``fallback_extra_usd`` is negative when fallbacks were cheaper than the primary.
        Raises :class:`ValueError` for ``days`` with ``since``/``until`` (before
        sending), :class:`InvalidParams` for what the daemon rejects.
        """
        params = _period(days, since, until)
        if weeks is not None:
            params["weeks"] = weeks
        return self.call("cost.report", params or None)

    def shadow_report(self, days: Optional[int] = None, since: Optional[Moment] = None,
                      until: Optional[Moment] = None) -> Dict[str, Any]:
        """How each shadow model compared with the model it shadowed over a period.

        The period works as in :meth:`cost_report` (default: the last 7 days).
        Returns ``{"since", "until", "days", "pairs": [...]}``; each pair has the
        members of :data:`SHADOW_PAIR_FIELDS`.  ``latency_ratio``, ``cost_ratio``
        and ``mean_similarity`` cover the calls where both sides succeeded and
        are None when there were none.
        """
        return self.call("shadow.report", _period(days, since, until) or None)
