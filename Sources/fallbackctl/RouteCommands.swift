import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl route [TASK]`: the order a completion for TASK would try models in right now.
struct RouteCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show the order a completion would try models in now, and why.",
        discussion: """
            Healthy models come first in the configured order, degraded ones after them, then the models \
            that would be skipped (open, isolated, probe_busy). Nothing is sent to any provider.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The task whose chain to plan (default: the default chain).")
    var task: String?

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let result = try client.call("route", params: task.map { ["task": .string($0)] })
        if json {
            print(result.serialized)
            return
        }
        let chain = result["chain"]?.stringValue ?? "?"
        let asked = result["task"]?.stringValue ?? task ?? "default"
        print(asked == chain ? "chain \(chain):" : "task \(asked) runs chain \(chain):")
        Output.routeTable(RouteEntry.list(result["route"])).print()
    }
}

/// `fallbackctl report MODEL --outcome success|error ...`: an outcome seen outside fallbackd.
struct ReportCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report a call an app made to a provider itself, so it counts toward breaker and health.",
        discussion: """
            Example: fallbackctl report gpt-4o --outcome error --error-type rate_limited --latency-ms 120
            For the raw result, use: fallbackctl call report '{"model":"gpt-4o","outcome":"success","latency_ms":80}'
            """
    )

    enum Outcome: String, ExpressibleByArgument, CaseIterable {
        case success, error
    }

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A pool model name.")
    var model: String

    @Option(help: "success or error.")
    var outcome: Outcome

    @Option(help: ArgumentHelp("Required with --outcome error: rate_limited, overloaded, server_error, timeout, "
        + "connection, auth, invalid_request, context_length, content_filter, bad_response or cancelled.",
        valueName: "TYPE"))
    var errorType: String?

    @Option(help: "How long the call took, in milliseconds.")
    var latencyMs: Int

    @Option(help: "Input tokens, for the call log's cost.")
    var inputTokens: Int?

    @Option(help: "Output tokens, for the call log's cost.")
    var outputTokens: Int?

    @Option(help: "The provider's HTTP status.")
    var httpStatus: Int?

    @Option(help: "The task to log the call under (the daemon's default: reported).")
    var task: String?

    func validate() throws {
        if latencyMs < 0 { throw ValidationError("--latency-ms must be at least 0") }
        if outcome == .error, errorType == nil { throw ValidationError("--error-type is required with --outcome error") }
        if outcome == .success, errorType != nil { throw ValidationError("--error-type goes with --outcome error only") }
        for (name, value) in [("--input-tokens", inputTokens), ("--output-tokens", outputTokens)] {
            if let value, value < 0 { throw ValidationError("\(name) must be at least 0") }
        }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let reported: ReportOutcome = outcome == .success ? .success : .error(type: errorType ?? "")
        let usage = inputTokens == nil && outputTokens == nil
            ? nil : Usage(inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0)
        let receipt = try client.report(
            model: model, outcome: reported, latencyMs: latencyMs, usage: usage, httpStatus: httpStatus, task: task
        )
        let what = reported.errorType.map { "error (\($0))" } ?? "success"
        let counted = receipt.counted ? "counted" : "not counted by the breaker"
        print("reported \(what) for \(receipt.model): \(counted) · breaker \(receipt.breaker) · "
            + "$\(Completion.formatCost(receipt.costUSD)) · \(receipt.requestID)")
    }
}
