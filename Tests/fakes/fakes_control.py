"""The fake providers' Python API: in-process FakeProviders and RemoteFakeProviders over the control routes."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request

from fakes_common import BASE_PATHS
from fakes_server import make_server


class _Addresses:
    """The URLs a fake server answers on; needs `host` and `port`."""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, kind: str) -> str:
        """openai | openai-compatible (or compat) | anthropic | gemini -> base_url for the daemon's config."""
        try:
            return self.url + BASE_PATHS[kind]
        except KeyError:
            raise ValueError(f"unknown provider kind {kind!r}") from None


class FakeProviders(_Addresses):
    """An in-process fake provider server on a background thread."""

    def __init__(self, host="127.0.0.1", port=0, verbose=False):
        self._server, self._state = make_server(host, port, verbose)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-providers", daemon=True
        )
        self._thread.start()
        self._stopped = False


    def script(self, model: str, steps=(), then="ok"):
        self._state.set_script(model, list(steps), then)

    def requests(self, model: str | None = None, flavor: str | None = None) -> list[dict]:
        out = self._state.snapshot()
        if model is not None:
            out = [r for r in out if r.get("model") == model]
        if flavor is not None:
            out = [r for r in out if r.get("flavor") == flavor]
        return out

    def reset(self):
        self._state.reset()

    def release(self, model: str | None = None):
        """Let the requests held by `hold` steps of `model` (of every model when None) answer."""
        self._state.release(model)

    def stop(self):
        if self._stopped:
            return
        self._stopped = True
        self._state.stop_event.set()
        self._server.shutdown()
        with self._state.lock:
            conns = list(self._state.connections)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_fake_providers(host="127.0.0.1", port=0, verbose=False) -> FakeProviders:
    return FakeProviders(host, port, verbose)


class RemoteFakeProviders(_Addresses):
    """The FakeProviders API over the control routes of a server run as a script."""

    def __init__(self, port: int, host="127.0.0.1", timeout=10.0):
        self.host = host
        self.port = port
        self.timeout = timeout


    def _call(self, method, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def script(self, model, steps=(), then="ok"):
        return self._call("POST", "/_control/script", {"model": model, "steps": list(steps), "then": then})

    def requests(self, model=None, flavor=None):
        out = self._call("GET", "/_control/requests")
        if model is not None:
            out = [r for r in out if r.get("model") == model]
        if flavor is not None:
            out = [r for r in out if r.get("flavor") == flavor]
        return out

    def reset(self):
        return self._call("POST", "/_control/reset", {})

    def release(self, model=None):
        return self._call("POST", "/_control/release", {} if model is None else {"model": model})

    def stop(self):  # the process owner stops it
        pass
