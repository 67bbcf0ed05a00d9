import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl status`: the daemon's status as a key/value table.
struct StatusCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's status (version, uptime, load, call log)."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let status = try client.status().json
        if json {
            print(status.serialized)
            return
        }
        var table = Table(columnCount: 2)
        for (key, value) in Output.flatten(status) {
            table.append([key, key == "uptime_s" ? Self.uptime(value) : value])
        }
        table.print()
    }

    /// `12.3` seconds as `12.3 s`, or with minutes and hours once those are reached.
    static func uptime(_ cell: String) -> String {
        guard let seconds = Double(cell), seconds.isFinite, seconds >= 0, seconds < 1e12 else { return cell }
        let whole = Int(seconds)
        guard whole >= 60 else { return "\(Output.decimal(seconds, digits: 1)) s" }
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? "\(hours)h \(minutes)m \(rest)s" : "\(minutes)m \(rest)s"
    }
}

/// `fallbackctl ping`: checks that the daemon answers.
struct PingCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Check that the daemon answers (prints pong)."
    )

    @OptionGroup var global: GlobalOptions

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let start = ContinuousClock.now
        guard try client.ping() else {
            throw .protocolError("ping did not answer \"pong\"")
        }
        let elapsed = start.duration(to: .now)
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        print("pong from \(client.socketPath) in \(Output.decimal(Double(micros) / 1000, digits: 1)) ms")
    }
}

/// `fallbackctl call METHOD [PARAMS_JSON]`: any method, raw result JSON out.
struct CallCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call any JSON-RPC method and print the raw result JSON.",
        discussion: """
            Example: fallbackctl call complete '{"messages":[{"role":"user","content":"hi"}]}'
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp(
        "The method name (ping, status, models, chains, complete, health, breakers, breaker.reset, "
            + "breaker.isolate, route, report, cost.report, shadow.report)."))
    var method: String

    @Argument(help: ArgumentHelp("Params, usually a JSON object.", valueName: "PARAMS_JSON"))
    var params: String?

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Seconds to wait for the reply.", valueName: "SECONDS"))
    var timeoutSeconds: Double = 60

    func validate() throws {
        _ = try parsedParams()
        guard timeoutSeconds > 0, timeoutSeconds <= 1_000_000 else {
            throw ValidationError("--timeout must be a positive number of seconds (at most 1000000)")
        }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        // `validate()` already parsed it. (Not `?? nil`: JSON is nil-literal expressible, so that
        // would turn "no params" into `"params": null`, which the daemon rightly refuses.)
        let parsed: JSON? = (try? parsedParams()).flatMap { $0 }
        let result = try client.call(method, params: parsed, timeout: .milliseconds(Int(timeoutSeconds * 1000)))
        print(result.serialized)
    }

    /// The params argument parsed; `nil` when absent.
    private func parsedParams() throws -> JSON? {
        guard let params else { return nil }
        // Any JSON is sent as given, so the daemon's own validation can be exercised too.
        do {
            return try JSON.parse(params)
        } catch {
            throw ValidationError("PARAMS_JSON is not valid JSON: \(error)")
        }
    }
}
