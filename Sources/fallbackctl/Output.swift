import FallbackClient
import FallbackRPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing and formatting helpers shared by the commands.
enum Output {
    /// Writes `text` to standard output at once (a streamed answer shows as it arrives).
    static func stream(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { raw in
                Glibc.write(1, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Writes `text` and a newline to standard error (unbuffered, so it never lags stdout).
    static func error(_ text: String) {
        var bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { raw in
                write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
        bytes.removeAll()
    }

    /// A JSON value as a table cell: strings bare, `null` as `-`, arrays comma-joined,
    /// other values in compact JSON.
    static func cell(_ value: JSON) -> String {
        switch value.kind {
        case .string: value.stringValue ?? ""
        case .null: "-"
        case .array:
            (value.arrayValue ?? []).allSatisfy { $0.kind != .object && $0.kind != .array }
                ? (value.arrayValue ?? []).map(cell).joined(separator: ", ") : value.serialized
        default: value.serialized
        }
    }

    /// Object members as (dotted key, cell) pairs, nested objects flattened (`call_log.pending`).
    static func flatten(_ value: JSON, prefix: String = "") -> [(key: String, value: String)] {
        guard let members = value.objectValue else { return [(prefix, cell(value))] }
        if members.isEmpty && !prefix.isEmpty { return [(prefix, "{}")] }
        return members.flatMap { member in
            flatten(member.value, prefix: prefix.isEmpty ? member.key : "\(prefix).\(member.key)")
        }
    }

    /// A decimal with at most `digits` fraction digits, trailing zeros trimmed (`0.005`, `0.00015`, `1`).
    static func decimal(_ value: Double, digits: Int = 6) -> String {
        guard value.isFinite, abs(value) < 1e12 else { return "\(value)" }
        guard digits > 0 else { return String(Int(value.rounded())) }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((abs(value) * scale).rounded())
        let unit = Int(scale)
        var fraction = String(scaled % unit)
        fraction = String(repeating: "0", count: digits - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return sign + String(scaled / unit) + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// The attempts of a chain run, numbered, e.g. `1. gpt-4o  openai  error  rate_limited  HTTP 429  35 ms`.
    static func attemptTable(_ attempts: [Completion.Attempt], indent: String = "  ") -> Table {
        var table = Table(
            [.init("#", .right), .init("MODEL"), .init("PROVIDER"), .init("OUTCOME"), .init("ERROR"),
             .init("HTTP", .right), .init("LATENCY", .right)],
            indent: indent, showsHeader: false
        )
        for (index, attempt) in attempts.enumerated() {
            table.append([
                "\(index + 1).", attempt.model, attempt.provider, attempt.outcome, attempt.errorType ?? "",
                attempt.httpStatus.map { "HTTP \($0)" } ?? "", "\(attempt.latencyMs) ms",
            ])
        }
        return table
    }
}

/// What fallbackctl prints to stderr when a call fails: the error, then a summary of its data.
struct ErrorReport {
    var error: FallbackClientError

    init(_ error: FallbackClientError) { self.error = error }

    var lines: [String] {
        var lines = ["fallbackctl: \(error)"]
        guard let data = error.rpcError?.data, !data.isNull else { return lines }
        guard let members = data.objectValue else {
            return lines + ["  data: \(Output.cell(data))"]
        }
        for (key, value) in members where key != "attempts" && key != "route" {
            lines.append("  \(key): \(Output.cell(value))")
        }
        let attempts = error.attempts
        if !attempts.isEmpty {
            lines.append("  attempts:")
            lines += Output.attemptTable(attempts, indent: "    ").lines
        }
        let route = error.route
        if !route.isEmpty {
            lines.append("  route:")
            lines += Output.routeTable(route, indent: "    ", showsHeader: false).lines
        }
        return lines
    }

    func write() {
        Output.error(lines.joined(separator: "\n"))
    }
}
