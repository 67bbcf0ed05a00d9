"""Test helpers for streams: a raw HTTP/1.1 reader that shows the framing (chunked end, connection close), an
SSE parser that follows the HTML spec, and per-flavor reassembly of content, tool calls, finish and usage."""

import json
import socket
import time

from fakes_testlib import route_for


class RawResp:
    def __init__(self):
        self.status = None
        self.headers = {}  # lower-case names
        self.body = b""
        self.complete = False  # the body ended by its framing (chunked terminator / Content-Length)
        self.eof = False  # the server closed the connection
        self.reset = False  # ... with a RST
        self.reads = 0  # recv() calls that returned body bytes

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        return json.loads(self.body)


def stream_request(flavor, model, *, body=None, stream=True, query="?alt=sse", headers=None, method_path=None):
    """(path, body, headers) of a streaming request (Gemini: the streamGenerateContent route + query)."""
    path, default_body, hdrs = route_for(flavor, model)
    b = dict(default_body if body is None else body)
    if flavor == "gemini":
        path = path.replace(":generateContent", ":streamGenerateContent") + (query or "")
    elif stream:
        b["stream"] = True
    return method_path or path, b, hdrs if headers is None else headers


def open_request(port, path, body, headers, timeout=10, version="HTTP/1.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = json.dumps(body).encode()
    head = f"POST {path} {version}\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode() + data)
    return s


class _Reader:
    def __init__(self, sock, resp):
        self.s = sock
        self.buf = b""
        self.resp = resp

    def more(self):
        try:
            d = self.s.recv(65536)
        except ConnectionResetError:
            self.resp.reset = self.resp.eof = True
            return False
        if not d:
            self.resp.eof = True
            return False
        self.buf += d
        if self.resp.status is not None:
            self.resp.reads += 1
        return True

    def line(self):
        while b"\r\n" not in self.buf:
            if not self.more():
                return None
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            if not self.more():
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_response(sock, wait_eof=True):
    """Read one response from `sock` (until its framing ends; then, if wait_eof, until the server closes)."""
    resp = RawResp()
    r = _Reader(sock, resp)
    status = r.line()
    if status is None:
        return resp
    resp.status = int(status.split()[1])
    while True:
        ln = r.line()
        if ln is None:
            return resp
        if not ln:
            break
        k, v = ln.decode().split(":", 1)
        resp.headers[k.strip().lower()] = v.strip()
    if "chunked" in resp.headers.get("transfer-encoding", ""):
        while True:
            size = r.line()
            if size is None:
                break
            n = int(size, 16)
            if n == 0:
                resp.complete = r.line() is not None
                break
            chunk = r.exact(n + 2)
            if chunk is None:
                break
            resp.body += chunk[:-2]
    elif "content-length" in resp.headers:
        got = r.exact(int(resp.headers["content-length"]))
        resp.complete = got is not None
        resp.body = got if got is not None else r.buf
    else:
        while r.more():
            pass
        resp.body = r.buf
    if wait_eof and not resp.eof:
        while r.more():
            pass
    return resp


def stream(fake, flavor, model, *, body=None, stream=True, query="?alt=sse", headers=None, wait_eof=False,
           timeout=10, version="HTTP/1.1"):
    path, b, hdrs = stream_request(flavor, model, body=body, stream=stream, query=query, headers=headers)
    s = open_request(fake.port, path, b, hdrs, timeout=timeout, version=version)
    try:
        return read_response(s, wait_eof=wait_eof)
    finally:
        s.close()


def dechunk(raw: bytes) -> bytes:
    """The payload of a (possibly unfinished) chunked body."""
    out = b""
    while raw:
        size, sep, rest = raw.partition(b"\r\n")
        if not sep:
            break
        n = int(size, 16)
        if n == 0 or len(rest) < n:
            out += rest[:n] if n else b""
            break
        out += rest[:n]
        raw = rest[n + 2:]
    return out


# ----------------------------------------------------------------------------- SSE


def parse_sse(text):
    """Events [{"event": name or None, "data": str}] per the SSE spec (any line ending, comments, multi-line data)."""
    events, data, name = [], [], None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for ln in lines:
        if ln == "":
            if data:
                events.append({"event": name, "data": "\n".join(data)})
            data, name = [], None
            continue
        if ln.startswith(":"):
            continue
        field, _, value = ln.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    return events


def datas(events):
    """The JSON of each event's data ([DONE] stays a string)."""
    return [e["data"] if e["data"] == "[DONE]" else json.loads(e["data"]) for e in events]


def openai_reassemble(events):
    out = {"content": "", "refusal": None, "tool_calls": {}, "finish": None, "usage": None, "done": False,
           "roles": [], "ids": set()}
    for e in events:
        if e["data"] == "[DONE]":
            out["done"] = True
            continue
        d = json.loads(e["data"])
        out["ids"].add(d["id"])
        assert d["object"] == "chat.completion.chunk"
        if d.get("usage"):
            out["usage"] = d["usage"]
        for ch in d["choices"]:
            delta = ch["delta"]
            if "role" in delta:
                out["roles"].append(delta["role"])
            if delta.get("content"):
                out["content"] += delta["content"]
            if delta.get("refusal") is not None:
                out["refusal"] = (out["refusal"] or "") + delta["refusal"]
            for tc in delta.get("tool_calls") or []:
                slot = out["tool_calls"].setdefault(tc["index"], {"id": None, "name": None, "arguments": ""})
                if "id" in tc:
                    slot["id"] = tc["id"]
                    assert tc["type"] == "function"
                fn = tc.get("function") or {}
                if "name" in fn:
                    slot["name"] = fn["name"]
                slot["arguments"] += fn.get("arguments", "")
            if ch["finish_reason"]:
                out["finish"] = ch["finish_reason"]
    return out


def anthropic_reassemble(events):
    out = {"names": [e["event"] for e in events], "blocks": [], "stop_reason": None, "usage": {}, "message": None}
    for e in events:
        d = json.loads(e["data"])
        assert d["type"] == e["event"], e
        if d["type"] == "message_start":
            out["message"] = d["message"]
            out["usage"].update(d["message"]["usage"])
        elif d["type"] == "content_block_start":
            assert d["index"] == len(out["blocks"])
            out["blocks"].append(dict(d["content_block"], _json=""))
        elif d["type"] == "content_block_delta":
            b = out["blocks"][d["index"]]
            if d["delta"]["type"] == "text_delta":
                b["text"] += d["delta"]["text"]
            else:
                assert d["delta"]["type"] == "input_json_delta"
                b["_json"] += d["delta"]["partial_json"]
        elif d["type"] == "message_delta":
            out["stop_reason"] = d["delta"]["stop_reason"]
            out["usage"].update(d["usage"])
    for b in out["blocks"]:
        j = b.pop("_json")
        if b["type"] == "tool_use":
            b["input"] = json.loads(j) if j else {}
    return out


def gemini_reassemble(events):
    out = {"text": "", "calls": [], "finish": None, "usage": None, "chunks": 0}
    for e in events:
        d = json.loads(e["data"])
        out["chunks"] += 1
        out["usage"] = d.get("usageMetadata", out["usage"])
        for c in d.get("candidates", []):
            for p in (c.get("content") or {}).get("parts", []):
                if "text" in p:
                    out["text"] += p["text"]
                if "functionCall" in p:
                    out["calls"].append(p["functionCall"])
            if c.get("finishReason"):
                out["finish"] = c["finishReason"]
    return out


def wait_for(pred, timeout=20.0):
    """Poll pred() every 20 ms until true; False after `timeout` (a bound, never a measurement)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()
