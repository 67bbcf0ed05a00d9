"""Harness for fallbackd's integration tests: config writer, daemon process, raw JSON-RPC connection."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FAKES_DIR = os.path.join(REPO_ROOT, "Tests", "fakes")
CLIENT_DIRS = [os.path.join(REPO_ROOT, "clients", "python"), os.path.join(REPO_ROOT, "clients", "python", "src")]

# --------------------------------------------------------------------------- secrets given to the daemon

OPENAI_KEY = "sk-fake-openai-SECRET123"
ANTHROPIC_KEY = "sk-ant-fake-anthropic-SECRET456"
GEMINI_KEY = "AIzaFakeGeminiKey-SECRET789"
COMPAT_KEY = "sk-fake-compat-SECRET000"  # given through api_key_file
ALL_KEYS = (OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, COMPAT_KEY)

KEY_ENV = {
    "FAKE_OPENAI_KEY": OPENAI_KEY,
    "FAKE_ANTHROPIC_KEY": ANTHROPIC_KEY,
    "FAKE_GEMINI_KEY": GEMINI_KEY,
}

ANTHROPIC_VERSION = "2023-06-01"

# --------------------------------------------------------------------------- the model pool of the test config
# pool name -> (provider config name, provider kind, fake flavor, model_id, priority, max_tokens, cost in, cost out)


@dataclasses.dataclass(frozen=True)
class PoolModel:
    name: str
    provider: str
    kind: str
    flavor: str
    model_id: str
    priority: int
    max_tokens: int
    cost_in: float
    cost_out: float
    context_window: int = 0
    notes: str = ""
    timeout_ms: int | None = None

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens / 1000 * self.cost_in + output_tokens / 1000 * self.cost_out


POOL = {
    m.name: m
    for m in [
        PoolModel("gpt-4o", "openai", "openai", "openai", "gpt-4o", 1, 4096, 0.005, 0.015, 128000,
                  "Primary for complex reasoning"),
        PoolModel("claude-3-5-sonnet", "anthropic", "anthropic", "anthropic", "claude-3-5-sonnet-20241022", 2, 8192,
                  0.003, 0.015, 200000, "Strong second"),
        PoolModel("gpt-4o-mini", "openai", "openai", "openai", "gpt-4o-mini", 3, 16384, 0.00015, 0.0006, 128000),
        PoolModel("claude-3-haiku", "anthropic", "anthropic", "anthropic", "claude-3-haiku-20240307", 4, 4096,
                  0.00025, 0.00125, 200000),
        PoolModel("gemini-pro", "gemini", "gemini", "gemini", "gemini-1.5-pro", 5, 8192, 0.00125, 0.005, 2000000),
        PoolModel("gemini-flash", "gemini", "gemini", "gemini", "gemini-1.5-flash", 6, 8192, 0.000075, 0.0003,
                  1000000),
        PoolModel("local-llama", "compat", "openai-compatible", "compat", "llama-3.1-8b-instruct", 7, 2048, 0.0001,
                  0.0002, 8192, "Local OpenAI-compatible server"),
        # per-attempt timeout override
        PoolModel("gpt-4o-quick", "openai", "openai", "openai", "gpt-4o-quick-timeout", 8, 4096, 0.005, 0.015,
                  128000, "400 ms per attempt", timeout_ms=400),
    ]
}

CHAINS = {
    "default": ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"],
    "complex_reasoning": ["claude-3-5-sonnet", "gpt-4o", "gemini-pro"],
    "cheap": ["gpt-4o-mini", "claude-3-haiku", "gemini-flash", "local-llama"],
}


def config_dict(fake, database: str, compat_key_file: str, socket_path: str | None = None) -> dict:
    """The test configuration as a dict (mutable by tests), providers pointing at the fake server."""
    daemon = {
        "database": database,
        "flush_interval_ms": 200,
        "max_line_bytes": 65536,
        "max_in_flight": 10000,
        "shutdown_grace_ms": 5000,
        "log_level": "debug",
    }
    if socket_path is not None:
        daemon["socket"] = socket_path
    providers = {
        "openai": {
            "kind": "openai",
            "base_url": fake.base_url("openai"),
            "api_key_env": "FAKE_OPENAI_KEY",
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
        "anthropic": {
            "kind": "anthropic",
            "base_url": fake.base_url("anthropic"),
            "api_key_env": "FAKE_ANTHROPIC_KEY",
            "anthropic_version": ANTHROPIC_VERSION,
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
        "gemini": {
            "kind": "gemini",
            "base_url": fake.base_url("gemini"),
            "api_key_env": "FAKE_GEMINI_KEY",
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
        "compat": {
            "kind": "openai-compatible",
            "base_url": fake.base_url("openai-compatible"),
            "api_key_file": compat_key_file,
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
    }
    models = {}
    for m in POOL.values():
        d = {
            "provider": m.provider,
            "model_id": m.model_id,
            "priority": m.priority,
            "max_tokens": m.max_tokens,
            "cost_per_1k_input": m.cost_in,
            "cost_per_1k_output": m.cost_out,
            "context_window": m.context_window,
        }
        if m.notes:
            d["notes"] = m.notes
        if m.timeout_ms is not None:
            d["timeout_ms"] = m.timeout_ms
        models[m.name] = d
    # The seed's plain waterfall: every error moves on to the next model at once. Retries and
    # breakers have their own tests (test_resilience*.py), which turn them on explicitly.
    seed_rule = {
        "retry": {"max_retries": 0},
        "breaker": {"consecutive_failures": 0, "failure_rate": 0, "auth_open_ms": 1},
        # Shadows (5% by default) would add calls these tests do not expect; test_shadow turns them on.
        "shadow": {"sample_rate": 0.0},
    }
    return {"daemon": daemon, "providers": providers, "models": models, "chains": copy.deepcopy(CHAINS), **seed_rule}


# --------------------------------------------------------------------------- TOML writer (enough for our configs)

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v):
            r = repr(v)
            return r if ("." in r or "e" in r or "E" in r) else r + ".0"
        raise ValueError("non-finite float")
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_val(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(cfg: dict) -> str:
    out = []

    def table(path, d):
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        if path and (scalars or not subs):
            out.append("[" + ".".join(_key(p) for p in path) + "]")
            for k, v in scalars.items():
                out.append(f"{_key(k)} = {_val(v)}")
            out.append("")
        elif not path:
            for k, v in scalars.items():
                out.append(f"{_key(k)} = {_val(v)}")
            if scalars:
                out.append("")
        for k, v in subs.items():
            table(path + [k], v)

    table([], cfg)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- small utilities


def short_tmpdir(prefix="fbd-") -> str:
    """A short directory under /tmp: Unix socket paths must stay under ~100 bytes."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def wait_for(pred, timeout=5.0, interval=0.02):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


