"""A slow provider at scale (issue 12): an upstream that answers every call after 1 s, 1,000 requests a second
through fallbackd for 60 s (so about 1,000 in flight). Reports every request's outcome, local errors
(`local_capacity`, `connection`), the daemon's RSS while loaded and after, and memory per request in flight.

    python3 Tests/bench/slow_upstream.py .build/release/fallbackd [--rate 1000] [--duration 60] [--delay-ms 1000]

The upstream is asyncio (keep-alive HTTP/1.1, an OpenAI chat.completion body); the load is asyncio too:
pipelined JSON-RPC over a few socket connections, each request sent at its scheduled time (open loop).
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

REPLY = json.dumps({
    "id": "chatcmpl-slow", "object": "chat.completion", "created": 1732492800, "model": "slow-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Here after a second."},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
}).encode()


async def upstream(reader, writer, delay):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(REPLY)
                         + REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def load(socket_path, rate, duration, connections, pid, samples):
    results = {"served": 0, "errors": {}, "attempt_errors": {}, "sent": 0}
    done = asyncio.Event()
    pending = {}
    conns = []
    for _ in range(connections):
        reader, writer = await asyncio.open_unix_connection(socket_path, limit=1 << 24)
        conns.append((reader, writer))

    async def read_replies(reader):
        while True:
            line = await reader.readline()
            if not line:
                return
            reply = json.loads(line)
            pending.pop(reply.get("id"), None)
            if "result" in reply:
                results["served"] += 1
                for attempt in reply["result"]["attempts"]:
                    if attempt["error_type"]:
                        results["attempt_errors"][attempt["error_type"]] = results["attempt_errors"].get(attempt["error_type"], 0) + 1
            else:
                code = reply["error"]["code"]
                results["errors"][code] = results["errors"].get(code, 0) + 1
                for attempt in (reply["error"].get("data") or {}).get("attempts", []):
                    if attempt.get("error_type"):
                        results["attempt_errors"][attempt["error_type"]] = results["attempt_errors"].get(attempt["error_type"], 0) + 1
            if results["sent"] == total and not pending:
                done.set()

    total = int(rate * duration)
    readers = [asyncio.create_task(read_replies(r)) for r, _ in conns]
    start = time.monotonic()
    next_sample = start
    for n in range(total):
        at = start + n / rate
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.monotonic() >= next_sample:
            samples.append((time.monotonic() - start, rss_kib(pid), len(pending)))
            next_sample += 1.0
        _, writer = conns[n % len(conns)]
        pending[n] = True
        writer.write(json.dumps({"jsonrpc": "2.0", "id": n, "method": "complete", "params": {
            "task": "slow", "timeout_ms": 30000, "messages": [{"role": "user", "content": f"request {n}"}]}}).encode() + b"\n")
        results["sent"] += 1
    while pending:
        samples.append((time.monotonic() - start, rss_kib(pid), len(pending)))
        try:
            await asyncio.wait_for(done.wait(), timeout=1.0)
        except asyncio.TimeoutError:
            pass
        if time.monotonic() - start > duration + 60:
            break
    results["unanswered"] = len(pending)
    for _, writer in conns:
        writer.close()
    for task in readers:
        task.cancel()
    return results


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--delay-ms", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--after-s", type=float, default=70,
                    help="when to read RSS after the load (the pool closes idle connections after 60 s)")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"slow_upstream: no fallbackd binary at {args.binary}")
    tmp = tempfile.mkdtemp(prefix="fbd-slow-")
    server = await asyncio.start_server(lambda r, w: upstream(r, w, args.delay_ms / 1000), "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    config = os.path.join(tmp, "slow.toml")
    with open(config, "w") as f:
        f.write(f"""[daemon]
database = "{tmp}/calls.sqlite"
log_level = "warning"
max_in_flight = 4096

[providers.slow]
kind = "openai-compatible"
base_url = "http://127.0.0.1:{port}/v1"
timeout_ms = 20000

[models.slow-model]
provider = "slow"
model_id = "slow-model"
cost_per_1k_input = 0.0005
cost_per_1k_output = 0.0015

[chains]
default = ["slow-model"]
slow = ["slow-model"]
""")
    sock = os.path.join(tmp, "d.sock")
    daemon = subprocess.Popen([args.binary, "--config", config, "--socket", sock], stderr=open(os.path.join(tmp, "d.log"), "w"))
    for _ in range(200):
        if os.path.exists(sock):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    idle = rss_kib(daemon.pid)
    samples = []
    t0 = time.monotonic()
    results = await load(sock, args.rate, args.duration, args.connections, daemon.pid, samples)
    elapsed = time.monotonic() - t0
    await asyncio.sleep(5)
    soon_after = rss_kib(daemon.pid)
    await asyncio.sleep(max(0.0, args.after_s - 5))
    after = rss_kib(daemon.pid)
    peak = max(s[1] for s in samples)
    peak_in_flight = max(s[2] for s in samples)
    loaded = [s for s in samples if s[0] > 5 and s[0] < args.duration]
    mean_in_flight = sum(s[2] for s in loaded) / max(1, len(loaded))
    mean_rss = sum(s[1] for s in loaded) / max(1, len(loaded))
    breakers = subprocess.run([sys.executable, "-c", f"""
import json,socket
s=socket.socket(socket.AF_UNIX); s.connect({sock!r}); f=s.makefile('rb')
s.sendall(b'{{"jsonrpc":"2.0","id":1,"method":"breakers"}}\\n'); print(f.readline().decode())"""], capture_output=True, text=True).stdout
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(30)
    server.close()
    total = int(args.rate * args.duration)
    print(f"slow upstream: {args.delay_ms} ms per call, {args.rate:.0f} req/s for {args.duration:.0f} s ({total} requests), "
          f"finished in {elapsed:.1f} s")
    print(f"  served {results['served']}, JSON-RPC errors {results['errors'] or 0}, unanswered {results['unanswered']}")
    print(f"  failed attempts by error_type: {results['attempt_errors'] or 'none'}")
    print(f"  in flight: mean {mean_in_flight:.0f}, peak {peak_in_flight}")
    print(f"  RSS: idle {idle / 1024:.1f} MiB, loaded mean {mean_rss / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
          f"5 s after {soon_after / 1024:.1f} MiB, {args.after_s:.0f} s after {after / 1024:.1f} MiB; per request in flight {(mean_rss - idle) / max(1, mean_in_flight):.1f} KiB")
    try:
        state = json.loads(breakers)["result"]
        print(f"  breaker after: {[(b['model'], b['state'], b['consecutive_failures']) for b in state.get('breakers', state)]}")
    except Exception:
        print(f"  breakers: {breakers.strip()[:300]}")


if __name__ == "__main__":
    asyncio.run(main())
