"""The fake providers' shared state: per-model scripts and recorded requests (see fake_providers.py)."""

from __future__ import annotations

import collections
import copy
import socket
import threading

from fakes_common import normalize_step


class _Script:
    def __init__(self, steps, then):
        self.steps = collections.deque(steps)
        self.then = then


class FakeState:
    def __init__(self):
        self.lock = threading.Lock()
        self.scripts: dict[str, _Script] = {}
        self.requests: list[dict] = []
        self.stop_event = threading.Event()
        self.connections: set[socket.socket] = set()
        self.counter = 0
        self.seq = 0

    def set_script(self, model, steps, then="ok"):
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string")
        if steps is None:
            steps = []
        if not isinstance(steps, list):
            raise ValueError("steps must be a list")
        norm = [normalize_step(s) for s in steps]
        then_n = normalize_step(then if then is not None else "ok")
        with self.lock:
            self.scripts[model] = _Script(norm, then_n)

    def next_step(self, model) -> dict:
        with self.lock:
            script = self.scripts.get(model) or self.scripts.get("*")
            if script is None:
                return {"kind": "ok"}
            if script.steps:
                return dict(script.steps.popleft())
            return dict(script.then)

    def reset(self):
        with self.lock:
            self.scripts.clear()
            self.requests.clear()
            self.seq = 0

    def record(self, entry: dict):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.requests.append(entry)

    def update(self, entry: dict, **fields):
        with self.lock:
            entry.update(fields)

    def snapshot(self) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self.requests)

    def next_id(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter
