"""An in-process fake of fallbackd for the client tests.

The fake speaks the same wire format as fallbackd (one JSON text per line on a
Unix socket) and lets each test script replies, errors and connection drops.
No real daemon is needed.
"""

import json
import socket
import threading
from typing import Any, Callable, Dict, List, Optional

WAIT = 20.0  # upper bound for waiting on server-side events (generous for a loaded machine); never a timing assertion

COMPLETE_RESULT = {
    "content": "Paris.",
    "model_used": "claude-3-5-sonnet",
    "model_id": "claude-3-5-sonnet-20241022",
    "provider": "anthropic",
    "task": "complex_reasoning",
    "chain": "complex_reasoning",
    "fallback_count": 1,
    "used_fallback": True,
    "latency_ms": 812,
    "attempts": [
        {"model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "rate_limited",
         "http_status": 429, "latency_ms": 35},
        {"model": "claude-3-5-sonnet", "provider": "anthropic", "outcome": "success", "error_type": None,
         "http_status": 200, "latency_ms": 777},
    ],
    "usage": {"input_tokens": 12, "output_tokens": 40},
    "cost_usd": 0.000636,
    "request_id": "r-abc",
}

FAILED_DATA = {
    "request_id": "r-1",
    "task": "default",
    "chain": "default",
    "attempts": [
        {"model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "server_error",
         "http_status": 500, "latency_ms": 20},
        {"model": "claude-3-haiku", "provider": "anthropic", "outcome": "error", "error_type": "timeout",
         "http_status": None, "latency_ms": 30000},
    ],
}

NO_REPLY = object()

REQ_ID = "<the request's id>"  # placeholder in scripted notifications, replaced by the id of the request


def delta(model: str = "gpt-4o", req_id: Any = REQ_ID, **members: Any) -> Dict[str, Any]:
    """A ``complete.delta`` notification; ``members`` form the delta (content=..., tool_calls=[...], ...)."""
    return {"jsonrpc": "2.0", "method": "complete.delta", "params": {"id": req_id, "model": model, "delta": members}}


def reset(model: str = "gpt-4o", reason: str = "timeout", req_id: Any = REQ_ID) -> Dict[str, Any]:
    """A ``complete.reset`` notification."""
    return {"jsonrpc": "2.0", "method": "complete.reset", "params": {"id": req_id, "model": model, "reason": reason}}


def _with_id(obj: Any, req_id: Any) -> Any:
    if isinstance(obj, str) and obj == REQ_ID:
        return req_id
    if isinstance(obj, dict):
        return {k: _with_id(v, req_id) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_with_id(v, req_id) for v in obj]
    return obj


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def raising(code: int, message: str, data: Any = None) -> Callable[[Any], Any]:
    """A fake method handler that answers with the given JSON-RPC error."""
    def handler(params: Any) -> Any:
        raise RpcError(code, message, data)
    return handler


class FakeDaemon:
    """A tiny threaded line-delimited JSON-RPC server on a Unix socket.

    Knobs (set by tests before the request they affect):
      methods            name -> handler(params) returning a result, NO_REPLY, or raising RpcError
      close_after_reply  close the connection after every reply
      drop_requests      close the connection without replying to the next N requests
      stray_lines        raw lines sent (once) before the next reply
      raw_reply          if set, sent verbatim instead of the next reply
      notify_before      messages sent (once) before the next reply, in order: dicts (REQ_ID inside is
                         replaced by the request's id), raw bytes, or a threading.Event to wait for
      hang_up_after_notify  after notify_before, close the connection instead of replying (once)
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.methods: Dict[str, Callable[[Any], Any]] = {
            "ping": lambda params: "pong",
            "status": lambda params: {"version": "0.1.0", "in_flight": 0, "models": ["gpt-4o"]},
            "complete": lambda params: COMPLETE_RESULT,
            "echo": lambda params: params,
            "silent": lambda params: NO_REPLY,
        }
        self.close_after_reply = False
        self.drop_requests = 0
        self.stray_lines: List[bytes] = []
        self.raw_reply: Optional[bytes] = None
        self.notify_before: List[Any] = []
        self.hang_up_after_notify = False
        self.received: List[Any] = []
        self.connections = 0
        self.conn_closed = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: List[socket.socket] = []
        self._threads: List[threading.Thread] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def requests(self) -> List[Dict[str, Any]]:
        """Every request object received, batches flattened, in arrival order."""
        with self._lock:
            out: List[Dict[str, Any]] = []
            for msg in self.received:
                out.extend(msg if isinstance(msg, list) else [msg])
            return out

    def stop(self) -> None:
        self._stop.set()
        self._accept_thread.join(WAIT)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(WAIT)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _reply_to(self, req: Any) -> Any:
        if not isinstance(req, dict) or "method" not in req:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        handler = self.methods.get(req["method"])
        try:
            if handler is None:
                raise RpcError(-32601, "method not found", {"method": req["method"]})
            result = handler(req.get("params"))
        except RpcError as exc:
            error = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            reply = {"jsonrpc": "2.0", "id": req.get("id"), "error": error}
        else:
            if result is NO_REPLY:
                return None
            reply = {"jsonrpc": "2.0", "id": req.get("id"), "result": result}
        return reply if "id" in req else None

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            for line in reader:
                msg = json.loads(line)
                with self._lock:
                    self.received.append(msg)
                    drop = self.drop_requests > 0
                    if drop:
                        self.drop_requests -= 1
                    stray, self.stray_lines = self.stray_lines, []
                    raw, self.raw_reply = self.raw_reply, None
                    notes, self.notify_before = self.notify_before, []
                    hang_up, self.hang_up_after_notify = self.hang_up_after_notify, False
                if drop:
                    return
                if isinstance(msg, list):
                    replies = [r for r in (self._reply_to(m) for m in msg) if r is not None]
                    replies.reverse()  # replies may come in any order
                    reply = replies or None
                else:
                    reply = self._reply_to(msg)
                for extra in stray:
                    conn.sendall(extra)
                for note in notes:
                    if isinstance(note, threading.Event):
                        note.wait(WAIT)
                    elif isinstance(note, bytes):
                        conn.sendall(note)
                    else:
                        req_id = msg.get("id") if isinstance(msg, dict) else None
                        conn.sendall(json.dumps(_with_id(note, req_id)).encode() + b"\n")
                if hang_up:
                    return
                if raw is not None:
                    conn.sendall(raw)
                elif reply is not None:
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                if self.close_after_reply and reply is not None:
                    return
        except OSError:
            pass
        finally:
            reader.close()
            conn.close()
            self.conn_closed.set()
