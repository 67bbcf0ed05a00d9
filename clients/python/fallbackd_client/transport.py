"""The socket side of :class:`~fallbackd_client.FallbackClient`: framing, connecting, reading replies.

Wire format: one JSON text per line, ``\\n`` terminated, in both directions.
:class:`SocketTransport` holds one connection; its methods expect the caller
to hold the client's lock.

Streams: a streaming ``complete`` registers an inbox for its request id.
Whoever reads the connection (the stream itself, or any other call made
meanwhile) files the ``complete.delta``/``complete.reset`` notifications and
the reply for that id there, so no event is lost while the stream is not
being iterated; notifications for ids nobody registered are skipped.
"""

import collections
import json
import socket
import time
from typing import Any, Callable, Deque, Dict, Mapping, Optional, Sequence, Union

from .errors import DaemonUnavailable, ProtocolError, RequestInterrupted, error_from_object

__all__ = ["SocketTransport", "STREAM_METHODS", "message_target"]

_RECV_SIZE = 65536

STREAM_METHODS = ("complete.delta", "complete.reset")
"""Notifications the daemon sends for a streaming ``complete`` (``params.id`` names the request)."""

Params = Union[Mapping[str, Any], Sequence[Any], None]


class _ClosedBeforeReply(Exception):
    """Internal: the connection ended before the awaited reply arrived."""


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _request(method: str, params: Params, req_id: Optional[int]) -> Dict[str, Any]:
    if not isinstance(method, str) or not method:
        raise TypeError("method must be a non-empty string")
    obj: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        if isinstance(params, Mapping):
            obj["params"] = dict(params)
        elif isinstance(params, (list, tuple)):
            obj["params"] = list(params)
        else:
            raise TypeError(f"params must be a dict, a list or None, not {type(params).__name__}")
    if req_id is not None:
        obj["id"] = req_id
    return obj


def _encode(obj: Any) -> bytes:
    # ensure_ascii keeps the line pure ASCII (never a raw newline or invalid UTF-8).
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii") + b"\n"


def unavailable_error(socket_path: str, what: str) -> DaemonUnavailable:
    return DaemonUnavailable(
        socket_path,
        f"{what} (socket {socket_path}); is fallbackd running? "
        f"Start it with `fallbackd --config FILE`, or point FALLBACKD_SOCKET at its socket.")


def interrupted_error(socket_path: str, what: str) -> RequestInterrupted:
    return RequestInterrupted(
        socket_path,
        f"{what} (socket {socket_path}); the request was sent, so fallbackd may have processed "
        f"it (a complete may have called, and paid, a provider): it was not sent again")


def message_target(msg: Any) -> Any:
    """The request id a message from the daemon concerns: a reply's ``id``, a stream notification's
    ``params.id``; None for anything else."""
    if not isinstance(msg, dict):
        return None
    if "method" in msg:
        params = msg.get("params")
        if msg.get("method") in STREAM_METHODS and isinstance(params, dict) and _is_id(params.get("id")):
            return params["id"]
        return None
    return msg.get("id") if _is_id(msg.get("id")) else None


class _Inbox:
    """Messages for one registered stream, and the connection its request went out on."""

    __slots__ = ("sock", "queue")

    def __init__(self) -> None:
        self.sock: Optional[socket.socket] = None
        self.queue: Deque[Any] = collections.deque()


def _unwrap(reply: Any) -> Any:
    """Return the ``result`` of a reply object or raise its typed error."""
    if not isinstance(reply, dict):
        raise ProtocolError(f"expected a JSON-RPC reply object, got {reply!r:.200}")
    if reply.get("error") is not None:
        raise error_from_object(reply["error"])
    if "result" not in reply:
        raise ProtocolError(f"reply has neither result nor error: {reply!r:.200}")
    return reply["result"]