def bounded(fn, timeout=20.0):
    """Run fn() in a thread; return its value or re-raise its exception; fail if it takes longer than timeout."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"call did not return within {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def to_plain(obj):
    """Result objects of the Python client -> plain dicts/lists."""
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: to_plain(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return obj


RESULT_FIELDS = (
    "content", "model_used", "model_id", "provider", "task", "chain", "fallback_count", "used_fallback",
    "latency_ms", "attempts", "usage", "cost_usd", "request_id",
)


def result_dict(res) -> dict:
    """The `complete` result as the wire dict, whether the client gave a dict or an object with .raw."""
    if isinstance(res, dict):
        return res
    raw = getattr(res, "raw", None)
    if isinstance(raw, dict):
        # some clients keep the whole JSON-RPC reply in raw
        if "result" in raw and isinstance(raw["result"], dict) and "jsonrpc" in raw:
            return raw["result"]
        return raw
    return {f: to_plain(getattr(res, f)) for f in RESULT_FIELDS if hasattr(res, f)}


def approx(a, b, rel=1e-6, abs_=1e-9) -> bool:
    return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


# --------------------------------------------------------------------------- raw JSON-RPC connection


class ConnectionClosed(Exception):
    pass


class Conn:
    """One Unix-socket connection speaking line-delimited JSON; every read is bounded."""

    def __init__(self, path: str, timeout: float = 10.0):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.lines: list[bytes] = []  # every raw line received (for leak checks)
        self._next_id = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def recv_line(self, timeout: float | None = None) -> bytes:
        """The next line without its terminator. Raises ConnectionClosed on EOF/reset, TimeoutError on timeout."""
        timeout = self.timeout if timeout is None else timeout
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            rem = end - time.monotonic()
            if rem <= 0:
                raise TimeoutError(f"no complete line within {timeout} s (have {len(self.buf)} bytes)")
            self.sock.settimeout(rem)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError) as e:
                raise ConnectionClosed(str(e)) from e
            if not chunk:
                raise ConnectionClosed("EOF")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if line.endswith(b"\r"):
            line = line[:-1]
        self.lines.append(line)
        return line

    def recv(self, timeout: float | None = None):
        return json.loads(self.recv_line(timeout))

    def request(self, method, params=None, id=None, timeout: float | None = None):
        """Send one request and return the (next) reply, which must carry the same id."""
        if id is None:
            id = self._next_id
            self._next_id += 1
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        reply = self.recv(timeout)
        assert isinstance(reply, dict), reply
        assert reply.get("id") == id, f"reply id {reply.get('id')!r} != {id!r}: {reply}"
        return reply

    def call(self, method, params=None, timeout: float | None = None):
        reply = self.request(method, params, timeout=timeout)
        assert "error" not in reply, reply
        return reply["result"]

    def expect_silence(self, wait: float = 0.3):
        """Assert nothing arrives within `wait` seconds."""
        if self.buf:
            raise AssertionError(f"unexpected data: {self.buf[:200]!r}")
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(self.timeout)
        raise AssertionError(f"unexpected data: {data[:200]!r}")

    def wait_closed(self, timeout: float = 10.0) -> bool:
        """True when the peer closes (EOF or reset) within timeout; data received meanwhile is kept in buf."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
            except OSError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False


