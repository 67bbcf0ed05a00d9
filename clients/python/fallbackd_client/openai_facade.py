"""The official ``openai`` SDK wired to fallbackd's OpenAI-compatible HTTP endpoint.

fallbackd serves ``POST /v1/chat/completions`` (and ``/v1/models``) on an HTTP Unix socket beside its
JSON-RPC socket; ``status()`` reports it as ``http_socket``.  :meth:`FallbackClient.openai` builds an
``openai.OpenAI`` whose HTTP client connects to that socket, so code written for OpenAI runs through
fallbackd's chains unchanged::

    with FallbackClient() as fb:
        oai = fb.openai()
        reply = oai.chat.completions.create(model="default", messages=[{"role": "user", "content": "Hi"}])
        print(reply.model)                      # the pool model that served
        print(reply.model_extra["fallbackd"])   # request_id, fallback_count, cost_usd, attempts, ...

``model`` names a task (``"default"``, ``"fallbackd/<task>"``) or a pool model; fallbackd's own
parameters (``timeout_ms``, ``metadata``, ``shadow``) go in ``extra_body``.

``openai`` is optional: only this helper needs it (``pip install openai``).  The SDK is built on
httpx (openai 1.x) or httpx2 (openai 3.x); the transport is made with the library the installed SDK uses.
"""

import importlib
from typing import Any, Mapping

__all__ = ["openai_client", "http_socket_of", "PLACEHOLDER_API_KEY", "BASE_URL"]

PLACEHOLDER_API_KEY = "fallbackd-unix-socket"
"""Sent as the API key when none is given: the Unix socket needs no key, but the SDK insists on one
(and must not pick up a real ``OPENAI_API_KEY`` from the environment to send it here)."""

BASE_URL = "http://localhost/v1"
"""The host part is ignored on a Unix socket; the path is the facade's OpenAI prefix."""

_MISSING_OPENAI = (
    "FallbackClient.openai() needs the official `openai` package, which is not installed: "
    "pip install openai  (fallbackd_client itself needs nothing beyond the standard library)"
)


def _import_openai() -> Any:
    try:
        return importlib.import_module("openai")
    except ImportError as exc:
        raise ImportError(_MISSING_OPENAI, name="openai") from exc


def _http_library(openai: Any) -> Any:
    """httpx or httpx2: whichever the installed SDK's default HTTP client is built on."""
    default = getattr(openai, "DefaultHttpxClient", None)
    for cls in getattr(default, "__mro__", ()):
        root = cls.__module__.split(".")[0]
        if root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    for root in ("httpx2", "httpx"):
        try:
            return importlib.import_module(root)
        except ImportError:
            continue
    raise ImportError(f"cannot find the HTTP library (httpx or httpx2) of openai {getattr(openai, '__version__', '?')}")


def http_socket_of(status: Mapping[str, Any]) -> str:
    """The HTTP socket path from a ``status`` result; RuntimeError when the daemon serves none."""
    path = status.get("http_socket") if isinstance(status, Mapping) else None
    if not isinstance(path, str) or not path:
        raise RuntimeError(
            "the daemon reports no http_socket in `status`: its OpenAI-compatible endpoint is off "
            "([facade] enabled = false) or the daemon predates it")
    return path


def check_kwargs(kwargs: Mapping[str, Any]) -> None:
    if "http_client" in kwargs:
        raise TypeError("openai(): http_client is built by this helper (it connects to the daemon's HTTP socket); "
                        "use openai.OpenAI(...) directly to bring your own")


def openai_client(status: Mapping[str, Any], **kwargs: Any) -> Any:
    """An ``openai.OpenAI`` talking to the HTTP socket named in ``status`` (a ``status()`` result).

    ``kwargs`` go to ``openai.OpenAI`` (``timeout``, ``max_retries``, ``default_headers``, ...);
    ``api_key`` defaults to a placeholder and ``base_url`` to :data:`BASE_URL`.  ``http_client`` is
    refused: the point of this helper is the client it builds.
    """
    check_kwargs(kwargs)
    openai = _import_openai()
    path = http_socket_of(status)
    lib = _http_library(openai)
    kwargs.setdefault("api_key", PLACEHOLDER_API_KEY)
    kwargs.setdefault("base_url", BASE_URL)
    factory = getattr(openai, "DefaultHttpxClient", None) or lib.Client
    http_client = factory(transport=lib.HTTPTransport(uds=path))
    return openai.OpenAI(http_client=http_client, **kwargs)
