"""Open-loop load for the outage matrix: `complete` requests at fixed times over a few pipelined JSON-RPC
connections per daemon, latency counted from each request's scheduled time (a stall is charged to every
request it delays), the two daemons' requests interleaved half a period apart."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import time


@dataclasses.dataclass
class Sent:
    who: str  # "fallbackd" or "oracle"
    index: int
    offset: float  # scheduled time, seconds from the measured start (negative: warm-up)
    wall: float  # scheduled time, unix seconds
    model: str | None  # the oracle's one model
    lag: float = 0.0  # how late the send was
    latency: float | None = None  # seconds from the scheduled time to the reply
    reply: dict | None = None

    @property
    def ok(self) -> bool:
        return self.reply is not None and "result" in self.reply

    @property
    def result(self) -> dict:
        return (self.reply or {}).get("result") or {}

    @property
    def attempts(self) -> list:
        r = self.reply or {}
        if "result" in r:
            return r["result"].get("attempts") or []
        return ((r.get("error") or {}).get("data") or {}).get("attempts") or []


class Connection:
    """One pipelined JSON-RPC connection: replies are matched by id."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.pending: dict = {}
        self.task = asyncio.ensure_future(self._read())
        self.error: BaseException | None = None

    @classmethod
    async def open(cls, path: str):
        reader, writer = await asyncio.open_unix_connection(path, limit=16 * 1024 * 1024)
        return cls(reader, writer)

    async def _read(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                now = loop.time()
                msg = json.loads(line)
                entry = self.pending.pop(msg.get("id"), None)
                if entry is not None:
                    sent, sched = entry
                    sent.latency, sent.reply = now - sched, msg
        except (OSError, ValueError, asyncio.IncompleteReadError) as e:
            self.error = e

    def send(self, rid: int, params: dict, sent: Sent, sched: float):
        self.pending[rid] = (sent, sched)
        line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "complete", "params": params})
        self.writer.write(line.encode() + b"\n")

    async def close(self):
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass
        self.task.cancel()


def request_params(index: int, model: str | None) -> dict:
    params = {"messages": [{"role": "user", "content": f"outage matrix request {index}: say hi"}], "max_tokens": 32}
    if model is not None:
        params["models"] = [model]
    return params


async def run_load(sockets: dict, rate: float, start_offset: float, end_offset: float, oracle_model,
                   switches=(), connections: int = 4, drain_s: float = 40.0, gap: float = 0.0) -> list:
    """Sends to each daemon of `sockets` ({"fallbackd": path, "oracle": path}) at `rate` per second, from
    start_offset to end_offset seconds around the measured start (t = 0, 0.3 s from now plus -start_offset),
    the oracle half a period after fallbackd, with params {"models": [oracle_model(offset)]}.
    `switches` [(offset, callable)] run in a worker thread at their offsets (the fakes' script changes).
    Nothing is sent in [-gap, 0): the scripts change there, between the warm-up and the measured run.
    Returns every Sent after the replies came back (or drain_s after the last send)."""
    loop = asyncio.get_running_loop()
    conns = {who: [await Connection.open(path) for _ in range(connections)] for who, path in sockets.items()}
    t0 = loop.time() + 0.3 - start_offset
    wall0 = time.time() + (t0 - loop.time())
    period = 1.0 / rate
    plan = []
    n = int(round((end_offset - start_offset) * rate))
    for i in range(n):
        off = start_offset + i * period
        if -gap <= off < 0:
            continue
        plan.append((off, "fallbackd", i))
        if "oracle" in sockets:
            plan.append((off + period / 2, "oracle", i))
    plan.sort()
    switch_tasks = [asyncio.ensure_future(_at(loop, t0 + off, fn)) for off, fn in switches]
    sent_all, ids, rr = [], itertools.count(1), {who: itertools.cycle(c) for who, c in conns.items()}
    for off, who, i in plan:
        sched = t0 + off
        delay = sched - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        model = oracle_model(off) if who == "oracle" else None
        s = Sent(who, i, off, wall0 + off, model, lag=max(0.0, loop.time() - sched))
        next(rr[who]).send(next(ids), request_params(i, model), s, sched)
        sent_all.append(s)
    for t in switch_tasks:
        await t
    end = loop.time() + drain_s
    while loop.time() < end and any(c.pending for cs in conns.values() for c in cs):
        await asyncio.sleep(0.05)
    for cs in conns.values():
        for c in cs:
            await c.close()
    return sent_all


async def _at(loop, when: float, fn):
    delay = when - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)
    await loop.run_in_executor(None, fn)