# --------------------------------------------------------------------------- daemon process


class DaemonError(AssertionError):
    pass


class Daemon:
    """A fallbackd process on a temp socket and temp SQLite database."""

    def __init__(self, binary: str, fake, cfg_mutate=None, cli_socket: bool = True, extra_args=(), env_extra=None):
        self.binary = binary
        self.fake = fake
        self.dir = short_tmpdir()
        self.socket = os.path.join(self.dir, "fbd.sock")
        self.db = os.path.join(self.dir, "calls.sqlite")
        self.key_file = os.path.join(self.dir, "compat.key")
        with open(self.key_file, "w") as f:
            f.write(COMPAT_KEY)
        os.chmod(self.key_file, 0o600)
        self.config_path = os.path.join(self.dir, "fallbackd.toml")
        self.cfg = config_dict(fake, self.db, self.key_file, None if cli_socket else self.socket)
        if cfg_mutate:
            cfg_mutate(self.cfg)
        with open(self.config_path, "w") as f:
            f.write(to_toml(self.cfg))
        self.cli_socket = cli_socket
        self.extra_args = list(extra_args)
        self.env = daemon_env(env_extra)
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self.stopped = False

    # -- process

    def argv(self):
        args = [self.binary, "--config", self.config_path]
        if self.cli_socket:
            args += ["--socket", self.socket]
        return args + self.extra_args

    def start(self, ready_timeout: float = 20.0):
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            self.argv(), stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err, env=self.env, cwd=self.dir
        )
        end = time.monotonic() + ready_timeout
        last = None
        while time.monotonic() < end:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                self.stopped = True
                raise DaemonError(f"fallbackd exited with {rc} before it was ready; stderr:\n{self.stderr_tail()}")
            if os.path.exists(self.socket):
                try:
                    with Conn(self.socket, timeout=1.0) as c:
                        if c.call("ping", timeout=1.0) == "pong":
                            return self
                except (OSError, TimeoutError, ConnectionClosed, AssertionError, ValueError) as e:
                    last = e
            time.sleep(0.05)
        self.kill()
        raise DaemonError(f"fallbackd not answering ping within {ready_timeout} s ({last!r}); stderr:\n{self.stderr_tail()}")

    def send_signal(self, sig):
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise DaemonError(f"fallbackd did not exit within {timeout} s; stderr:\n{self.stderr_tail()}") from None
        self.stopped = True
        self._close_logs()
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout: float = 20.0, check: bool = True) -> int:
        """Signal, wait, and (check=True) assert exit code 0 and the socket file removed."""
        if self.stopped:
            return self.returncode
        self.send_signal(sig)
        rc = self.wait(timeout)
        if check:
            if rc != 0:
                raise DaemonError(f"fallbackd exited with {rc} after {signal.Signals(sig).name}; stderr:\n"
                                  f"{self.stderr_tail()}")
            if os.path.exists(self.socket):
                raise DaemonError(f"socket {self.socket} still exists after shutdown")
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.stopped = True
        self._close_logs()

    def _close_logs(self):
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f and not f.closed:
                f.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- output

    def stderr_bytes(self) -> bytes:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def stderr_text(self) -> str:
        return self.stderr_bytes().decode("utf-8", "replace")

    def stderr_tail(self, n: int = 4000) -> str:
        return self.stderr_text()[-n:]

    # -- talking

    def conn(self, timeout: float = 10.0) -> Conn:
        return Conn(self.socket, timeout)

    def call(self, method, params=None, timeout: float = 10.0):
        with self.conn(timeout) as c:
            return c.call(method, params, timeout=timeout)

    def request(self, method, params=None, timeout: float = 10.0, id=1):
        with self.conn(timeout) as c:
            return c.request(method, params, id=id, timeout=timeout)

    # -- call log

    def db_rows(self, where: str = "", args=()) -> list[dict]:
        con = sqlite3.connect(self.db, timeout=5)
        try:
            con.row_factory = sqlite3.Row
            rows = con.execute(f"SELECT * FROM model_calls {where} ORDER BY id", args).fetchall()
            return [dict(r) for r in rows]
        finally:
            con.close()


