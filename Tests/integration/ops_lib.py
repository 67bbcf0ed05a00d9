"""Helpers of the operator-feature tests (test_reload*.py, test_apps.py, test_startup.py, test_check_config_all.py):
rewriting a running daemon's config file, reloading it (RPC or SIGHUP) and waiting for the new generation,
pipelining many requests over several connections, the caller's own executable name, running the daemon
binary as a one-shot process, and restarting a daemon on the same files.

Everything that waits is bounded; a timeout is a test failure with what was seen.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import fbd_harness as H

MSGS = [{"role": "user", "content": "operator test"}]


# --------------------------------------------------------------------------- who we are


def own_comm() -> str:
    """This process's executable name as the daemon reads it (/proc/PID/comm, at most 15 bytes)."""
    with open("/proc/self/comm") as f:
        comm = f.read().strip()
    assert comm, "/proc/self/comm is empty"
    return comm


# --------------------------------------------------------------------------- config files


def write_config(path: str, cfg: dict):
    """Replace the file atomically (write beside it, rename): a SIGHUP never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(H.to_toml(cfg))
    os.replace(tmp, path)


def write_text(path: str, text: str):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def rewrite(daemon, mutate=None):
    """Apply mutate(daemon.cfg) and write the daemon's config file again (not reloaded yet)."""
    if mutate is not None:
        mutate(daemon.cfg)
    write_config(daemon.config_path, daemon.cfg)
    return daemon.cfg


# --------------------------------------------------------------------------- reload


def generation(daemon) -> int:
    g = daemon.call("status").get("config_generation")
    assert isinstance(g, int) and not isinstance(g, bool), f"status.config_generation is not an integer: {g!r}"
    return g


def reload_rpc(daemon, params=None, timeout: float = 30.0) -> dict:
    """The whole JSON-RPC reply of `reload` (result or error)."""
    return daemon.request("reload", params, timeout=timeout)


def reload_ok(daemon, timeout: float = 30.0) -> dict:
    reply = reload_rpc(daemon, timeout=timeout)
    assert "error" not in reply, f"reload failed: {reply}"
    return reply["result"]


def sighup_and_wait(daemon, expected_generation: int, timeout: float = 30.0) -> int:
    """SIGHUP, then poll status until config_generation reaches expected_generation (fails otherwise)."""
    daemon.send_signal(signal.SIGHUP)
    got = H.wait_for(lambda: generation(daemon) >= expected_generation, timeout=timeout, interval=0.05)
    g = generation(daemon)
    assert got and g == expected_generation, (
        f"after SIGHUP config_generation is {g}, expected {expected_generation} within {timeout} s; stderr:\n"
        f"{daemon.stderr_tail()}")
    return g


def wait_log(daemon, needle: str, count: int = 1, timeout: float = 20.0) -> list[str]:
    """Wait until at least `count` stderr lines contain needle; return those lines."""
    def lines():
        return [ln for ln in daemon.stderr_text().splitlines() if needle in ln]

    got = H.wait_for(lambda: (lambda ls: ls if len(ls) >= count else None)(lines()), timeout=timeout, interval=0.05)
    assert got, f"{count} stderr line(s) with {needle!r} expected within {timeout} s, have {len(lines())}:\n" \
                f"{daemon.stderr_tail()}"
    return got


def route_models(route) -> list[str]:
    return [e["model"] for e in route]


def empty_changes() -> dict:
    return {"added": [], "removed": [], "changed": []}


RELOAD_FIELDS = {"generation", "changed", "providers", "models", "chains", "settings", "breakers_reset",
                 "restart_required", "warnings"}


def check_reload_shape(result: dict):
    """Every documented member is there with its type."""
    assert RELOAD_FIELDS <= set(result), f"reload result lacks {RELOAD_FIELDS - set(result)}: {result}"
    assert isinstance(result["generation"], int) and not isinstance(result["generation"], bool), result
    assert isinstance(result["changed"], bool), result
    for k in ("providers", "models", "chains"):
        assert set(result[k]) == {"added", "removed", "changed"}, f"{k}: {result[k]}"
        for sub in result[k].values():
            assert isinstance(sub, list) and all(isinstance(x, str) for x in sub), f"{k}: {result[k]}"
    for k in ("settings", "breakers_reset", "restart_required", "warnings"):
        assert isinstance(result[k], list) and all(isinstance(x, str) for x in result[k]), f"{k}: {result[k]}"


# --------------------------------------------------------------------------- many requests at once


