#!/usr/bin/env python3
"""First-token overhead of streaming through fallbackd: time to the first content delta through the
daemon's socket against time to the first content event straight from the upstream (the bench's nginx
serving an SSE answer), alternating the two paths request by request so both see the same machine.

Usage: first_token.py --socket SOCK --upstream http://127.0.0.1:PORT/stream/v1/chat/completions [--n 400]
"""
import argparse, http.client, json, socket, statistics, time, urllib.parse

BODY = {"model": "bench-model", "stream": True,
        "messages": [{"role": "user", "content": "Where is my order #4417? The jacket has not shipped yet."}]}


def direct_first_token(conn, path):
    start = time.perf_counter()
    conn.request("POST", path, body=json.dumps(BODY), headers={"content-type": "application/json"})
    response = conn.getresponse()
    # nginx sends the whole event stream in one write: its first content event arrives with the body.
    body = response.read()
    first = time.perf_counter() - start
    assert b'"content":"Thanks' in body
    return first


class Daemon:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        self.next_id = 0

    def first_token(self):
        self.next_id += 1
        params = {"task": "stream", "stream": True, "messages": BODY["messages"]}
        start = time.perf_counter()
        self.sock.sendall(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": "complete", "params": params}).encode() + b"\n")
        first = None
        while True:
            message = json.loads(self.reader.readline())
            if message.get("method") == "complete.delta" and first is None and message["params"]["delta"].get("content"):
                first = time.perf_counter() - start
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise SystemExit(f"complete failed: {message['error']}")
                return first


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    url = urllib.parse.urlparse(args.upstream)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    daemon = Daemon(args.socket)
    for _ in range(30):
        direct_first_token(conn, url.path)
        daemon.first_token()
    direct, through = [], []
    for _ in range(args.n):
        direct.append(direct_first_token(conn, url.path) * 1e6)
        through.append(daemon.first_token() * 1e6)
    for name, values in (("direct", direct), ("through fallbackd", through)):
        print(f"{name:>18}: p50 {statistics.median(values):7.0f} µs  p99 {percentile(values, 99):7.0f} µs")
    p50 = statistics.median(through) - statistics.median(direct)
    p99 = percentile(through, 99) - percentile(direct, 99)
    print(f"first-token overhead: p50 +{p50:.0f} µs (x{statistics.median(through) / statistics.median(direct):.2f}), "
          f"p99 +{p99:.0f} µs (x{percentile(through, 99) / percentile(direct, 99):.2f}), n={args.n}")


if __name__ == "__main__":
    main()
