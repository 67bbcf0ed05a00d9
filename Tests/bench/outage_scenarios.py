"""The outage matrix's scenarios: per-model states over time, the fake scripts they become, which model the
oracle is told is healthy, and how many calls to a failing model the config allows (trip threshold + probes)."""

from __future__ import annotations

import dataclasses
import math
import random

from outage_setup import BACKUP, CHAIN, POOL, PRIMARY, THIRD, effective

# A model's state in a phase. "ok" is healthy; every other state is a failure mode.
#   server_error  500 on every call            rate_limited  429 with Retry-After (RETRY_AFTER_S)
#   slow          answers after SLOW_MS          hang30        30% of calls never answer, the rest are ok
#   auth          401 (a revoked key)
RETRY_AFTER_S = 2
SLOW_MS = 3000
HANG_PATTERN = ["ok", "ok", "hang", "ok", "ok", "hang", "ok", "ok", "ok", "hang"]  # 3 in 10
ERROR_KINDS = {"server_error", "rate_limited", "auth", "hang"}  # fake record kinds that are failures
HANG_GUARD_S = 0.25  # the oracle avoids a model this close to a change of its state


@dataclasses.dataclass
class Phase:
    start: float  # seconds from the measured start
    end: float
    states: dict  # pool name -> state (models left out are "ok")

    def state(self, model: str) -> str:
        return self.states.get(model, "ok")


@dataclasses.dataclass
class Scenario:
    key: str
    title: str
    phases: list
    recovery_at: float | None = None  # when the primary comes back (scenario 8)

    @property
    def duration(self) -> float:
        return self.phases[-1].end

    def phase_at(self, t: float) -> Phase:
        for p in self.phases:
            if p.start <= t < p.end:
                return p
        return self.phases[-1]

    def healthy(self, t: float) -> list:
        return [m for m in CHAIN if self.phase_at(t).state(m) == "ok"]

    def oracle_model(self, t: float) -> str:
        """The first model of the chain that is healthy at t (and just before and after, near a change)."""
        ok = self.healthy(t)
        for near in (t - HANG_GUARD_S, t + HANG_GUARD_S):
            both = [m for m in ok if m in self.healthy(max(0.0, min(near, self.duration - 1e-6)))]
            ok = both or ok
        if not ok:
            raise ValueError(f"{self.key}: no healthy model at {t:.2f} s")
        return ok[0]

    def spells(self, model: str) -> list:
        """(start, end, state) of each stretch in which `model` keeps one failing state."""
        out = []
        for p in self.phases:
            st = p.state(model)
            if st == "ok":
                continue
            if out and out[-1][2] == st and abs(out[-1][1] - p.start) < 1e-9:
                out[-1] = (out[-1][0], p.end, st)
            else:
                out.append((p.start, p.end, st))
        return out


def build_scenarios(duration: float, flap_s: float = 5.0) -> list:
    D = duration
    flaps, t, down = [], 0.0, True
    while t < D - 1e-9:
        end = min(D, t + flap_s)
        flaps.append(Phase(t, end, {PRIMARY: "server_error"} if down else {}))
        t, down = end, not down
    half = round(D / 2, 3)
    return [
        Scenario("primary-outage", "1. primary outage (500 throughout)", [Phase(0, D, {PRIMARY: "server_error"})]),
        Scenario("429-storm", f"2. 429 storm on the primary (Retry-After {RETRY_AFTER_S} s)",
                 [Phase(0, D, {PRIMARY: "rate_limited"})]),
        Scenario("slow-primary", f"3. slow primary ({SLOW_MS} ms throughout)", [Phase(0, D, {PRIMARY: "slow"})]),
        Scenario("two-down", "4. primary and backup down (500)",
                 [Phase(0, D, {PRIMARY: "server_error", BACKUP: "server_error"})]),
        Scenario("flapping", f"5. flapping primary ({flap_s:g} s down / {flap_s:g} s up)", flaps),
        Scenario("hang30", "6. 30% of primary calls hang", [Phase(0, D, {PRIMARY: "hang30"})]),
        Scenario("revoked-key", "7. gray failure: revoked key on the primary (401)", [Phase(0, D, {PRIMARY: "auth"})]),
        Scenario("recovery", "8. recovery: primary down, then healthy from half-time",
                 [Phase(0, half, {PRIMARY: "server_error"}), Phase(half, D, {})], recovery_at=half),
    ]


# --------------------------------------------------------------------------- fake scripts