class Pipeline:
    """Requests pipelined on several connections; replies read by one thread per connection, matched by id.

    send(batch) puts every request of `batch` (a list of (id, params)) on the wire at once, spread over
    `conns` new connections, and returns at once. wait() collects every reply within a deadline.
    """

    def __init__(self, daemon, conn_timeout: float = 180.0):
        self.daemon = daemon
        self.conn_timeout = conn_timeout
        self.replies: dict = {}
        self.sent_at: dict = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._conns: list = []

    def send(self, batch, conns: int, deadline: float):
        """batch: [(id, params)]; conns: how many connections share it (round-robin)."""
        groups = [batch[i::conns] for i in range(conns)]
        for group in groups:
            if not group:
                continue
            c = self.daemon.conn(timeout=self.conn_timeout)
            self._conns.append(c)
            data = b"".join(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "complete", "params": p}).encode()
                            + b"\n" for rid, p in group)
            now = time.monotonic()
            with self._lock:
                for rid, _ in group:
                    self.sent_at[rid] = now
            t = threading.Thread(target=self._reader, args=(c, data, [rid for rid, _ in group], deadline),
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def _reader(self, c, data, ids, deadline):
        try:
            c.send_raw(data)
            want = set(ids)
            while want:
                rem = deadline - time.monotonic()
                if rem <= 0:
                    raise TimeoutError(f"{len(want)} replies missing at the deadline")
                reply = json.loads(c.recv_line(timeout=rem))
                rid = reply.get("id")
                assert rid in want, f"unexpected or duplicate reply id {rid!r}: {str(reply)[:300]}"
                want.discard(rid)
                with self._lock:
                    self.replies[rid] = reply
        except Exception as e:  # noqa: BLE001 - reported by wait()
            with self._lock:
                self.errors.append(f"{type(e).__name__}: {e}")

    def wait(self, deadline: float):
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = sum(t.is_alive() for t in self._threads)
        for c in self._conns:
            c.close()
        assert not alive, f"{alive} connections still waiting for replies at the deadline; errors: {self.errors[:5]}"
        assert not self.errors, f"connection errors: {self.errors[:5]}"
        return self.replies


# --------------------------------------------------------------------------- processes


def run_daemon_once(binary: str, args, timeout: float = 30.0, env_extra=None, cwd=None, preexec_fn=None):
    """Run fallbackd (or fallbackctl) to completion: (exit code, stdout, stderr). For runs that must exit."""
    p = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=H.daemon_env(env_extra), timeout=timeout, cwd=cwd, preexec_fn=preexec_fn)
    return p.returncode, p.stdout, p.stderr


def fallbackctl_path(fallbackd_bin: str) -> str:
    """fallbackctl beside the fallbackd under test (FALLBACKCTL_BIN overrides); a missing one fails."""
    p = os.environ.get("FALLBACKCTL_BIN") or os.path.join(os.path.dirname(fallbackd_bin), "fallbackctl")
    assert os.path.isfile(p) and os.access(p, os.X_OK), (
        f"fallbackctl not found at {p}: build it beside fallbackd (swift build puts both in .build/debug) or set "
        f"FALLBACKCTL_BIN")
    return p


def restart(daemon, ready_timeout: float = 30.0):
    """Stop the daemon cleanly (exit 0) and start it again on the same config, socket and database."""
    daemon.stop()
    daemon.stopped = False
    daemon.returncode = None
    daemon.start(ready_timeout=ready_timeout)
    return daemon


def key_file(directory: str, name: str, content: str, mode: int = 0o600) -> str:
    p = os.path.join(directory, name)
    with open(p, "w") as f:
        f.write(content)
    os.chmod(p, mode)
    return p


# --------------------------------------------------------------------------- a fake server for 1,000+ held calls


def start_high_load_fakes():
    """A private fake provider server (Tests/fakes, same scripts and API) for a test that holds 1,000+ calls at
    once: the shared fake waits with poll() and listens with a backlog of 4096, so it is the plain one."""
    from fakes_control import FakeProviders

    return FakeProviders()


def point_providers_at(fake_from, fake_to):
    """cfg_mutate: every provider base_url of fake_from's server moves to fake_to's."""
    def mutate(cfg):
        for p in cfg["providers"].values():
            if p.get("base_url", "").startswith(fake_from.url):
                p["base_url"] = fake_to.url + p["base_url"][len(fake_from.url):]
        return cfg
    return mutate


# --------------------------------------------------------------------------- callers with other executable names

_CLIENT = r'''
import json, socket, sys
path, reqs = sys.argv[1], json.loads(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(path)
f = s.makefile("rwb")
for r in reqs:
    f.write(json.dumps(r).encode() + b"\n")
    f.flush()
    line = f.readline()
    if not line:
        raise SystemExit("connection closed")
    sys.stdout.write(line.decode())
with open("/proc/self/comm") as c:
    sys.stderr.write("COMM=" + c.read().strip() + "\n")
'''


def python_as(directory: str, name: str) -> str:
    """A symlink to this Python named `name`: a process started through it has /proc/PID/comm == name."""
    import sys

    assert len(name) <= 15, "comm holds at most 15 bytes"
    link = os.path.join(directory, name)
    if not os.path.lexists(link):
        os.symlink(os.path.realpath(sys.executable), link)
    return link


def call_as(directory: str, name: str, socket_path: str, requests: list, timeout: float = 90.0) -> list[dict]:
    """Send JSON-RPC requests (one at a time) from a process whose executable name is `name`; the replies."""
    exe = python_as(directory, name)
    script = os.path.join(directory, "rpc_client.py")
    if not os.path.exists(script):
        with open(script, "w") as f:
            f.write(_CLIENT)
    p = subprocess.run([exe, script, socket_path, json.dumps(requests)], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"client {name} failed ({p.returncode}): {p.stderr[-2000:]}"
    assert f"COMM={name}" in p.stderr, f"the client's executable name is not {name!r}: {p.stderr[-500:]}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def complete_req(id_, **params) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "method": "complete", "params": {"messages": MSGS, **params}}
