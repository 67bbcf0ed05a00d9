"""A tiny app beside fallbackd: the official OpenAI SDK, pointed at fallbackd's HTTP Unix socket.

Nothing here knows about providers, keys or fallbacks: the app asks for a task's chain
(`model="fallbackd/simple_generation"`) and fallbackd picks the provider. The only change from
calling OpenAI directly is the http_client: an httpx transport on the Unix socket (`uds=`).
In the same network namespace (a Kubernetes pod) with `[facade] listen = "127.0.0.1:8787"`,
setting OPENAI_BASE_URL=http://127.0.0.1:8787/v1 does the same without any code change.

Environment:
  FALLBACKD_HTTP_SOCKET  the HTTP socket (default /run/fallbackd/fallbackd-http.sock)
  FALLBACKD_TASK         the chain to run (default simple_generation)
  APP_PROMPT             what to ask
Exit status: 0 when a model answered, 1 otherwise.
"""

import importlib
import os
import sys

import openai

SOCKET = os.environ.get("FALLBACKD_HTTP_SOCKET", "/run/fallbackd/fallbackd-http.sock")
TASK = os.environ.get("FALLBACKD_TASK", "simple_generation")
PROMPT = os.environ.get("APP_PROMPT", "In one sentence: why do apps need LLM provider fallbacks?")


def http_library():
    """httpx, or httpx2 for SDK releases built on it: whichever the installed SDK's client derives from."""
    for cls in openai.DefaultHttpxClient.__mro__:
        root = cls.__module__.split(".")[0]
        if root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    return importlib.import_module("httpx")


def main() -> int:
    hx = http_library()
    http = hx.Client(transport=hx.HTTPTransport(uds=SOCKET), timeout=120.0)
    # The host in base_url is not used on a Unix socket; the key is not checked there either (the
    # socket's file mode is the access control), but the SDK insists on having one.
    client = openai.OpenAI(base_url="http://fallbackd/v1", api_key="unused", http_client=http, max_retries=0)
    try:
        raw = client.chat.completions.with_raw_response.create(
            model=f"fallbackd/{TASK}",
            messages=[{"role": "user", "content": PROMPT}],
        )
        completion = raw.parse()
    except openai.APIStatusError as error:
        print(f"fallbackd answered {error.status_code}: {error.message}", file=sys.stderr)
        return 1
    except openai.APIConnectionError as error:
        print(f"cannot reach fallbackd on {SOCKET}: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    # fallbackd says which model served and how many it passed over, in headers and in the body.
    served_by = raw.headers.get("x-fallbackd-model", completion.model)
    fallbacks = raw.headers.get("x-fallbackd-fallbacks", "?")
    cost = raw.headers.get("x-fallbackd-cost-usd", "?")
    print(f"[{TASK}] served by {served_by} after {fallbacks} fallback(s), ${cost}")
    print(completion.choices[0].message.content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
