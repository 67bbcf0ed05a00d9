#!/usr/bin/env python3
"""Drives Tests/bench/instructions.sh: sends each phase's requests to a daemon running under
callgrind and reads the instruction count of each phase from callgrind_control dumps."""
import argparse, glob, json, os, re, shutil, socket, subprocess, time

PROMPT_BYTES = 256 * 1024


def connect(path, deadline=120):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            return s
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no daemon socket at {path} after {deadline} s")


class Conn:
    def __init__(self, path):
        self.sock = connect(path)
        self.reader = self.sock.makefile("rb")
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = json.loads(self.reader.readline())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Unsupported(f"{method} failed: {reply['error']}")
                return reply["result"]


class Unsupported(Exception):
    """A phase the daemon under test refuses (an older build without streaming, say)."""


def instructions(pid, directory, keep=None):
    """Dumps the counters since the last zeroing and returns the instructions (Ir) they hold; with `keep`,
    the dump is kept at that path for callgrind_annotate."""
    pattern = os.path.join(directory, f"cg.out.{pid}.*")
    before = set(glob.glob(pattern))
    subprocess.run(["callgrind_control", "--dump", str(pid)], check=True, capture_output=True)
    total = None
    for _ in range(200):
        files = set(glob.glob(pattern)) - before
        for path in files:
            with open(path) as f:
                text = f.read()
            m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
            if m:
                total = int(m.group(1))
                if keep:
                    shutil.move(path, keep)
                else:
                    os.remove(path)
        if total is not None:
            return total
        time.sleep(0.1)
    raise SystemExit("callgrind_control --dump produced no file")


def zero(pid):
    subprocess.run(["callgrind_control", "--zero", str(pid)], check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dir", required=True, help="where callgrind writes its dumps")
    ap.add_argument("--keep", help="a directory to keep each phase's dump in (PHASE.callgrind) for callgrind_annotate")
    args = ap.parse_args()
    conn = Conn(args.socket)
    plain = {"messages": [{"role": "user", "content": "Where is my order #4417? The jacket has not shipped yet."}]}
    streamed = dict(plain, stream=True, task="stream")
    big = {"messages": [{"role": "user", "content": "x" * PROMPT_BYTES}]}
    phases = [("ping", "ping", None), ("complete", "complete", plain), ("stream", "complete", streamed), ("prompt", "complete", big)]
    results = {}
    for name, method, params in phases:
        try:
            for _ in range(20):  # warm the path (connections, caches) before counting
                conn.call(method, params)
        except Unsupported as refusal:
            results[name] = None
            print(f"{name}: not measured ({refusal})")
            continue
        count = max(10, args.n // 10) if name == "prompt" else args.n
        zero(args.pid)
        for _ in range(count):
            conn.call(method, params)
        keep = os.path.join(args.keep, f"{name}.callgrind") if args.keep else None
        results[name] = instructions(args.pid, args.dir, keep) / count

    def fmt(value, unit):
        return f"{value:>12,.0f} {unit}" if value is not None else f"{'n/a':>12} {unit}"
    lines = [
        f"ping      {fmt(results['ping'], 'instructions per request')}",
        f"complete  {fmt(results['complete'], 'instructions per request')}",
        f"stream    {fmt(results['stream'], 'instructions per streamed request')}",
    ]
    if results["prompt"] is not None and results["complete"] is not None:
        per_byte = (results["prompt"] - results["complete"]) / PROMPT_BYTES
        lines.append(f"prompt    {per_byte:>12,.1f} instructions per prompt byte "
                     f"({PROMPT_BYTES // 1024} KiB prompt: {results['prompt']:,.0f} per request)")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
