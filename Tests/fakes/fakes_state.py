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
        # `hold` steps wait on their model's gate; release() opens it (see fake_providers.py)
        self.gates: dict[str, threading.Event] = {}
        self.all_released = threading.Event()

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
            # requests still held keep their own (old) gate objects: release them, so none outlives a test
            for gate in self.gates.values():
                gate.set()
            self.gates = {}
            self.all_released.set()
            self.all_released = threading.Event()

    def gate(self, model) -> threading.Event:
        """The gate `hold` requests of `model` wait on (created closed)."""
        with self.lock:
            g = self.gates.get(model)
            if g is None:
                g = self.gates[model] = threading.Event()
            return g

    def released(self, gate: threading.Event, all_released: threading.Event) -> bool:
        return gate.is_set() or all_released.is_set()

    def release(self, model=None):
        """Open `model`'s gate (every model's when None): held requests answer, later `hold` steps pass at once."""
        if model is None:
            with self.lock:
                self.all_released.set()
            return
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string")
        self.gate(model).set()

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