class Steps:
    """Healthy answers take base_ms * (1 +- jitter), uniformly: real providers are neither instant nor constant,
    and a p95 hedge needs a latency spread to aim at."""

    def __init__(self, base_ms: int, jitter: float, seed: int):
        self.base_ms, self.jitter, self.rng = base_ms, jitter, random.Random(seed)

    def ok(self) -> dict:
        if self.base_ms <= 0:
            return {"kind": "ok"}
        return {"kind": "slow", "ms": max(1, round(self.base_ms * (1 + self.jitter * self.rng.uniform(-1, 1))))}

    def script(self, state: str, count: int) -> tuple:
        """(steps, then) for a model entering `state`; `count` steps cover the phase."""
        if state == "ok":
            return [self.ok() for _ in range(count)], self.ok()
        if state == "hang30":
            steps = [{"kind": "hang"} if HANG_PATTERN[i % len(HANG_PATTERN)] == "hang" else self.ok()
                     for i in range(count)]
            return steps, {"kind": "hang"}
        if state == "slow":
            return [], {"kind": "slow", "ms": SLOW_MS}
        if state == "rate_limited":
            return [], {"kind": "rate_limited", "retry_after": RETRY_AFTER_S}
        return [], {"kind": state}


def record_failed(scn: Scenario, model: str, kind: str, t: float) -> bool:
    """Whether a call that reached `model` at t (seconds from the start) hit a failure it was scripted for."""
    if kind in ERROR_KINDS:
        return True
    return scn.phase_at(t).state(model) == "slow" and kind == "slow"


# --------------------------------------------------------------------------- allowance


def probe_slots(cfg: dict, span_s: float) -> int:
    """Recovery probes a model can get while out for span_s: one as soon as it is out, then after 5, 10, 20...
    s (probe_interval_ms doubling after each failed probe, capped at max_probe_interval_ms)."""
    if not effective(cfg, "recovery", "enabled"):
        return 0
    interval = effective(cfg, "recovery", "probe_interval_ms") / 1000
    cap = effective(cfg, "recovery", "max_probe_interval_ms") / 1000
    slots, t = 1, interval
    while t <= span_s + 1e-9:
        slots += 1
        interval = min(cap, interval * 2)
        t += interval
    return slots


def trip_threshold(cfg: dict, state: str) -> tuple:
    """(failed calls that take a model out in this state, which rule); auth opens at once."""
    cf = effective(cfg, "breaker", "consecutive_failures")
    min_calls = min(effective(cfg, "breaker", "minimum_calls"), effective(cfg, "breaker", "window"))
    if state == "auth":
        return 1, "auth opens at once"
    if state == "hang30":
        rate = effective(cfg, "breaker", "timeout_rate")
        n = math.ceil(rate * min_calls) if rate > 0 else math.inf
        return min(n, cf or math.inf), f"timeout_rate {rate:g} of {min_calls} calls"
    if state == "slow":
        if effective(cfg, "breaker", "slow_call_ms") <= 0:
            return math.ceil(effective(cfg, "breaker", "slow_call_rate") * min_calls), "slow-call rule OFF (would be)"
        return math.ceil(effective(cfg, "breaker", "slow_call_rate") * min_calls), "slow_call_rate of minimum_calls"
    return cf, f"consecutive_failures {cf}"


def allowance(cfg: dict, scn: Scenario) -> tuple:
    """(allowed failed calls over every model and spell, description)."""
    total, parts = 0, []
    for model in CHAIN:
        for start, end, state in scn.spells(model):
            thr, rule = trip_threshold(cfg, state)
            probes = 0 if state == "auth" else probe_slots(cfg, end - start)
            total += thr + probes
            parts.append(f"{model} {state} {start:g}-{end:g} s: {thr} ({rule}) + {probes} probes")
    return total, parts


def recovery_allowance_s(cfg: dict, scn: Scenario) -> float | None:
    """How long after the recovery the primary may take to serve again: the wait for the next probe slot,
    counting slots from the start of the outage as probe_slots does, plus 1 s."""
    if scn.recovery_at is None:
        return None
    interval = effective(cfg, "recovery", "probe_interval_ms") / 1000
    cap = effective(cfg, "recovery", "max_probe_interval_ms") / 1000
    t = 0.0
    while t < scn.recovery_at + 0.5:  # a slot within 0.5 s of the recovery may fall either side of it
        t += interval
        interval = min(cap, interval * 2)
    return t - scn.recovery_at + 1.0


__all__ = ["Scenario", "Phase", "Steps", "build_scenarios", "record_failed", "allowance", "probe_slots",
           "recovery_allowance_s", "RETRY_AFTER_S", "CHAIN", "POOL", "PRIMARY", "BACKUP", "THIRD"]
