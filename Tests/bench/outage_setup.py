"""Processes and configuration of the outage matrix (Tests/bench/outage_matrix.py): the fake providers
(Tests/fakes/fake_providers.py, run as a subprocess each), fallbackd's config, the daemons, and their call logs.

The fakes run in their own processes so their threads (hanging calls poll every 50 ms) never share a GIL
with the load generator, whose clock is the measurement.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FAKES_DIR = os.path.join(REPO_ROOT, "Tests", "fakes")
if FAKES_DIR not in sys.path:
    sys.path.insert(0, FAKES_DIR)

from fakes_control import RemoteFakeProviders  # noqa: E402

KEY_ENV = {
    "FAKE_OPENAI_KEY": "sk-fake-openai-outage",
    "FAKE_ANTHROPIC_KEY": "sk-ant-fake-outage",
    "FAKE_GEMINI_KEY": "AIzaFakeGeminiOutage",
}

# pool name -> (provider, provider kind, model_id the fake scripts by); the default chain in this order
POOL = {
    "gpt-4o": ("openai", "openai", "gpt-4o"),
    "claude-3-5-sonnet": ("anthropic", "anthropic", "claude-3-5-sonnet-20241022"),
    "gemini-1-5-pro": ("gemini", "gemini", "gemini-1.5-pro"),
}
CHAIN = list(POOL)
PRIMARY, BACKUP, THIRD = CHAIN
MODEL_ID_TO_POOL = {mid: name for name, (_, _, mid) in POOL.items()}

# What fallbackd uses when a key is left out (docs/protocol.md, Configuration): the allowance of
# dead-model calls is computed from the effective values.
DEFAULTS = {
    "breaker": {"consecutive_failures": 3, "failure_rate": 0.5, "window": 20, "minimum_calls": 10,
                "slow_call_ms": 0, "slow_call_rate": 1.0, "timeout_rate": 0.25, "hang_after_ms": 10000,
                "open_ms": 300000, "auth_open_ms": 3600000},
    "recovery": {"enabled": True, "probe_interval_ms": 5000, "max_probe_interval_ms": 60000},
    "routing": {"reserve_per_model_ms": 5000, "hedge_budget_ratio": 0.1},
    "retry": {"max_retries": 1},
}


class HarnessError(RuntimeError):
    """Something the matrix needs did not work (not a missed target)."""


# --------------------------------------------------------------------------- config


def base_config(fake_url: str, database: str, hedge: str) -> dict:
    """config/fallbackd.toml's resilience defaults on the fakes, plus the matrix's few changes (see the README)."""
    providers = {
        "openai": {"kind": "openai", "base_url": fake_url + "/openai/v1", "api_key_env": "FAKE_OPENAI_KEY"},
        "anthropic": {"kind": "anthropic", "base_url": fake_url + "/anthropic/v1",
                      "api_key_env": "FAKE_ANTHROPIC_KEY", "anthropic_version": "2023-06-01"},
        "gemini": {"kind": "gemini", "base_url": fake_url + "/gemini/v1beta", "api_key_env": "FAKE_GEMINI_KEY"},
    }
    for p in providers.values():  # config/fallbackd.toml's timeouts
        p.update({"connect_timeout_ms": 5000, "timeout_ms": 30000})
    prices = {"gpt-4o": (0.005, 0.015), "claude-3-5-sonnet": (0.003, 0.015), "gemini-1-5-pro": (0.00125, 0.005)}
    models = {}
    for prio, (name, (provider, _, model_id)) in enumerate(POOL.items(), start=1):
        models[name] = {"provider": provider, "model_id": model_id, "priority": prio, "max_tokens": 4096,
                        "cost_per_1k_input": prices[name][0], "cost_per_1k_output": prices[name][1]}
    cfg = {
        # flush_interval_ms only decides how soon rows reach SQLite (read after the daemon stops)
        "daemon": {"database": database, "flush_interval_ms": 1000, "shutdown_grace_ms": 3000,
                   "log_level": "warning"},
        # shadow testing (5% by default) is a separate feature: its random calls would land on dead
        # models and differ between the two daemons; recovery probes do not depend on it
        "shadow": {"sample_rate": 0.0},
        "providers": providers,
        "models": models,
        "chains": {"default": list(CHAIN)},
        "chain_options": {"default": {}},
    }
    if hedge == "p95":
        cfg["chain_options"]["default"]["hedge_after"] = "p95"
    elif hedge not in ("", "off", "none"):
        cfg["chain_options"]["default"]["hedge_after_ms"] = int(hedge)
    if not cfg["chain_options"]["default"]:
        del cfg["chain_options"]
    return cfg


def parse_override(text: str) -> tuple[list[str], object]:
    """`breaker.slow_call_ms=1500` -> (["breaker", "slow_call_ms"], 1500); values are JSON, else strings."""
    if "=" not in text:
        raise HarnessError(f"--set {text!r}: expected section.key=value")
    path, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return path.strip().split("."), value


def apply_overrides(cfg: dict, overrides) -> dict:
    cfg = copy.deepcopy(cfg)
    for path, value in overrides:
        d = cfg
        for p in path[:-1]:
            d = d.setdefault(p, {})
        d[path[-1]] = value
    return cfg


def effective(cfg: dict, section: str, key: str):
    return cfg.get(section, {}).get(key, DEFAULTS[section][key])


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise HarnessError("non-finite number in config")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise HarnessError(f"cannot write {type(v).__name__} to TOML")


def to_toml(cfg: dict, path=()) -> str:
    """Nested dicts as [tables]; enough for this config."""
    out = []
    scalars = {k: v for k, v in cfg.items() if not isinstance(v, dict)}
    if path and scalars:
        out.append("[" + ".".join(k if _BARE.match(k) else json.dumps(k) for k in path) + "]")
    out += [f"{k if _BARE.match(k) else json.dumps(k)} = {_toml_value(v)}" for k, v in scalars.items()]
    if scalars:
        out.append("")
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.append(to_toml(v, path + (k,)))
    return "\n".join(out)


# --------------------------------------------------------------------------- processes


def _stop(proc: subprocess.Popen | None, grace_s: float) -> int | None:
    """SIGTERM, up to grace_s, then SIGKILL; returns the exit status (None if it had to be killed)."""
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        return None


class FakeServer:
    """Tests/fakes/fake_providers.py in a subprocess, driven through RemoteFakeProviders."""

    def __init__(self, log_path: str):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.join(FAKES_DIR, "fake_providers.py"), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            self.stop()
            raise HarnessError(f"fake providers did not start (first line {line!r}); see {log_path}")
        self.port = int(line.split()[1])
        self.api = RemoteFakeProviders(self.port, timeout=30.0)
        self.url = self.api.url

    def stop(self):
        _stop(self.proc, 5)
        self.log.close()


class Daemon:
    """One fallbackd on a temp socket, config and call log."""

    def __init__(self, binary: str, workdir: str, name: str, cfg: dict):
        self.binary, self.name, self.cfg = binary, name, cfg
        self.socket = os.path.join(workdir, f"{name}.sock")
        self.config_path = os.path.join(workdir, f"{name}.toml")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.database = cfg["daemon"]["database"]
        self.proc: subprocess.Popen | None = None
        with open(self.config_path, "w") as f:
            f.write(to_toml(cfg))

    def check_config(self):
        r = subprocess.run([self.binary, "--check-config", self.config_path], capture_output=True, text=True,
                           env={**os.environ, **KEY_ENV}, timeout=30)
        if r.returncode != 0:
            raise HarnessError(f"fallbackd --check-config {self.config_path} failed:\n{r.stdout}{r.stderr}")

    def start(self, ready_timeout: float = 15.0):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.binary, "--config", self.config_path, "--socket", self.socket],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     env={**os.environ, **KEY_ENV})
        end = time.monotonic() + ready_timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise HarnessError(f"fallbackd ({self.name}) exited with {self.proc.returncode}: {self.log_tail()}")
            if os.path.exists(self.socket) and self._ping():
                return
            time.sleep(0.05)
        raise HarnessError(f"fallbackd ({self.name}) did not answer ping within {ready_timeout} s: {self.log_tail()}")

    def _ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(self.socket)
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        return False
                    data += chunk
                return json.loads(data).get("result") == "pong"
        except (OSError, ValueError):
            return False

    def stop(self) -> int | None:
        status = _stop(self.proc, self.cfg["daemon"]["shutdown_grace_ms"] / 1000 + 10)
        if self.proc is not None and hasattr(self, "_log"):
            self._log.close()
        return status

    def log_tail(self, n: int = 8) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def call_log(self) -> list[dict]:
        """model_calls rows (read after stop(): the daemon flushes on shutdown)."""
        if not os.path.exists(self.database):
            return []
        con = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            con.row_factory = sqlite3.Row
            rows = con.execute("SELECT ts_ms, model_name, success, latency_ms, error_type, chain, request_id, "
                               "attempt_index, http_status FROM model_calls ORDER BY ts_ms, id").fetchall()
            return [dict(r) for r in rows]
        finally:
            con.close()
