"""What the outage matrix measured, per scenario (from the replies, the fakes' records and the call log), the
targets, and the markdown report."""

from __future__ import annotations

import collections
import dataclasses
import math

from outage_scenarios import RETRY_AFTER_S, allowance, record_failed, recovery_allowance_s, trip_threshold
from outage_setup import MODEL_ID_TO_POOL, PRIMARY

P99_TARGET = 1.2
RA_START_GRACE_S = 0.010  # fakes' view: a call this soon after a 429 may have left before the 429 was read
RA_END_GRACE_S = 0.020  # a call this close to the end of the window is on time (clock granularity)


def percentile(values, q: float) -> float:
    """Nearest rank; unanswered requests are inf."""
    if not values:
        return math.nan
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(q / 100 * len(v)) - 1))]


@dataclasses.dataclass
class Result:
    scenario: object
    requests: int = 0
    oracle_requests: int = 0
    success: float = 0.0
    oracle_success: float = 0.0
    p50: float = math.nan
    p99: float = math.nan
    oracle_p50: float = math.nan
    oracle_p99: float = math.nan
    dead_calls: int = 0
    dead_probes: int = 0
    in_flight: int = 0  # failed calls that had started when the breaker's threshold was reached
    allowed: int = 0
    allowed_parts: list = dataclasses.field(default_factory=list)
    hedges: int = 0
    hedges_won: int = 0
    ra_violations: int = 0
    ra_violations_fake: int = 0
    rate_limits: int = 0
    back_after_s: float | None = None
    back_allowed_s: float | None = None
    primary_share_after: float | None = None
    details: list = dataclasses.field(default_factory=list)
    missed: list = dataclasses.field(default_factory=list)

    @property
    def p50_ratio(self) -> float:
        return self.p50 / self.oracle_p50 if self.oracle_p50 > 0 else math.nan

    @property
    def p99_ratio(self) -> float:
        return self.p99 / self.oracle_p99 if self.oracle_p99 > 0 else math.nan


def analyse(scn, cfg: dict, sent: list, records: list, call_log: list, wall0: float) -> Result:
    """sent: outage_load.Sent of both daemons; records: the fallbackd fake's requests; call_log: fallbackd's
    model_calls rows; wall0: unix time of the measured start."""
    r = Result(scn)
    fb = [s for s in sent if s.who == "fallbackd" and s.offset >= 0]
    orc = [s for s in sent if s.who == "oracle" and s.offset >= 0]
    r.requests, r.oracle_requests = len(fb), len(orc)
    lat = lambda xs: [s.latency * 1000 if s.latency is not None else math.inf for s in xs]  # noqa: E731
    r.success = 100.0 * sum(s.ok for s in fb) / max(1, len(fb))
    r.oracle_success = 100.0 * sum(s.ok for s in orc) / max(1, len(orc))
    r.p50, r.p99 = percentile(lat(fb), 50), percentile(lat(fb), 99)
    r.oracle_p50, r.oracle_p99 = percentile(lat(orc), 50), percentile(lat(orc), 99)
    _hedges(r, fb)
    _dead_calls(r, scn, cfg, records, call_log, wall0)
    _retry_after(r, records, call_log, wall0)
    _recovery(r, scn, cfg, fb)
    _details(r, fb, orc, call_log, wall0)
    _targets(r)
    return r


def _hedges(r: Result, fb: list):
    for s in fb:
        for a in s.attempts:
            if a.get("hedged"):
                r.hedges += 1
                if s.ok and a.get("outcome") == "success" and a.get("model") == s.result.get("model_used"):
                    r.hedges_won += 1


def _dead_calls(r: Result, scn, cfg: dict, records: list, call_log: list, wall0: float):
    for rec in records:
        t = rec["ts"] - wall0
        model = MODEL_ID_TO_POOL.get(rec.get("model"))
        if t >= 0 and model and record_failed(scn, model, rec.get("kind") or "", t):
            r.dead_calls += 1
    for row in call_log:
        t = row["ts_ms"] / 1000 - wall0
        state = scn.phase_at(t).state(row["model_name"])
        if row["chain"] == "probe" and t >= 0 and (row["error_type"] or state == "slow"):
            r.dead_probes += 1
    r.allowed, r.allowed_parts = allowance(cfg, scn)
    r.in_flight = _in_flight_at_trip(scn, cfg, call_log, wall0)


