import Foundation

/// A target from the issue, beside what was measured.
struct Verdict: Sendable {
    var name: String
    var measured: String
    var goal: String
    /// nil when the phase did not run.
    var ok: Bool?
    /// Why the measurement is doubtful, if it is.
    var note: String?

    var label: String {
        let verdict = switch ok {
        case .some(true): "ok"
        case .some(false): "MISSED"
        case .none: "not measured"
        }
        return note.map { "\(verdict) (\($0))" } ?? verdict
    }
}

/// The markdown report.
struct Report {
    let results: BenchResults

    static let overheadP50GoalMicros = 100.0
    static let overheadP99GoalMicros = 500.0
    static let maxRateGoal = 10_000.0
    static let idleRSSGoalMB = 30.0

    var overheadP50: Double? { delta(\.p50) }
    var overheadP99: Double? { delta(\.p99) }

    private func delta(_ key: KeyPath<LatencyStats, Double>) -> Double? {
        guard let through = results.through, let direct = results.direct else { return nil }
        return through.outcome.latency[keyPath: key] - direct.outcome.latency[keyPath: key]
    }

    /// The load generator's worst lateness (p99) over both fixed-rate phases: above ~250 µs the
    /// machine was busy enough that tail latencies say more about it than about fallbackd.
    var senderLagP99: Double? {
        guard let through = results.through, let direct = results.direct else { return nil }
        return max(through.outcome.senderLag.p99, direct.outcome.senderLag.p99)
    }

    static let noisyLagMicros = 250.0

    /// Median over rounds of (through − direct) at a percentile: robust to one noisy round.
    func roundMedian(_ key: KeyPath<LatencyStats, Double>) -> Double? {
        guard results.rounds.count > 1 else { return nil }
        let deltas = results.rounds.map { $0.through.outcome.latency[keyPath: key] - $0.direct.outcome.latency[keyPath: key] }
            .sorted()
        let mid = deltas.count / 2
        return deltas.count % 2 == 1 ? deltas[mid] : (deltas[mid - 1] + deltas[mid]) / 2
    }

    func verdicts() -> [Verdict] {
        let rate = fmtRate(results.options.rate)
        var out: [Verdict] = []
        out.append(
            Verdict(
                name: "overhead p50 at \(rate) req/s", measured: overheadP50.map(fmtSignedMicros) ?? "-",
                goal: "< \(Int(Self.overheadP50GoalMicros)) µs", ok: overheadP50.map { $0 < Self.overheadP50GoalMicros }))
        var p99 = Verdict(
            name: "overhead p99 at \(rate) req/s", measured: overheadP99.map(fmtSignedMicros) ?? "-",
            goal: "< \(Int(Self.overheadP99GoalMicros)) µs", ok: overheadP99.map { $0 < Self.overheadP99GoalMicros })
        if let lag = senderLagP99, lag > Self.noisyLagMicros {
            p99.note = "noisy: load generator p99 lag \(fmtMicros(lag))"
        }
        out.append(p99)
        let max = results.maxThrough?.outcome.throughput
        out.append(
            Verdict(
                name: "sustained rate through fallbackd", measured: max.map { fmtRate($0) + " req/s" } ?? "-",
                goal: "> 10,000 req/s", ok: max.map { $0 > Self.maxRateGoal }))
        let idle = results.idle.rssKiB.map { Double($0) * 1024 / 1e6 }
        out.append(
            Verdict(
                name: "RSS idle (before load)", measured: idle.map { String(format: "%.1f MB", $0) } ?? "-",
                goal: "< 30 MB", ok: idle.map { $0 < Self.idleRSSGoalMB }))
        return out
    }

