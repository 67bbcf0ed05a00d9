#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl top`: a live per-model view for an outage, refreshed every second.
struct TopCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live per-model view: calls/s, success, p50/p99, breaker and time to reopen, cost/min.",
        discussion: """
            Rates are taken between two readings of the daemon's counters (the first screen shows the last \
            minute's averages); success and latency are over the last minute. Ctrl-C stops.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seconds between refreshes.")
    var interval: Double = 1

    @Option(help: "Stop after this many screens (default: run until interrupted).")
    var iterations: Int?

    func validate() throws {
        guard interval >= 0.1, interval <= 3_600 else { throw ValidationError("--interval must be 0.1 to 3600 seconds") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        var previous: (stats: [String: ModelStats], at: ContinuousClock.Instant)?
        var screen = 0
        let tty = isatty(STDOUT_FILENO) != 0
        while iterations.map({ screen < $0 }) ?? true {
            if screen > 0 { usleep(useconds_t(interval * 1_000_000)) }
            let now = ContinuousClock.now
            let stats = Dictionary(uniqueKeysWithValues: try client.stats().map { ($0.model, $0) })
            let health = try client.health(windowMinutes: 1)
            let breakers = Dictionary(uniqueKeysWithValues: try client.breakers().map { ($0.model, $0) })
            let status = try client.status()
            let elapsed = previous.map { Self.seconds(now - $0.at) }
            if tty { Swift.print("\u{1B}[H\u{1B}[2J", terminator: "") }
            Swift.print(
                "fallbackd \(status.version) on \(client.socketPath): \(status.inFlight) in flight, "
                    + "\(status.requestsTotal) requests since start, \(status.connections) connections")
            Self.table(health: health, stats: stats, previous: previous?.stats, elapsed: elapsed, breakers: breakers).print()
            fflush(nil)  // every stream: `stdout` itself is not concurrency-safe to name
            previous = (stats, now)
            screen += 1
        }
    }

    static func table(
        health: [ModelHealth], stats: [String: ModelStats], previous: [String: ModelStats]?, elapsed: Double?,
        breakers: [String: BreakerInfo]
    ) -> Table {
        var table = Table([
            .init("MODEL"), .init("CALLS/S", .right), .init("SUCCESS", .right), .init("P50", .right), .init("P99", .right),
            .init("BREAKER"), .init("REOPENS IN", .right), .init("COST/MIN", .right),
        ])
        let nowMs = Double(Self.unixMillis())
        for model in health {
            let current = stats[model.model]
            var rate = Double(model.calls) / 60
            var costPerMinute: Double?
            if let previous, let elapsed, elapsed > 0, let current, let before = previous[model.model] {
                rate = Double(current.attempts - before.attempts) / elapsed
                costPerMinute = (current.costUSD - before.costUSD) / elapsed * 60
            }
            let breaker = breakers[model.model]
            let reopens = breaker?.untilMs.map { max(0, (Double($0) - nowMs) / 1000) }
            table.append([
                model.model, Output.decimal(rate, digits: 1),
                model.calls > 0 ? "\(Output.decimal(model.successRate * 100, digits: 1))%" : "-",
                model.calls > 0 ? "\(model.p50LatencyMs)ms" : "-", model.calls > 0 ? "\(model.p99LatencyMs)ms" : "-",
                breaker?.state.rawValue ?? model.breaker.rawValue, reopens.map { "\(Output.decimal($0, digits: 0))s" } ?? "-",
                costPerMinute.map { "$" + Output.decimal($0, digits: 4) } ?? "-",
            ])
        }
        return table
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func unixMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