def _in_flight_at_trip(scn, cfg: dict, call_log: list, wall0: float) -> int:
    """For each failing stretch with a count-based trip (500, 429, 401): the failed calls beyond the threshold
    that had already started when the threshold-th failure came back (the breaker could not stop them).
    Timestamps are whole milliseconds: a start within 2 ms of that moment counts as started."""
    total = 0
    for model in {row["model_name"] for row in call_log}:
        for start, end, state in scn.spells(model):
            if state not in ("server_error", "rate_limited", "auth"):
                continue
            thr = trip_threshold(cfg, state)[0]
            rows = [row for row in call_log if row["model_name"] == model and row["chain"] != "probe"
                    and row["error_type"] not in (None, "cancelled")
                    and start <= row["ts_ms"] / 1000 - wall0 < end]
            rows.sort(key=lambda row: row["ts_ms"] + (row["latency_ms"] or 0))
            if len(rows) <= thr:
                continue
            trip = rows[thr - 1]["ts_ms"] + (rows[thr - 1]["latency_ms"] or 0)
            total += sum(1 for row in rows[thr:] if row["ts_ms"] <= trip + 2)
    return total


def _retry_after(r: Result, records: list, call_log: list, wall0: float):
    """Calls to a model inside the window a 429 asked for. Daemon's view (the call log): an attempt that
    started after a rate_limited attempt ended and before its Retry-After ran out. Provider's view (the
    fakes' arrival times), with small graces, in the details."""
    windows = collections.defaultdict(list)
    for row in call_log:
        if row["error_type"] == "rate_limited" and row["ts_ms"] / 1000 >= wall0:
            end = (row["ts_ms"] + (row["latency_ms"] or 0)) / 1000
            windows[row["model_name"]].append((end, end + RETRY_AFTER_S))
    r.rate_limits = sum(len(w) for w in windows.values())
    for row in call_log:
        t = row["ts_ms"] / 1000
        if any(a < t < b - RA_END_GRACE_S for a, b in windows.get(row["model_name"], ())):
            r.ra_violations += 1
    fwin = collections.defaultdict(list)
    for rec in records:
        if rec.get("kind") == "rate_limited" and rec["ts"] >= wall0:
            fwin[rec["model"]].append((rec["ts"] + RA_START_GRACE_S, rec["ts"] + RETRY_AFTER_S - RA_END_GRACE_S))
    for rec in records:
        if any(a < rec["ts"] < b for a, b in fwin.get(rec.get("model"), ())):
            r.ra_violations_fake += 1


def _recovery(r: Result, scn, cfg: dict, fb: list):
    if scn.recovery_at is None:
        return
    r.back_allowed_s = recovery_allowance_s(cfg, scn)
    after = [s for s in fb if s.offset >= scn.recovery_at]
    on_primary = [s for s in after if s.ok and s.result.get("model_used") == PRIMARY]
    if on_primary:
        r.back_after_s = min(s.offset for s in on_primary) - scn.recovery_at
    r.primary_share_after = 100.0 * len(on_primary) / max(1, len(after))