    func markdown() -> String {
        let r = results
        let o = r.options
        var lines: [String] = []
        lines.append("# fallbackd bench, \(iso(r.startedAt))")
        lines.append("")
        lines.append(
            "Host: \(ProcessInfo.processInfo.activeProcessorCount) cores, Linux \(kernel()). fallbackd pid \(o.pid) on `\(o.socket)`; upstream \(o.upstream) (nginx `return 200`, \(r.upstreamReplyBytes) B reply).")
        lines.append(
            "Request: `complete` line \(r.requestLineBytes) B; the same messages as an OpenAI body to the upstream: \(r.upstreamBodyBytes) B. "
                + "Load generator: one event-loop thread; async-http-client keep-alive for direct, pipelined NIO Unix-socket connections for fallbackd.")
        lines.append(
            "Fixed-rate latency counts from each request's *scheduled* send time (open loop, no coordinated omission); the machine is noisy, so compare direct and through from this one run.")
        lines.append("")

        lines.append("## Targets")
        lines.append("")
        lines.append("| target | measured | goal | result |")
        lines.append("|---|---:|---:|---|")
        for v in verdicts() { lines.append("| \(v.name) | \(v.measured) | \(v.goal) | \(v.label) |") }
        lines.append("")

        if let direct = r.direct, let through = r.through {
            let shape = o.rounds > 1
                ? "\(fmtSeconds(o.durationS)) s measured per path in \(o.rounds) alternating rounds of \(fmtSeconds(o.durationS / Double(o.rounds))) s, each after \(fmtSeconds(o.warmupS)) s warm-up"
                : "\(fmtSeconds(o.durationS)) s measured after \(fmtSeconds(o.warmupS)) s warm-up"
            lines.append("## Fixed rate: \(fmtRate(o.rate)) req/s, open loop, \(shape)")
            lines.append("")
            lines.append("| path | requests | errors | p50 | p90 | p99 | p99.9 | max | mean |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            lines.append(latencyRow("direct (AHC → nginx)", direct.outcome))
            lines.append(latencyRow("through fallbackd (socket → fallbackd → nginx)", through.outcome))
            if let facade = r.facade {
                lines.append(latencyRow("through the HTTP facade (OpenAI endpoint → fallbackd → nginx)", facade.outcome))
            }
            let d = direct.outcome.latency
            let t = through.outcome.latency
            lines.append(
                "| **overhead (through − direct)** | | | **\(fmtSignedMicros(t.p50 - d.p50))** | \(fmtSignedMicros(t.p90 - d.p90)) | **\(fmtSignedMicros(t.p99 - d.p99))** | \(fmtSignedMicros(t.p999 - d.p999)) | | \(fmtSignedMicros(t.mean - d.mean)) |")
            lines.append(
                "| ratio through / direct | | | \(ratio(t.p50, d.p50)) | \(ratio(t.p90, d.p90)) | \(ratio(t.p99, d.p99)) | \(ratio(t.p999, d.p999)) | | \(ratio(t.mean, d.mean)) |")
            if let facade = r.facade {
                let f = facade.outcome.latency
                lines.append(
                    "| **overhead (HTTP facade − direct)** | | | **\(fmtSignedMicros(f.p50 - d.p50))** | \(fmtSignedMicros(f.p90 - d.p90)) | **\(fmtSignedMicros(f.p99 - d.p99))** | \(fmtSignedMicros(f.p999 - d.p999)) | | \(fmtSignedMicros(f.mean - d.mean)) |")
                lines.append(
                    "| ratio HTTP facade / JSON-RPC socket | | | \(ratio(f.p50, t.p50)) | \(ratio(f.p90, t.p90)) | \(ratio(f.p99, t.p99)) | \(ratio(f.p999, t.p999)) | | \(ratio(f.mean, t.mean)) |")
            }
            lines.append("")
            if results.rounds.count > 1 {
                lines.append("Per round (alternating, each \(fmtSeconds(o.durationS / Double(o.rounds))) s measured):")
                lines.append("")
                lines.append("| round | direct p50 | through p50 | overhead p50 | direct p99 | through p99 | overhead p99 | load-generator lag p99 |")
                lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
                for (index, round) in results.rounds.enumerated() {
                    let d = round.direct.outcome
                    let t = round.through.outcome
                    lines.append(
                        "| \(index + 1) | \(fmtMicros(d.latency.p50)) | \(fmtMicros(t.latency.p50)) | \(fmtSignedMicros(t.latency.p50 - d.latency.p50)) | \(fmtMicros(d.latency.p99)) | \(fmtMicros(t.latency.p99)) | \(fmtSignedMicros(t.latency.p99 - d.latency.p99)) | \(fmtMicros(max(d.senderLag.p99, t.senderLag.p99))) |")
                }
                if let m50 = roundMedian(\.p50), let m99 = roundMedian(\.p99) {
                    lines.append("| **median** | | | **\(fmtSignedMicros(m50))** | | | **\(fmtSignedMicros(m99))** | |")
                }
                lines.append("")
            }
            let ds = direct.outcome.service
            let ts = through.outcome.service
            lines.append(
                "Service time (from the actual send): direct p50 \(fmtMicros(ds.p50)) / p99 \(fmtMicros(ds.p99)); through p50 \(fmtMicros(ts.p50)) / p99 \(fmtMicros(ts.p99)). "
                    + "Sender lag behind schedule: direct p50 \(fmtMicros(direct.outcome.senderLag.p50)) / p99 \(fmtMicros(direct.outcome.senderLag.p99)); through p50 \(fmtMicros(through.outcome.senderLag.p50)) / p99 \(fmtMicros(through.outcome.senderLag.p99)).")
            lines.append("")
            lines.append("CPU during the phase (incl. warm-up), per request:")
            lines.append("")
            lines.append("| path | fallbackd | fallbackd ctx switches/req | nginx worker | bench client |")
            lines.append("|---|---:|---:|---:|---:|")
            lines.append(cpuRow("direct", direct))
            lines.append(cpuRow("through fallbackd", through))
            lines.append("")
        }

        if r.maxThrough != nil || r.maxDirect != nil {
            lines.append("## Maximum rate: closed loop, \(fmtSeconds(o.maxDurationS)) s after 0.5 s warm-up")
            lines.append("")
            lines.append("| path | in flight | req/s | errors | p50 | p99 | max | CPU µs/req: fallbackd / nginx / client | fallbackd CPU | fallbackd ctx switches/req |")
            lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            if let m = r.maxThrough {
                lines.append(maxRow("through fallbackd", "\(o.connections) conns × \(o.depth) pipelined", m))
            }
            if let m = r.maxDirect {
                lines.append(maxRow("direct (AHC → nginx)", "\(o.connections * o.depth) (AHC pool ≤ \(o.connections * o.depth))", m))
            }
            if let t = r.maxThrough, let d = r.maxDirect {
                lines.append(
                    "| ratio through / direct | | \(ratio(t.outcome.throughput, d.outcome.throughput)) | | \(ratio(t.outcome.latency.p50, d.outcome.latency.p50)) | \(ratio(t.outcome.latency.p99, d.outcome.latency.p99)) | | | | |")
            }
            lines.append("")
            lines.append(
                "Everything shares 2 cores: the client, fallbackd and nginx. fallbackd CPU % is of one core over the phase's wall time.")
            lines.append("")
        }

        if r.pingSingle != nil || r.pingMax != nil {
            lines.append("## RPC floor: `ping` over the socket (no HTTP)")
            lines.append("")
            lines.append("| mode | req/s | errors | p50 | p90 | p99 | max | CPU µs/req: fallbackd / client | fallbackd ctx switches/req |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            if let p = r.pingSingle { lines.append(pingRow("1 connection, one at a time", p)) }
            if let p = r.pingMax { lines.append(pingRow("\(o.pingConnections) conns × \(o.pingDepth) pipelined", p)) }
            lines.append("")
        }

        lines.append(contentsOf: outageSection())

        lines.append("## fallbackd memory")
        lines.append("")
        lines.append("| when | VmRSS | of which anonymous | of which file-backed | VmHWM (peak) | threads |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        lines.append(memoryRow("idle: after start-up and one readiness ping", r.idle))
        if let after = r.afterLoad { lines.append(memoryRow("after the max-rate phase", after)) }
        lines.append("")
        if !r.idleMappings.isEmpty {
            let list = r.idleMappings.map { "\($0.name) " + String(format: "%.1f MB", Double($0.kib) * 1024 / 1e6) }
            lines.append("Largest resident mappings at idle: " + list.joined(separator: ", ") + ".")
            lines.append("")
        }

        if let sample = r.sampleReply {
            lines.append("Sample reply (\(sample.utf8.count) B): `\(sample.prefix(300))\(sample.count > 300 ? "…" : "")`")
            lines.append("")
        }
        let errorSamples = [
            r.direct, r.through, r.pingSingle, r.pingMax, r.maxThrough, r.maxDirect, r.outageBaseline, r.outage,
            r.outageWaterfall,
        ]
            .compactMap { $0 }.flatMap { p in p.outcome.errorSamples.map { "\(p.name): \($0)" } }
        if !errorSamples.isEmpty || !r.failures.isEmpty {
            lines.append("## Errors")
            lines.append("")
            for f in r.failures { lines.append("- **FAILED**: \(f)") }
            for e in errorSamples.prefix(8) { lines.append("- `\(e)`") }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// "Outage: one provider failing": the no-failure row, then the outage with fallbackd's defaults and
    /// with the plain waterfall, each with its latency against the no-failure row of this run.
    private func outageSection() -> [String] {
        let r = results
        let o = r.options
        guard let baseline = r.outageBaseline else { return [] }
        let broken = "`\(o.brokenModel)`"
        var lines: [String] = []
        lines.append("## Outage: one provider failing")
        lines.append("")
        lines.append(
            "Chain `\(o.outageTask)` = [\(broken), `\(o.modelID)`]: every call to \(broken)'s provider gets HTTP 500 `server_error` from nginx, the other provider is healthy. "
                + "\(fmtRate(o.rate)) req/s open loop for \(fmtSeconds(o.durationS)) s per row, as the through phase, measured from the outage's first request (no warm-up); "
                + "the no-failure row is the default chain on the same daemon just before.")
        lines.append(
            "What the breaker does: with fallbackd's defaults, 3 consecutive failures open \(broken)'s breaker for 300 s, and from then on requests skip it without a call "
                + "(a failed attempt is first retried once after 100..2000 ms of full-jitter backoff, within the provider's retry budget). "
                + "The plain waterfall (a second daemon: breaker rules off, no retries, no health reordering) calls the dead model first on every request.")
        lines.append("")
        lines.append(
            "| run | requests | success | p50 | p99 | mean | max | p50 / no failures | p99 / no failures | attempts/req mean | attempts/req p99 | calls to \(broken) | answered by | fallbackd CPU/req | load-generator lag p99 |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        let base = baseline.outcome.latency
        for (name, phase) in [
            ("no failures (default chain)", r.outageBaseline), ("outage, fallbackd defaults", r.outage),
            ("outage, plain waterfall", r.outageWaterfall),
        ] {
            guard let phase else { continue }
            let out = phase.outcome
            let l = out.latency
            let routing = out.routing
            let requests = out.measuredReplies + out.lost
            let success = requests == 0 ? "-" : pct(Double(out.measuredReplies - out.measuredErrors) / Double(requests))
            let p99Attempts = routing.attemptsPercentile(0.99).map(String.init) ?? "-"
            let mean = routing.replies == 0 ? "-" : String(format: "%.3f", routing.meanAttempts)
            let served = routing.servedBy.isEmpty
                ? "-"
                : routing.servedBy.map { "\($0.model) \(pct(Double($0.replies) / Double(max(1, requests))))" }.joined(separator: ", ")
            lines.append(
                "| \(name) | \(requests) | \(success) | \(fmtMicros(l.p50)) | \(fmtMicros(l.p99)) | \(fmtMicros(l.mean)) | \(fmtMicros(l.max)) | \(ratio(l.p50, base.p50)) | \(ratio(l.p99, base.p99)) | \(mean) | \(p99Attempts) | \(routing.watchedAttempts) | \(served) | \(cpuMicros(phase.daemonCPU, phase)) µs | \(fmtMicros(out.senderLag.p99)) |")
        }
        lines.append("")
        for phase in [r.outage, r.outageWaterfall].compactMap({ $0 }) {
            let routing = phase.outcome.routing
            let histogram = routing.attemptsHistogram.enumerated().filter { $0.element > 0 }
                .map { "\($0.element) with \($0.offset)" }.joined(separator: ", ")
            lines.append(
                "- \(phase.name): \(routing.watchedReplies) of \(routing.replies) requests called \(broken) (\(routing.watchedAttempts) calls); requests by attempts: \(histogram).")
        }
        let lag = [r.outageBaseline, r.outage, r.outageWaterfall].compactMap { $0?.outcome.senderLag.p99 }.max() ?? 0
        if lag > Self.noisyLagMicros {
            lines.append(
                "- Noisy: the load generator fell up to \(fmtMicros(lag)) (p99) behind its schedule; tail ratios say more about the machine than about fallbackd.")
        }
        lines.append("")
        if r.outageWaterfall == nil {
            lines.append("(No plain-waterfall row: run.sh starts the second daemon; --waterfall-socket was not given.)")
            lines.append("")
        }
        return lines
    }

    /// Writes `text` to `directory/report-<timestamp>.md`; returns the path.
    func write(_ text: String, directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let path = directory + "/report-" + formatter.string(from: results.startedAt) + ".md"
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: rows

    private func latencyRow(_ name: String, _ o: LoadOutcome) -> String {
        let l = o.latency
        return "| \(name) | \(o.measuredReplies) | \(errorsCell(o)) | \(fmtMicros(l.p50)) | \(fmtMicros(l.p90)) | \(fmtMicros(l.p99)) | \(fmtMicros(l.p999)) | \(fmtMicros(l.max)) | \(fmtMicros(l.mean)) |"
    }

    private func cpuRow(_ name: String, _ p: PhaseResult) -> String {
        let n = Double(max(1, p.outcome.replies))
        func cell(_ seconds: Double?) -> String {
            guard let seconds else { return "-" }
            return String(format: "%.0f µs (%.0f%% of a core)", seconds * 1e6 / n, 100 * seconds / p.wallSeconds)
        }
        let daemon = name == "direct" ? String(format: "%.2f s total (idle)", p.daemonCPU ?? 0) : cell(p.daemonCPU)
        return "| \(name) | \(daemon) | \(switchesPerRequest(p)) | \(cell(p.upstreamCPU)) | \(cell(p.benchCPU)) |"
    }

    private func maxRow(_ name: String, _ inFlight: String, _ p: PhaseResult) -> String {
        let o = p.outcome
        let perRequest = [name.hasPrefix("through") ? p.daemonCPU : nil, p.upstreamCPU, p.benchCPU]
            .map { cpuMicros($0, p) }.joined(separator: " / ")
        let cpu = name.hasPrefix("through") ? p.daemonCPU.map { String(format: "%.0f%%", 100 * $0 / p.wallSeconds) } ?? "-" : "-"
        return "| \(name) | \(inFlight) | **\(fmtRate(o.throughput))** | \(errorsCell(o)) | \(fmtMicros(o.latency.p50)) | \(fmtMicros(o.latency.p99)) | \(fmtMicros(o.latency.max)) | \(perRequest) | \(cpu) | \(name.hasPrefix("through") ? switchesPerRequest(p) : "-") |"
    }

    private func pingRow(_ name: String, _ p: PhaseResult) -> String {
        let o = p.outcome
        let l = o.latency
        return "| \(name) | \(fmtRate(o.throughput)) | \(errorsCell(o)) | \(fmtMicros(l.p50)) | \(fmtMicros(l.p90)) | \(fmtMicros(l.p99)) | \(fmtMicros(l.max)) | \(cpuMicros(p.daemonCPU, p)) / \(cpuMicros(p.benchCPU, p)) | \(switchesPerRequest(p)) |"
    }

    private func switchesPerRequest(_ p: PhaseResult) -> String {
        guard let switches = p.daemonSwitches, p.outcome.replies > 0 else { return "-" }
        return String(format: "%.1f", Double(switches) / Double(p.outcome.replies))
    }

    /// CPU seconds as microseconds per reply.
    private func cpuMicros(_ seconds: Double?, _ p: PhaseResult) -> String {
        guard let seconds, p.outcome.replies > 0 else { return "-" }
        let micros = seconds * 1e6 / Double(p.outcome.replies)
        return micros < 10 ? String(format: "%.1f", micros) : String(format: "%.0f", micros)
    }

    private func memoryRow(_ name: String, _ s: ProcessSnapshot) -> String {
        func mb(_ kib: Int?) -> String {
            guard let kib else { return "-" }
            return String(format: "%.1f MB (%.1f MiB)", Double(kib) * 1024 / 1e6, Double(kib) / 1024)
        }
        return "| \(name) | \(mb(s.rssKiB)) | \(mb(s.anonKiB)) | \(mb(s.fileKiB)) | \(mb(s.hwmKiB)) | \(s.threads.map(String.init) ?? "-") |"
    }

    private func errorsCell(_ o: LoadOutcome) -> String {
        var cell = "\(o.measuredErrors)"
        if o.lost > 0 { cell += " + \(o.lost) lost" }
        if o.totalErrors > o.measuredErrors { cell += " (\(o.totalErrors) incl. warm-up)" }
        return cell
    }

    private func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    private func kernel() -> String {
        (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }
}

// MARK: number formatting

func fmtMicros(_ micros: Double) -> String {
    guard micros.isFinite else { return "-" }
    if abs(micros) >= 10_000 { return String(format: "%.1f ms", micros / 1000) }
    if abs(micros) >= 100 { return String(format: "%.0f µs", micros) }
    return String(format: "%.1f µs", micros)
}

func fmtSignedMicros(_ micros: Double) -> String {
    guard micros.isFinite else { return "-" }
    return (micros >= 0 ? "+" : "") + fmtMicros(micros)
}

func fmtRate(_ rate: Double) -> String {
    guard rate.isFinite else { return "-" }
    let rounded = Int(rate.rounded())
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.groupingSeparator = ","
    formatter.usesGroupingSeparator = true
    return formatter.string(from: NSNumber(value: rounded)) ?? "\(rounded)"
}

func fmtSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.2g", seconds)
}

func pct(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

func ratio(_ a: Double, _ b: Double) -> String {
    guard a.isFinite, b.isFinite, b > 0 else { return "-" }
    return String(format: "%.2f×", a / b)
}