def daemon_env(extra=None) -> dict:
    env = dict(os.environ)
    for k in list(env):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") or k.startswith("FALLBACKD_"):
            del env[k]
    env.update(KEY_ENV)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if extra:
        env.update(extra)
    return env


def run_check_config(binary: str, path: str, timeout: float = 20.0, env_extra=None):
    p = subprocess.run(
        [binary, "--check-config", path], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        env=daemon_env(env_extra), timeout=timeout,
    )
    return p.returncode, p.stdout, p.stderr


# --------------------------------------------------------------------------- resilience helpers (test_resilience_*.py)


def set_resilience(cfg: dict, breaker=None, retry=None, health=None, model_breakers=None) -> dict:
    """Replace the seed's [breaker] / [retry] (and add [health], [models.NAME.breaker]) in a config dict.

    Each table given replaces the section whole, so the seed's "breakers off" keys do not leak in.
    """
    if breaker is not None:
        cfg["breaker"] = dict(breaker)
    if retry is not None:
        cfg["retry"] = dict(retry)
    if health is not None:
        cfg["health"] = dict(health)
    for name, table in (model_breakers or {}).items():
        cfg["models"][name]["breaker"] = dict(table)
    return cfg


def resilience(**kw):
    """cfg_mutate for daemon_factory: set_resilience(cfg, **kw)."""
    return lambda cfg: set_resilience(cfg, **kw)


def now_ms() -> int:
    return int(time.time() * 1000)


def complete_reply(daemon: "Daemon", messages, timeout: float = 30.0, **params) -> dict:
    """One raw `complete` on a fresh connection: the whole JSON-RPC reply (result or error)."""
    p = {"messages": messages, **params}
    return daemon.request("complete", p, timeout=timeout)


def complete_ok(daemon: "Daemon", messages, timeout: float = 30.0, **params) -> dict:
    reply = complete_reply(daemon, messages, timeout=timeout, **params)
    assert "error" not in reply, f"complete failed: {reply}"
    return reply["result"]