def _details(r: Result, fb: list, orc: list, call_log: list, wall0: float):
    def served(xs):
        c = collections.Counter(s.result.get("model_used") if s.ok else f"error {s.reply['error']['code']}"
                                if s.reply else "unanswered" for s in xs)
        return ", ".join(f"{k} {v}" for k, v in c.most_common())

    r.details.append(f"served (fallbackd): {served(fb)}")
    r.details.append(f"served (oracle): {served(orc)}")
    attempts = [len(s.attempts) for s in fb]
    r.details.append(f"attempts per request (fallbackd): mean {sum(attempts) / max(1, len(attempts)):.2f}, "
                     f"max {max(attempts, default=0)}")
    rows = collections.Counter()
    for row in call_log:
        if row["ts_ms"] / 1000 >= wall0:
            kind = "probe" if row["chain"] == "probe" else "call"
            rows[(row["model_name"], kind, row["error_type"] or "ok")] += 1
    r.details.append("call log (fallbackd, measured part): " + "; ".join(
        f"{m} {k} {e} {n}" for (m, k, e), n in sorted(rows.items())))
    slow = [s for s in fb if s.latency is not None and s.latency > 1.0]
    if slow:
        r.details.append(f"fallbackd requests over 1 s: {len(slow)} (first at {min(s.offset for s in slow):.2f} s, "
                         f"last at {max(s.offset for s in slow):.2f} s)")
    lags = sorted(s.lag * 1000 for s in fb + orc)
    r.details.append(f"load-generator lag: p99 {percentile(lags, 99):.1f} ms, max {max(lags, default=0):.1f} ms")
    r.details.append("allowed dead-model calls: " + ("; ".join(r.allowed_parts) or "none"))
    if r.rate_limits:
        r.details.append(f"429s seen: {r.rate_limits}; calls inside a Retry-After window: {r.ra_violations} "
                         f"(daemon's clock, call log), {r.ra_violations_fake} (fakes' arrival times)")


def _targets(r: Result):
    if r.success < 100.0:
        r.missed.append("success")
    if not (r.p99_ratio <= P99_TARGET):
        r.missed.append("p99")
    if r.dead_calls > r.allowed:
        r.missed.append("dead calls" + (" (only by calls in flight at the trip)"
                                        if r.dead_calls - r.in_flight <= r.allowed else ""))
    if r.ra_violations > 0:
        r.missed.append("Retry-After")
    if r.back_allowed_s is not None and (r.back_after_s is None or r.back_after_s > r.back_allowed_s):
        r.missed.append("recovery")


# --------------------------------------------------------------------------- markdown


def _ms(v: float) -> str:
    return "∞" if math.isinf(v) else "–" if math.isnan(v) else f"{v:.0f}"


def _x(v: float) -> str:
    return "–" if math.isnan(v) or math.isinf(v) else f"{v:.2f}×"


def table(results: list) -> str:
    out = ["| scenario | requests | success fallbackd / oracle | p50 ms fallbackd / oracle (ratio) | "
           "p99 ms fallbackd / oracle (ratio) | dead-model calls (probes, in flight at trip) / allowed | hedges (won) | "
           "Retry-After violations | targets |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        verdict = "met" if not r.missed else "MISSED: " + ", ".join(r.missed)
        out.append(f"| {r.scenario.title} | {r.requests} | {r.success:.1f}% / {r.oracle_success:.1f}% | "
                   f"{_ms(r.p50)} / {_ms(r.oracle_p50)} ({_x(r.p50_ratio)}) | "
                   f"{_ms(r.p99)} / {_ms(r.oracle_p99)} ({_x(r.p99_ratio)}) | "
                   f"{r.dead_calls} ({r.dead_probes}, {r.in_flight}) / {r.allowed} | {r.hedges} ({r.hedges_won}) | "
                   f"{r.ra_violations} | {verdict} |")
    return "\n".join(out)


def report(results: list, header: list, config_text: str) -> str:
    out = ["# fallbackd outage matrix", ""] + header + ["", table(results), ""]
    out += ["Targets: success 100% (every scenario has a healthy model), p99 within "
            f"{P99_TARGET}× the oracle's, dead-model calls at most the trip threshold plus the recovery probe slots "
            "of each failing spell (calls already in flight when a breaker trips are not allowed for; their "
            "number is shown), no call inside a Retry-After window, and (recovery) the primary serving again "
            "by the next probe slot after it is back (+1 s).", ""]
    for r in results:
        out.append(f"## {r.scenario.title}")
        out.append("")
        if r.back_allowed_s is not None:
            back = "never" if r.back_after_s is None else f"{r.back_after_s:.2f} s"
            out.append(f"- back on the primary after the recovery: {back} (allowed {r.back_allowed_s:.1f} s); "
                       f"primary served {r.primary_share_after:.0f}% of the requests after it")
        out += [f"- {d}" for d in r.details]
        out.append("")
    out += ["## fallbackd's config (both daemons; sockets and databases differ)", "", "```toml",
            config_text.strip(), "```", ""]
    return "\n".join(out)
