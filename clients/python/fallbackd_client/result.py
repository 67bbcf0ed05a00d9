"""Typed view of a ``complete`` result, and of the tool calls in it."""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

__all__ = ["CompletionResult", "ToolCall", "format_attempts", "format_route"]


@dataclass(frozen=True)
class ToolCall:
    """One function call the model made, with its arguments parsed on demand.

    ``arguments_json`` is the JSON text the model produced (as in OpenAI's
    ``function.arguments``); :attr:`arguments` parses it.
    """

    id: str
    name: str
    arguments_json: str

    @property
    def arguments(self) -> Any:
        """The parsed arguments (usually a dict; ``{}`` for empty text).

        Raises :class:`ValueError` naming the call when the model produced invalid JSON.
        """
        if not self.arguments_json.strip():
            return {}
        try:
            return json.loads(self.arguments_json)
        except ValueError as exc:
            raise ValueError(f"tool call {self.id} ({self.name}) has arguments that are not JSON: {exc}; "
                             f"text: {self.arguments_json[:200]!r}") from None

    def result_message(self, content: Any) -> Dict[str, Any]:
        """The ``tool`` message answering this call; a non-string ``content`` is sent as JSON text."""
        text = content if isinstance(content, str) else json.dumps(content)
        return {"role": "tool", "tool_call_id": self.id, "content": text}

    @classmethod
    def from_dict(cls, call: Mapping[str, Any]) -> "ToolCall":
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        arguments = function.get("arguments")
        return cls(id=str(call.get("id") or ""), name=str(function.get("name") or ""),
                   arguments_json=arguments if isinstance(arguments, str) else json.dumps(arguments or {}))


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

    ``content`` is None when the model only called tools (``tool_calls``, in
    OpenAI's shape, then says what to call; :meth:`parsed_tool_calls` parses
    their arguments) or refused (``refusal``); :attr:`text` is the content or
    ``""``.  ``finish_reason`` is normalised (``stop``, ``length``,
    ``tool_calls``, ``content_filter``), ``provider_finish_reason`` is the
    provider's own.  ``ignored_fields`` lists request fields the serving model
    went without.  ``usage`` has ``input_tokens``, ``output_tokens``,
    ``cached_input_tokens``, ``cache_write_tokens`` and ``reasoning_tokens``,
    also as properties of the same names.
    """

    content: Optional[str]
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
    tool_calls: List[Dict[str, Any]] = field(default_factory=list)
    refusal: Optional[str] = None
    finish_reason: Optional[str] = None
    provider_finish_reason: Optional[str] = None
    ignored_fields: List[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> "CompletionResult":
        """Build a result from the daemon's JSON object (missing fields get neutral defaults)."""
        if not isinstance(result, Mapping):
            raise TypeError(f"complete result must be an object, got {type(result).__name__}")
        attempts = result.get("attempts")
        usage = result.get("usage")
        route = result.get("route")
        tool_calls = result.get("tool_calls")
        ignored = result.get("ignored_fields")
        return cls(
            content=_text(result.get("content")),
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
            tool_calls=[dict(c) for c in tool_calls if isinstance(c, Mapping)] if isinstance(tool_calls, list) else [],
            refusal=_text(result.get("refusal")),
            finish_reason=_text(result.get("finish_reason")),
            provider_finish_reason=_text(result.get("provider_finish_reason")),
            ignored_fields=[f for f in ignored if isinstance(f, str)] if isinstance(ignored, list) else [],
        )

    @property
    def text(self) -> str:
        """``content``, or ``""`` when there is none (tool calls only, a refusal)."""
        return self.content or ""

    def parsed_tool_calls(self) -> List[ToolCall]:
        """``tool_calls`` as :class:`ToolCall` objects (``.id``, ``.name``, ``.arguments`` parsed from JSON)."""
        return [ToolCall.from_dict(call) for call in self.tool_calls]

    def to_message(self) -> Dict[str, Any]:
        """This answer as the ``assistant`` message to append to ``messages`` for the next turn."""
        message: Dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [dict(c) for c in self.tool_calls]
        if self.refusal is not None:
            message["refusal"] = self.refusal
        return message

    @property
    def input_tokens(self) -> Optional[int]:
        return self.usage.get("input_tokens")

    @property
    def output_tokens(self) -> Optional[int]:
        return self.usage.get("output_tokens")

    @property
    def cached_input_tokens(self) -> Optional[int]:
        """Input tokens read from the provider's prompt cache (part of ``input_tokens``)."""
        return self.usage.get("cached_input_tokens")

    @property
    def cache_write_tokens(self) -> Optional[int]:
        """Input tokens written to the provider's prompt cache (part of ``input_tokens``)."""
        return self.usage.get("cache_write_tokens")

    @property
    def reasoning_tokens(self) -> Optional[int]:
        """Output tokens spent on reasoning (part of ``output_tokens``)."""
        return self.usage.get("reasoning_tokens")

    def attempts_summary(self) -> str:
        """One-line attempt chain, e.g. ``"gpt-4o:server_error -> claude-3-5-sonnet:ok"``."""
        return format_attempts(self.attempts)

    def route_summary(self) -> str:
        """One-line route, e.g. ``"gpt-4o:open -> claude-3-5-sonnet:healthy"``."""
        return format_route(self.route)


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


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
