import FallbackClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tables for health, breakers and routes, and the "until" cells they share.
extension Output {
    /// `health`: one row per model.
    static func healthTable(_ models: [ModelHealth], now: Int64 = nowUnixMillis()) -> Table {
        var table = Table([
            .init("MODEL"), .init("CALLS", .right), .init("SUCCESS", .right), .init("AVG MS", .right),
            .init("P50", .right), .init("P95", .right), .init("P99", .right), .init("DEGRADED"), .init("BREAKER"),
            .init("UNTIL"),
        ] + (models.contains { $0.fleet != nil } ? [.init("FLEET")] : []))
        let fleet = models.contains { $0.fleet != nil }
        for model in models {
            let idle = model.calls == 0
            table.append([
                model.model, String(model.calls), idle ? "-" : percent(model.successRate),
                idle ? "-" : decimal(model.avgLatencyMs, digits: 1), idle ? "-" : String(model.p50LatencyMs),
                idle ? "-" : String(model.p95LatencyMs), idle ? "-" : String(model.p99LatencyMs),
                model.degraded ? "yes" : "no", model.breaker.rawValue + (model.breakerOpenedBy.map { " (by \($0))" } ?? ""),
                until(model.breakerUntil, now: now),
            ] + (fleet ? [model.fleet.map(fleetCell) ?? "-"] : []))
        }
        return table
    }

    /// The fleet-wide health cell: `12 calls, 91.7% on 3 hosts (degraded)`.
    static func fleetCell(_ fleet: FleetHealth) -> String {
        guard fleet.calls > 0 else { return "no calls" }
        return "\(fleet.calls) calls, \(percent(fleet.successRate)) on \(fleet.hosts) hosts" + (fleet.degraded ? " (degraded)" : "")
    }

    /// `breakers`: one row per model.
    static func breakerTable(_ breakers: [BreakerInfo], now: Int64 = nowUnixMillis()) -> Table {
        var table = Table([
            .init("MODEL"), .init("STATE"), .init("UNTIL"), .init("FAILS", .right), .init("FAIL RATE", .right),
            .init("SLOW RATE", .right), .init("WINDOW", .right), .init("TRIPS", .right), .init("LEVEL", .right),
            .init("PROBES", .right), .init("LAST TRIP"),
        ])
        for breaker in breakers {
            var state = breaker.misconfigured ? "\(breaker.state) (misconfigured)" : breaker.state.rawValue
            if let peer = breaker.openedBy { state += " (by \(peer))" }
            table.append([
                breaker.model, state, until(breaker.until, ms: breaker.untilMs, now: now),
                String(breaker.consecutiveFailures), breaker.failureRate.map(percent) ?? "-",
                breaker.slowRate.map(percent) ?? "-", String(breaker.callsInWindow), String(breaker.trips),
                String(breaker.level), String(breaker.probesInFlight), breaker.lastTripReason ?? "-",
            ])
        }
        return table
    }

    /// A route: place, model, reason, until.
    static func routeTable(
        _ route: [RouteEntry], indent: String = "", showsHeader: Bool = true, now: Int64 = nowUnixMillis()
    ) -> Table {
        var table = Table(
            [.init("PLACE", .right), .init("MODEL"), .init("REASON"), .init("UNTIL")],
            indent: indent, showsHeader: showsHeader
        )
        for entry in route {
            let until = entry.until == nil && entry.untilMs == nil ? "" : until(entry.until, ms: entry.untilMs, now: now)
            let reason = entry.reason.rawValue + (entry.openedBy.map { " (opened by \($0))" } ?? "")
            table.append([showsHeader ? String(entry.place) : "\(entry.place).", entry.model, reason, until])
        }
        return table
    }

    /// A ratio as a percentage with one decimal (`0.955` → `95.5%`).
    static func percent(_ ratio: Double) -> String {
        decimal(ratio * 100, digits: 1) + "%"
    }

    /// An "until" cell: `in 4m 12s (2026-11-24T23:59:01Z)`, or `-` when there is none.
    /// `ms` wins over parsing `iso`; the ISO text is shown without its milliseconds.
    static func until(_ iso: String?, ms: Int? = nil, now: Int64) -> String {
        guard iso != nil || ms != nil else { return "-" }
        let target = ms.map(Int64.init) ?? iso.flatMap(isoUnixMillis)
        let shown = iso.map(trimmedISO)
        guard let target else { return shown ?? "-" }
        let relative = target <= now ? "now" : "in " + duration(millis: target - now)
        return shown.map { "\(relative) (\($0))" } ?? relative
    }

    /// `850 ms`, `42s`, `4m 12s`, `1h 0m`.
    static func duration(millis: Int64) -> String {
        if millis < 1_000 { return "\(millis) ms" }
        let seconds = (millis + 999) / 1_000
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3_600 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds / 3_600)h \(seconds / 60 % 60)m"
    }

    /// `2026-11-24T23:59:01.123Z` as `2026-11-24T23:59:01Z`.
    static func trimmedISO(_ iso: String) -> String {
        guard iso.count == 24, iso.hasSuffix("Z"), let dot = iso.lastIndex(of: ".") else { return iso }
        return String(iso[..<dot]) + "Z"
    }

    /// Unix milliseconds of an ISO-8601 UTC timestamp as the daemon writes it (`2026-11-24T23:59:01.123Z`).
    static func isoUnixMillis(_ iso: String) -> Int64? {
        let parts = iso.split(whereSeparator: { "-T:.Z".contains($0) }).map { Int64($0) }
        guard parts.count == 7, parts.allSatisfy({ $0 != nil }) else { return nil }
        let v = parts.map { $0! }
        // Days from civil (Howard Hinnant's algorithm).
        let year = v[1] <= 2 ? v[0] - 1 : v[0]
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (v[1] + (v[1] > 2 ? -3 : 9)) + 2) / 5 + v[2] - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return ((days * 24 + v[3]) * 60 + v[4]) * 60_000 + v[5] * 1_000 + v[6]
    }

    /// The wall clock in Unix milliseconds.
    static func nowUnixMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
