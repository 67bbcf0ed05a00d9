"""Raw line-delimited JSON-RPC connection to fallbackd's Unix socket (integration tests)."""

from __future__ import annotations

import fcntl
import json
import socket
import struct
import termios
import time


class ConnectionClosed(Exception):
    pass


def unread_bytes(sock: socket.socket) -> int:
    """Send-queue usage of a Unix stream socket (Linux SIOCOUTQ): 0 once the peer has read everything we sent.

    A barrier for "the daemon has consumed these bytes", e.g. before sending the rest of a split line.
    """
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]


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

    def expect_no_more_lines(self, timeout: float = 20.0):
        """Assert the daemon sends nothing more on this connection, with a barrier instead of a wait.

        Half-closes our sending side: the daemon then writes every reply it still owes for what it has
        read and closes the connection (docs/protocol.md, one-shot pattern). Whatever arrives before that
        EOF is everything it was ever going to send here. The connection is unusable for sending afterwards.
        """
        self.sock.shutdown(socket.SHUT_WR)
        if not self.wait_closed(timeout):
            raise AssertionError(f"the daemon did not close the half-closed connection within {timeout} s")
        if self.buf:
            raise AssertionError(f"unexpected data: {self.buf[:200]!r}")

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
