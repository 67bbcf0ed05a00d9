"""A fallbackd daemon process for the integration tests, plus its environment and --check-config runner."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time

from fbd_config import COMPAT_KEY, KEY_ENV, config_dict, to_toml
from fbd_conn import Conn, ConnectionClosed
from fbd_helpers import short_tmpdir


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
        con = sqlite3.connect(self.db, timeout=20)
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
