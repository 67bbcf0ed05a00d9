#!/usr/bin/env python3
"""fallbackd's outage matrix against an oracle (issue 10's closing test).

For each scenario (primary outage, 429 storm, slow primary, two providers down, flapping primary, 30% hangs,
revoked key, recovery), two fresh fallbackd daemons with the same config run on their own fake providers
(Tests/fakes/fake_providers.py): a three-model default chain gpt-4o (OpenAI fake) -> claude-3-5-sonnet
(Anthropic fake) -> gemini-1-5-pro (Gemini fake). "fallbackd" gets the default chain; the ORACLE gets the same
load, half a period later, with "models": [the model the scenario knows is healthy right now], so it pays the
same daemon overhead but never tries a failing model. After a short all-healthy warm-up (so the p95 hedge has
a latency history), the fakes' scripts switch to the scenario's and the load runs at a steady rate (open loop).

Reported per scenario: requests, success (both), p50/p99 (both, and fallbackd/oracle), calls that reached a
model while it was scripted to fail (the fakes' records) against the trip threshold plus the probe slots of
the config, hedges, and calls inside a Retry-After window (the call log). The markdown goes to stdout and
bench-results/outage-matrix-<UTC time>.md. Exit status: 0, or 1 on a harness error; --strict also exits 2
when a target is missed. Usage:

    python3 Tests/bench/outage_matrix.py [BINARY] [--duration 25] [--rate 20] [--only flapping,recovery]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from outage_load import run_load  # noqa: E402
from outage_report import analyse, report, table  # noqa: E402
from outage_scenarios import PRIMARY, Steps, build_scenarios  # noqa: E402
from outage_setup import (CHAIN, POOL, REPO_ROOT, Daemon, FakeServer, HarnessError, apply_overrides,  # noqa: E402
                          base_config, parse_override, to_toml)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO_ROOT, ".build", "release", "fallbackd"),
                    help="the fallbackd binary under test (default .build/release/fallbackd)")
    ap.add_argument("--duration", type=float, default=25.0, help="measured seconds per scenario (default 25)")
    ap.add_argument("--warmup", type=float, default=3.0, help="all-healthy seconds before each scenario (default 3)")
    ap.add_argument("--rate", type=float, default=20.0, help="requests per second to each daemon (default 20)")
    ap.add_argument("--connections", type=int, default=4, help="pipelined connections per daemon (default 4)")
    ap.add_argument("--flap", type=float, default=5.0, help="flapping: seconds down, then up (default 5)")
    ap.add_argument("--base-latency-ms", type=int, default=300,
                    help="a healthy model's answer time, spread by --jitter (default 300; 0: instant)")
    ap.add_argument("--jitter", type=float, default=0.2, help="healthy latency spread, ± share (default 0.2)")
    ap.add_argument("--hedge", default="p95", help='the default chain\'s hedge: "p95", a number of ms, or "off"')
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override a config key for both daemons (repeatable), e.g. breaker.slow_call_ms=1500")
    ap.add_argument("--only", default="", help="comma-separated scenario keys to run (default: all)")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "bench-results"), help="report directory")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, daemon logs, call logs)")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    ap.add_argument("--seed", type=int, default=1, help="seed of the healthy-latency jitter")
    return ap.parse_args(argv)


class Matrix:
    def __init__(self, args):
        self.args = args
        self.binary = os.path.abspath(args.binary)
        if not os.access(self.binary, os.X_OK):
            raise HarnessError(f"{self.binary} is not an executable fallbackd (build it, or pass its path)")
        self.tmp = tempfile.mkdtemp(prefix="fbd-outage.")
        self.overrides = [parse_override(s) for s in args.set]
        self.fakes: dict = {}
        self.daemons: list = []

    def config(self, fake_url: str, database: str) -> dict:
        return apply_overrides(base_config(fake_url, database, self.args.hedge), self.overrides)

    def start_fakes(self):
        for who in ("fallbackd", "oracle"):
            self.fakes[who] = FakeServer(os.path.join(self.tmp, f"fakes-{who}.log"))

    def script_all(self, states: dict, steps: dict, count: int):
        """Scripts `states` ({pool name: state}) on both fakes (the same steps on each)."""
        for model, state in states.items():
            model_id = POOL[model][2]
            st, then = steps[model].script(state, count)
            for fake in self.fakes.values():
                fake.api.script(model_id, st, then)

    def run_scenario(self, scn, index: int):
        a = self.args
        say(f"{scn.title}: {a.duration:g} s at {a.rate:g} req/s (+{a.warmup:g} s warm-up)")
        for fake in self.fakes.values():
            fake.api.reset()
        steps = {m: Steps(a.base_latency_ms, a.jitter, a.seed * 1000 + index * 10 + i) for i, m in enumerate(CHAIN)}
        count = int(a.rate * (a.duration + a.warmup) * 1.5) + 200
        self.script_all({m: "ok" for m in CHAIN}, steps, count)
        daemons = {}
        for who in ("fallbackd", "oracle"):
            db = os.path.join(self.tmp, f"{scn.key}-{who}.sqlite")
            d = Daemon(self.binary, self.tmp, f"{scn.key}-{who}", self.config(self.fakes[who].url, db))
            if index == 0 and who == "fallbackd":
                d.check_config()
            self.daemons.append(d)
            d.start()
            daemons[who] = d
        switches = []
        prev = {m: "ok" for m in CHAIN}
        for p in scn.phases:
            changed = {m: p.state(m) for m in CHAIN if p.state(m) != prev[m]}
            prev = {m: p.state(m) for m in CHAIN}
            if changed:
                off = -0.1 if p.start == 0 else p.start
                phase_count = int(a.rate * (p.end - p.start) * 2) + 200
                switches.append((off, lambda ch=changed, n=phase_count: self.script_all(ch, steps, n)))

        def oracle_model(off):
            return PRIMARY if off < -0.5 else scn.oracle_model(max(0.0, off))

        wall_before = time.time()
        sent = asyncio.run(run_load({w: d.socket for w, d in daemons.items()}, a.rate, -a.warmup, a.duration,
                                    oracle_model, switches, a.connections, drain_s=40.0, gap=0.25))
        wall0 = sent[0].wall - sent[0].offset if sent else wall_before
        statuses = {who: d.stop() for who, d in daemons.items()}
        for who, st in statuses.items():
            if st != 0:
                say(f"fallbackd ({who}) exited with {st} after SIGTERM; log: {daemons[who].log_tail()}")
        if a.keep:  # every request with its reply, for digging in later
            with open(os.path.join(self.tmp, f"{scn.key}-sent.jsonl"), "w") as f:
                for s in sent:
                    f.write(json.dumps(dataclasses.asdict(s)) + "\n")
        records = self.fakes["fallbackd"].api.requests()
        call_log = daemons["fallbackd"].call_log()
        cfg = daemons["fallbackd"].cfg
        res = analyse(scn, cfg, sent, records, call_log, wall0)
        for who, st in statuses.items():
            if st != 0:
                res.details.append(f"fallbackd ({who}) exit status after SIGTERM: {st} (None: killed)")
        unanswered = sum(1 for s in sent if s.reply is None)
        if unanswered:
            res.details.append(f"unanswered after the drain: {unanswered}")
        for who, d in daemons.items():
            tail = d.log_tail(3).strip()
            if tail:
                res.details.append(f"fallbackd ({who}) log, last lines: {tail.replace(chr(10), ' | ')[:600]}")
        return res

    def close(self):
        for d in self.daemons:
            try:
                d.stop()
            except Exception:  # noqa: BLE001 - best effort at exit
                pass
        for f in self.fakes.values():
            f.stop()
        if self.args.keep:
            say(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def say(msg: str):
    print(f"== outage matrix: {msg}", file=sys.stderr, flush=True)


def header(args, binary: str) -> list:
    hedge = {"p95": 'hedge_after = "p95"', "off": "no hedge"}.get(args.hedge, f"hedge_after_ms = {args.hedge}")
    lines = [
        f"- binary: `{binary}`; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}",
        f"- load: {args.rate:g} req/s to each daemon, open loop over {args.connections} pipelined connections each, "
        f"oracle half a period after fallbackd; {args.duration:g} s measured per scenario after {args.warmup:g} s "
        "all-healthy warm-up; fresh daemons and fakes per scenario; latency from the scheduled send time",
        f"- healthy answers take {args.base_latency_ms} ms ± {args.jitter * 100:g}% (uniform); failures answer at "
        "once; chain gpt-4o (OpenAI fake) -> claude-3-5-sonnet (Anthropic fake) -> gemini-1-5-pro (Gemini fake)",
        "- config: config/fallbackd.toml's resilience defaults (nothing set in [breaker], [retry], [health], "
        f"[routing], [recovery]) plus: {hedge} on the default chain; [shadow] sample_rate = 0 (shadow calls are "
        "random extra traffic to backups that would land on dead models); timeouts as config/fallbackd.toml "
        "(connect 5 s, 30 s per attempt, 30 s default deadline)",
    ]
    if args.set:
        lines.append("- overrides (--set): " + ", ".join(f"`{s}`" for s in args.set))
    lines.append("- ORACLE: a second fallbackd with the same config, sent `models: [<the healthy model>]`")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scenarios = build_scenarios(args.duration, args.flap)
    if args.only:
        keys = set(args.only.split(","))
        unknown = keys - {s.key for s in scenarios}
        if unknown:
            print(f"unknown scenario(s) {sorted(unknown)}; known: {[s.key for s in scenarios]}", file=sys.stderr)
            return 1
        scenarios = [s for s in scenarios if s.key in keys]
    try:
        m = Matrix(args)
    except HarnessError as e:
        print(f"outage matrix: {e}", file=sys.stderr)
        return 1
    results = []
    try:
        m.start_fakes()
        for i, scn in enumerate(scenarios):
            res = m.run_scenario(scn, i)
            results.append(res)
            say(table([res]).splitlines()[-1])
        config_text = to_toml(m.config("http://127.0.0.1:PORT", "calls.sqlite"))
    except (HarnessError, OSError) as e:
        print(f"outage matrix: harness error: {e!r}", file=sys.stderr)
        return 1
    finally:
        m.close()
    text = report(results, header(args, m.binary), config_text)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"outage-matrix-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.md")
    with open(path, "w") as f:
        f.write(text)
    say(f"report: {path}")
    if args.strict and any(r.missed for r in results):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
