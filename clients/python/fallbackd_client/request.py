"""Building ``complete`` params: an OpenAI Chat Completions request plus fallbackd's own fields.

Shared by :class:`~fallbackd_client.FallbackClient` and
:class:`~fallbackd_client.AsyncFallbackClient`.  Every option left as ``None``
is left out of the request (the daemon's default applies); nothing is sent as
``null`` unless the caller put it in ``extra``.  Only cheap, unambiguous checks
happen here (shapes Python can get wrong, clashes between ``extra`` and the
named options); the daemon validates everything else and answers
:class:`~fallbackd_client.errors.InvalidParams` naming the field.
"""

from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

__all__ = ["Messages", "complete_params", "normalize_messages", "reply_wait", "OPENAI_FIELDS", "OWN_FIELDS"]

Messages = Union[str, Iterable[Mapping[str, Any]]]

OPENAI_FIELDS = (
    "tools", "tool_choice", "parallel_tool_calls", "response_format", "max_completion_tokens", "max_tokens",
    "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "user",
    "reasoning_effort", "stream_options",
)
"""OpenAI request fields with a keyword argument of their own (besides ``messages`` and ``stream``)."""

OWN_FIELDS = ("task", "models", "timeout_ms", "metadata", "shadow", "on_interrupt")
"""fallbackd's own fields, never sent to a provider."""

_RESERVED = frozenset(("messages", "stream") + OPENAI_FIELDS + OWN_FIELDS)

# Extra client-side slack on top of a complete() call's own timeout_ms.
DEADLINE_SLACK_S = 5.0


def _plain(obj: Any, what: str) -> Dict[str, Any]:
    """A message/tool as a dict: a Mapping, or an SDK model object with ``model_dump()``."""
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)  # e.g. the OpenAI SDK's ChatCompletionMessage
    if callable(dump):
        value = dump(exclude_none=True)
        if isinstance(value, Mapping):
            return dict(value)
    raise TypeError(f"{what} must be a dict like the OpenAI SDK takes, not {type(obj).__name__}: {obj!r:.100}")


def normalize_messages(messages: Messages) -> List[Dict[str, Any]]:
    """A plain string becomes one user message; otherwise a list of message dicts (shallow copies)."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, Mapping):
        raise TypeError("messages must be a list of message dicts (or a string), not a single dict")
    return [_plain(m, f"messages[{i}]") for i, m in enumerate(messages)]


def complete_params(messages: Messages, task: Optional[str] = "default", models: Any = None,
                    max_tokens: Optional[int] = None, temperature: Optional[float] = None,
                    timeout_ms: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None,
                    shadow: Optional[bool] = None, *, stream: bool = False,
                    extra: Optional[Mapping[str, Any]] = None, **fields: Any) -> Dict[str, Any]:
    """The ``params`` object of a ``complete`` request.

    ``fields`` are the other named options (``tools``, ``tool_choice``, ...,
    ``on_interrupt``, ``stream_options``); unknown names are a TypeError.
    ``extra`` holds pass-through members without a keyword of their own
    (``logprobs``, ``service_tier``, ``prediction``, ...); a key that has one
    (or ``messages``/``stream``) is a ValueError, so nothing is given twice.
    """
    unknown = sorted(set(fields) - set(OPENAI_FIELDS) - {"on_interrupt"})
    if unknown:
        raise TypeError(f"unknown complete option(s) {', '.join(unknown)}; pass other fields in extra={{...}}")
    params: Dict[str, Any] = {"messages": normalize_messages(messages)}
    if "tools" in fields and fields["tools"] is not None:
        fields["tools"] = [_plain(t, f"tools[{i}]") for i, t in enumerate(fields["tools"])]
    for name in OPENAI_FIELDS:
        value = max_tokens if name == "max_tokens" else temperature if name == "temperature" else fields.get(name)
        if value is not None:
            params[name] = dict(value) if isinstance(value, Mapping) else value
    if stream:
        params["stream"] = True
    if task is not None:
        params["task"] = task
    if models is not None:
        params["models"] = [models] if isinstance(models, str) else list(models)
    if timeout_ms is not None:
        params["timeout_ms"] = timeout_ms
    if metadata is not None:
        params["metadata"] = dict(metadata)
    if shadow is not None:
        params["shadow"] = bool(shadow)
    if fields.get("on_interrupt") is not None:
        params["on_interrupt"] = fields["on_interrupt"]
    if extra:
        if not isinstance(extra, Mapping):
            raise TypeError(f"extra must be a dict of pass-through fields, not {type(extra).__name__}")
        for key, value in extra.items():
            if not isinstance(key, str):
                raise TypeError(f"extra keys must be strings, not {key!r}")
            if key in _RESERVED:
                hint = "use stream()" if key == "stream" else f"pass {key}= as a keyword argument"
                raise ValueError(f"{key!r} does not go in extra: {hint}")
            params[key] = value
    return params


def reply_wait(client_timeout: Optional[float], timeout_ms: Any) -> Optional[float]:
    """How long to wait for a ``complete`` reply (or the next stream event).

    ``None`` keeps the client timeout; a ``timeout_ms`` longer than it extends
    the wait so the daemon's own deadline always fires first.
    """
    if timeout_ms is None or client_timeout is None or isinstance(timeout_ms, bool) \
            or not isinstance(timeout_ms, (int, float)):
        return None
    return max(client_timeout, timeout_ms / 1000.0 + DEADLINE_SLACK_S)