def breaker_of(daemon: "Daemon", model: str) -> dict:
    """The `breakers` entry of one model."""
    for b in daemon.call("breakers")["breakers"]:
        if b["model"] == model:
            return b
    raise AssertionError(f"no breaker for {model!r} in `breakers`")


def health_of(daemon: "Daemon", model: str, window_minutes: int | None = None) -> dict:
    """The `health` entry of one model."""
    params = None if window_minutes is None else {"window_minutes": window_minutes}
    for m in daemon.call("health", params)["models"]:
        if m["model"] == model:
            return m
    raise AssertionError(f"no health entry for {model!r}")


def route_entry(route: list, model: str) -> dict:
    for e in route:
        if e["model"] == model:
            return e
    raise AssertionError(f"{model!r} not in route {route}")


def wait_breaker_state(daemon: "Daemon", model: str, state: str, timeout: float = 10.0) -> dict:
    """Poll `breakers` (bounded) until `model`'s state is `state`; returns that entry or fails."""
    last = wait_for(lambda: (lambda b: b if b["state"] == state else None)(breaker_of(daemon, model)),
                    timeout=timeout, interval=0.05)
    if not last:
        raise AssertionError(f"breaker of {model} not {state} within {timeout} s: {breaker_of(daemon, model)}")
    return last


# --------------------------------------------------------------------------- cost and shadow helpers (test_cost.py, test_shadow.py)


def set_cost(cfg: dict, budgets=None, max_cost_ratio=None, shadow=None, shadow_pairs=None) -> dict:
    """Add [budgets], [max_cost_ratio], [shadow] (+ [shadow.pairs]) to a config dict.

    `shadow` replaces the whole [shadow] table. Without it the daemon samples the default 5 % of
    requests, so tests that count provider requests pass shadow={"sample_rate": 0.0}.
    """
    if budgets is not None:
        cfg["budgets"] = dict(budgets)
    if max_cost_ratio is not None:
        cfg["max_cost_ratio"] = dict(max_cost_ratio)
    if shadow is not None:
        cfg["shadow"] = dict(shadow)
    if shadow_pairs is not None:
        cfg.setdefault("shadow", {})["pairs"] = dict(shadow_pairs)
    return cfg


def compose(*mutators):
    """One cfg_mutate running several in order (None entries are skipped)."""
    def run(cfg):
        for m in mutators:
            if m is not None:
                m(cfg)
        return cfg
    return run


def db_query(daemon: "Daemon", sql: str, args=()) -> list[dict]:
    """Rows of any query on the daemon's SQLite file, as dicts."""
    con = sqlite3.connect(daemon.db, timeout=5)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, args).fetchall()]
    finally:
        con.close()


def shadow_results(daemon: "Daemon") -> list[dict]:
    """Every row of `shadow_results`, oldest first."""
    return db_query(daemon, "SELECT * FROM shadow_results ORDER BY id")


def shadow_calls(daemon: "Daemon") -> list[dict]:
    """The call log's shadow rows (`shadow = 1`), oldest first."""
    return daemon.db_rows("WHERE shadow = 1")


def wait_count(fn, n: int, timeout: float = 10.0, what: str = "rows"):
    """Poll fn() (a list) until it has at least n entries; return it, failing after timeout."""
    got = wait_for(lambda: (lambda v: v if len(v) >= n else None)(fn()), timeout=timeout, interval=0.05)
    if not got:
        raise AssertionError(f"expected {n} {what} within {timeout} s, have {len(fn())}")
    return got


def wait_stable(fn, settle: float = 0.5, timeout: float = 15.0):
    """Poll fn() until its value has not changed for `settle` seconds (bounded); return the value."""
    end = time.monotonic() + timeout
    last = fn()
    since = time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.05)
        v = fn()
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since >= settle:
            return v
    raise AssertionError(f"value still changing after {timeout} s (last {last!r})")


def rpc_error(reply: dict, code: int) -> dict:
    """The reply's error object, asserting it is one with `code`."""
    assert "error" in reply, f"expected error {code}, got result: {reply}"
    assert reply["error"]["code"] == code, f"expected error {code}, got {reply['error']}"
    return reply["error"]