class SocketTransport:
    """One Unix-socket connection to fallbackd, opened lazily.

    A connection found closed before a request is sent is replaced (once); a request
    is never sent twice. Subclasses set ``socket_path``, ``timeout``, ``_sock``
    (None), ``_buf`` (a bytearray) and ``_inbox`` (an empty dict).
    """

    socket_path: str
    timeout: Optional[float]
    _sock: Optional[socket.socket]
    _buf: bytearray
    _inbox: Dict[int, _Inbox]

    def _pick_timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    def _unavailable(self, what: str) -> DaemonUnavailable:
        return unavailable_error(self.socket_path, what)

    def _interrupted(self, what: str) -> RequestInterrupted:
        return interrupted_error(self.socket_path, what)

    def _disconnect(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._buf.clear()

    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except OSError as exc:
            sock.close()
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise self._unavailable(f"cannot connect to fallbackd: {reason}") from exc
        self._sock = sock
        self._buf.clear()

    def _peer_closed(self) -> bool:
        """Non-blocking check whether the daemon closed our idle connection."""
        assert self._sock is not None
        try:
            self._sock.settimeout(0.0)
            return self._sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError):
            return False  # nothing to read: still open
        except OSError:
            return True
        finally:
            try:
                self._sock.settimeout(self.timeout)
            except OSError:
                pass

    def _exchange(self, line: bytes, matches: Optional[Callable[[Any], bool]],
                  timeout: Optional[float], stream_id: Optional[int] = None) -> Any:
        """Send ``line``; return the first reply accepted by ``matches`` (None for notifications).

        At most once: a reused connection is replaced only while none of ``line``
        has been written -- when the daemon closed it while idle (seen before
        sending) or when it refuses the very first write. Once a byte was
        written, a connection that breaks or ends before the reply raises
        :class:`RequestInterrupted` (a :class:`DaemonUnavailable`): the daemon
        may have processed the request, so resending could run it twice.
        ``stream_id`` names a registered stream inbox, bound to the connection
        the line goes out on.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for attempt in range(2):
            reused = self._sock is not None
            if reused and not self._buf and self._peer_closed():
                self._disconnect()
                reused = False
            if self._sock is None:
                self._connect()
            sent = 0
            if stream_id is not None:
                self._inbox[stream_id].sock = self._sock
            try:
                self._set_deadline(deadline)
                sent = self._send_first(line)
                if sent < len(line):
                    self._set_deadline(deadline)
                    self._sock.sendall(memoryview(line)[sent:])
                    sent = len(line)
                if matches is None:
                    return None
                return self._read_reply(matches, deadline)
            except socket.timeout:
                self._disconnect()
                raise TimeoutError(f"no reply from fallbackd at {self.socket_path} within {timeout}s") from None
            except (_ClosedBeforeReply, ConnectionError) as exc:
                self._disconnect()
                cause = exc if isinstance(exc, OSError) else None
                if sent == 0:
                    # Not a byte of the request reached the daemon: replacing the connection is safe.
                    if reused and attempt == 0:
                        continue
                    raise self._unavailable("fallbackd closed the connection before the request was sent") from cause
                if matches is None:
                    raise self._interrupted("fallbackd closed the connection while the notification was sent") \
                        from cause
                raise self._interrupted("fallbackd closed the connection before replying") from cause
        raise AssertionError("unreachable")

    def _send_first(self, line: bytes) -> int:
        """One ``send`` of ``line``: how many bytes the kernel took. Raising means none were taken."""
        assert self._sock is not None
        return self._sock.send(line)

    def _set_deadline(self, deadline: Optional[float]) -> None:
        assert self._sock is not None
        if deadline is None:
            self._sock.settimeout(None)
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline passed")
        self._sock.settimeout(remaining)

    def _read_line(self, deadline: Optional[float]) -> bytes:
        """Next line from the connection (without its terminator)."""
        assert self._sock is not None
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[:end + 1]
                return line
            self._set_deadline(deadline)
            chunk = self._sock.recv(_RECV_SIZE)
            if not chunk:
                raise _ClosedBeforeReply()
            self._buf += chunk

    def _read_reply(self, matches: Callable[[Any], bool], deadline: Optional[float]) -> Any:
        """Read lines until one matches; skip stray replies with other ids.

        A reply with ``"id": null`` carrying an error (parse error, line too
        long) concerns the request just sent, so it is returned as well.
        The loop ends at a match, at EOF, or at the deadline.
        """
        while True:
            raw = self._read_line(deadline).strip()
            if not raw:
                continue
            try:
                msg = json.loads(raw)
            except ValueError:
                self._disconnect()
                raise ProtocolError(f"fallbackd sent a line that is not JSON: {raw[:200]!r}") from None
            if matches(msg):
                return msg
            target = message_target(msg)
            if target is not None and target in self._inbox:
                self._inbox[target].queue.append(msg)  # for a stream that is not reading right now
                continue
            if isinstance(msg, dict) and msg.get("id") is None and msg.get("error") is not None:
                return msg
            # A reply for some other id (e.g. a late answer after a timeout), or a notification
            # for a stream nobody waits for: skip it.

    # -- streams ---------------------------------------------------------

    def _stream_open(self, line: bytes, req_id: int, timeout: Optional[float]) -> Any:
        """Register an inbox for ``req_id``, send ``line``, return the first message for it."""
        self._inbox[req_id] = _Inbox()
        try:
            return self._exchange(line, _for_id(req_id), timeout, stream_id=req_id)
        except BaseException:
            self._inbox.pop(req_id, None)
            raise

    def _stream_next(self, req_id: int, timeout: Optional[float]) -> Any:
        """The next message for a registered stream: filed earlier, or read now.

        Raises :class:`RequestInterrupted` when the connection the request went
        out on is gone, :class:`TimeoutError` when nothing comes in time (the
        connection is then closed, which stops the request at the daemon).
        """
        box = self._inbox.get(req_id)
        if box is None:
            raise RuntimeError(f"no stream with id {req_id} is open")
        if box.queue:
            return box.queue.popleft()
        if self._sock is None or box.sock is not self._sock:
            raise self._interrupted("the connection to fallbackd ended during the stream")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return self._read_reply(_for_id(req_id), deadline)
        except socket.timeout:
            self._disconnect()
            raise TimeoutError(f"no stream event from fallbackd at {self.socket_path} within {timeout}s") from None
        except (_ClosedBeforeReply, ConnectionError) as exc:
            self._disconnect()
            cause = exc if isinstance(exc, OSError) else None
            raise self._interrupted("fallbackd closed the connection during the stream") from cause

    def _stream_forget(self, req_id: int, cancel: bool) -> None:
        """Drop a stream's inbox; ``cancel``: close its connection too, which stops it at the daemon."""
        box = self._inbox.pop(req_id, None)
        if cancel and box is not None and box.sock is not None and box.sock is self._sock:
            self._disconnect()


def _for_id(req_id: int) -> Callable[[Any], bool]:
    def matches(msg: Any) -> bool:
        return message_target(msg) == req_id
    return matches
