"""Helpers for the examples/ checks: paths, the binaries, a live daemon, the parsed example files.

The binaries: FALLBACKD_BIN (default .build/debug/fallbackd under the repository root) and
FALLBACKCTL_BIN (default: fallbackctl beside FALLBACKD_BIN). A missing binary fails the tests that
need it; it never skips them.
"""

from __future__ import annotations

import os
import re
import json
import socket
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CONFIG = EXAMPLES / "config" / "fallbackd.toml"
COMPOSE = EXAMPLES / "docker-compose.yml"
DOCKERFILE = EXAMPLES / "Dockerfile"
DOCKERIGNORE = EXAMPLES / "Dockerfile.dockerignore"
K8S = EXAMPLES / "kubernetes" / "pod.yaml"
UNIT = EXAMPLES / "systemd" / "fallbackd.service"
SYSUSERS = EXAMPLES / "systemd" / "fallbackd.sysusers.conf"
APP = EXAMPLES / "compose-app" / "app.py"

# The daemon's default when a config does not set [daemon] shutdown_grace_ms.
DEFAULT_SHUTDOWN_GRACE_MS = 10_000
KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY")


# --------------------------------------------------------------------------- binaries


def binary(variable: str, default: Path) -> str:
    path = Path(os.environ.get(variable) or default)
    if not path.is_absolute():
        path = ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"{path} is not an executable file: build it (`swift build`, giving .build/debug/) or point "
            f"{variable} at a built binary, e.g. {variable}=.build/release/{default.name} "
            f"python3 -m pytest Tests/examples", pytrace=False)
    return str(path)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would redirect fallbackd or its clients."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FALLBACKD_SOCKET", "FALLBACKD_CONFIG", "XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY",
                        "STATE_DIRECTORY", *KEY_VARIABLES)}
    env.update(extra)
    return env


def check_config(binary: str, path: Path | str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "--check-config", str(path)], capture_output=True, text=True, timeout=60,
                          env=env if env is not None else clean_env())


def short_tmpdir() -> Path:
    """A temp directory with a short path: a Unix socket path must stay under 108 bytes."""
    return Path(tempfile.mkdtemp(prefix="fbdex-", dir="/tmp"))


# --------------------------------------------------------------------------- a live daemon


class LiveDaemon:
    """fallbackd on a temp socket and database; stopped with SIGTERM by the fixture."""

    def __init__(self, binary: str, ctl: str, config: Path, workdir: Path):
        self.dir = workdir
        self.socket = str(workdir / "fallbackd.sock")
        self.http_socket = str(workdir / "fallbackd-http.sock")
        self.ctl = ctl
        self.stderr_path = workdir / "stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--config", str(config), "--socket", self.socket, "--database", str(workdir / "calls.sqlite")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr, env=clean_env())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"fallbackd exited with {self.proc.returncode} at start:\n{self.log()}")
            if os.path.exists(self.socket) and os.path.exists(self.http_socket) and self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"fallbackd did not answer on {self.socket} within 30 s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(self.socket)
                s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
                return b"pong" in s.recv(4096)
        except OSError:
            return False

    def call(self, method: str) -> dict:
        """One JSON-RPC call without params: its result (an error reply fails the test)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.socket)
            s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method}).encode() + b"\n")
            reply = s.makefile("rb").readline()
        decoded = json.loads(reply)
        assert "result" in decoded, f"{method} failed: {decoded}"
        return decoded["result"]

    def log(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode


# --------------------------------------------------------------------------- parsed example files


def load_toml(path: Path) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def http_socket_for(rpc_socket: str) -> str:
    """The daemon's rule: strip `.sock`, append `-http.sock`."""
    base = rpc_socket[:-len(".sock")] if rpc_socket.endswith(".sock") else rpc_socket
    return base + "-http.sock"


def grace_ms(config: dict) -> int:
    return int(config.get("daemon", {}).get("shutdown_grace_ms", DEFAULT_SHUTDOWN_GRACE_MS))


def parse_duration_s(text) -> float:
    """A compose or systemd duration ("20s", "1m30s", "500ms") or a bare number of seconds."""
    if isinstance(text, (int, float)) or re.fullmatch(r"\d+(\.\d+)?", str(text)):
        return float(text)
    total, matched = 0.0, ""
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(text)):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
        matched += amount + unit
    assert matched == str(text), f"not a duration: {text!r}"
    return total


def parse_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comment lines dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, rest = full.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return instructions


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section -> key -> every value, in order (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path}: a directive before any section: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def load_k8s() -> list[dict]:
    with open(K8S) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def load_compose() -> dict:
    with open(COMPOSE) as f:
        return yaml.safe_load(f)

