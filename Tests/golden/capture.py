#!/usr/bin/env python3
"""Captures the golden transcripts from a real daemon: `python3 Tests/golden/capture.py BIN`.

Each line of Tests/golden/transcripts.jsonl is one exchange: {"name", "request", "notifications",
"reply"}. The Swift tests decode every params and result with the wire contract's types and encode
them back to the same JSON; the Python client's tests decode them with its own types; an
integration test checks the daemon still answers in the same shape; and a doc test checks that
every result field is in docs/protocol.md. Re-run this after a deliberate contract change and
review the diff: volatile values (times, pids, ids) are pinned so the file only changes with the
contract.
"""
import json, os, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
VOLATILE = {"latency_ms": 12, "uptime_s": 3.5, "pid": 4242, "request_id": "r-1a2b3c4d-7",
            "socket": "/run/fallbackd/fallbackd.sock", "database": "/var/lib/fallbackd/fallbackd.sqlite",
            "since": "2026-11-26T00:00:00.000Z", "until": "2026-12-03T00:00:00.000Z",
            "since_ms": 1795651200000, "until_ms": 1796256000000}


def pin(value):
    if isinstance(value, dict):
        return {k: (VOLATILE[k] if k in VOLATILE and not isinstance(v, (dict, list)) and v is not None else pin(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [pin(v) for v in value]
    return value


def main(binary):
    tmp = tempfile.mkdtemp(prefix="fbd-golden-")
    sock_path = os.path.join(tmp, "d.sock")
    daemon = subprocess.Popen([binary, "--config", os.path.join(HERE, "golden.toml"), "--socket", sock_path,
                               "--database", os.path.join(tmp, "calls.sqlite")])
    for _ in range(200):
        if os.path.exists(sock_path):
            break
        time.sleep(0.05)
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(sock_path)
    reader = conn.makefile("rb")
    lines = []
    next_id = [0]

    def exchange(name, method, params=None):
        next_id[0] += 1
        request = {"jsonrpc": "2.0", "id": next_id[0], "method": method}
        if params is not None:
            request["params"] = params
        conn.sendall(json.dumps(request).encode() + b"\n")
        notes = []
        while True:
            msg = json.loads(reader.readline())
            if "id" in msg and msg["id"] == request["id"]:
                break
            notes.append(msg)
        lines.append({"name": name, "request": request, "notifications": pin(notes), "reply": pin(msg)})

    user = [{"role": "user", "content": "What is the capital of France?"}]
    weather_tool = {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    exchange("ping", "ping")
    exchange("status", "status")
    exchange("models", "models")
    exchange("chains", "chains")
    exchange("complete: text after a fallback", "complete",
             {"messages": [{"role": "system", "content": "Be brief."}] + user, "task": "default", "metadata": {"user": "u-1"}})
    exchange("complete: a tool call", "complete",
             {"messages": user, "models": ["gpt-4o"], "tools": [weather_tool], "tool_choice": "auto", "seed": 7})
    exchange("complete: the tool's result answered", "complete",
             {"messages": user + [{"role": "assistant", "content": None, "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                 {"role": "tool", "tool_call_id": "call_1", "content": "18C, rain"}],
              "models": ["gpt-4o"], "max_completion_tokens": 300, "logprobs": True})
    exchange("complete: invalid params", "complete", {"messages": [{"role": "robot", "content": "x"}]})
    exchange("complete: no model can take it", "complete",
             {"messages": user, "task": "text", "tools": [weather_tool]})
    exchange("complete: all models failed", "complete", {"messages": user, "task": "all_down"})
    exchange("health", "health", {"window_minutes": 15})
    exchange("breakers", "breakers")
    exchange("route", "route", {"task": "default"})
    exchange("breaker.isolate", "breaker.isolate", {"model": "down"})
    exchange("breaker.reset", "breaker.reset", {"model": "down"})
    exchange("report", "report", {"model": "gpt-4o", "outcome": "error", "error_type": "rate_limited",
                                  "latency_ms": 120, "usage": {"input_tokens": 10, "output_tokens": 0}, "http_status": 429})
    exchange("cost.report", "cost.report", {"days": 7, "weeks": 2})
    exchange("shadow.report", "shadow.report", {"days": 7})
    exchange("fleet: without [fleet]", "fleet")
    conn.close()
    daemon.terminate()
    daemon.wait(timeout=30)
    out = os.path.join(HERE, "transcripts.jsonl")
    with open(out, "w") as f:
        for line in lines:
            f.write(json.dumps(line, sort_keys=False) + "\n")
    print(f"wrote {len(lines)} exchanges to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", ".build", "debug", "fallbackd"))
