import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl health [--window N]`: each model's success rate, latency and breaker.
struct HealthCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Show each model's success rate, latency percentiles and breaker.",
        discussion: """
            DEGRADED means at least [health].minimum_calls counted calls in the window and a success rate \
            below [health].degraded_below; routing judges it over [health].reorder_window_minutes.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The window in minutes, 1 to 60 (the daemon's default is 15).", valueName: "N"))
    var window: Int?

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func validate() throws {
        if let window, !(1...60).contains(window) { throw ValidationError("--window must be between 1 and 60") }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        if json {
            print(try client.call("health", params: window.map { ["window_minutes": .int($0)] }).serialized)
            return
        }
        let models = try client.health(windowMinutes: window)
        let minutes = models.first?.windowMinutes ?? window ?? 15
        print("last \(minutes) minute\(minutes == 1 ? "" : "s"):")
        Output.healthTable(models).print()
    }
}

/// `fallbackctl breakers`: every model's circuit breaker.
struct BreakersCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "breakers",
        abstract: "Show every model's circuit breaker (state, counters, when it reopens)."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        if json {
            print(try client.call("breakers").serialized)
            return
        }
        Output.breakerTable(try client.breakers()).print()
    }
}

/// `fallbackctl breaker reset|isolate MODEL`: operator control of one breaker.
struct BreakerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "breaker",
        abstract: "Reset or isolate one model's circuit breaker.",
        subcommands: [BreakerResetCommand.self, BreakerIsolateCommand.self]
    )

    @OptionGroup var global: GlobalOptions
}

/// What the breaker subcommands share: the model argument and printing the breaker afterwards.
protocol BreakerOperation: ClientCommand {
    var model: String { get }
    var json: Bool { get }
    /// Isolate rather than reset.
    var isolates: Bool { get }
}

extension BreakerOperation {
    func run(with client: FallbackClient) throws(FallbackClientError) {
        if json {
            let method = isolates ? "breaker.isolate" : "breaker.reset"
            print(try client.call(method, params: ["model": .string(model)]).serialized)
            return
        }
        let breaker = try isolates ? client.isolateBreaker(model) : client.resetBreaker(model)
        print("\(breaker.model): breaker \(breaker.state)")
        Output.breakerTable([breaker]).print()
    }
}

/// `fallbackctl breaker reset MODEL`.
struct BreakerResetCommand: BreakerOperation {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Close a model's breaker: counters cleared, growth level 0, isolation lifted."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A pool model name.")
    var model: String

    @Flag(help: "Print the raw result JSON.")
    var json = false

    var isolates: Bool { false }
}

/// `fallbackctl breaker isolate MODEL`.
struct BreakerIsolateCommand: BreakerOperation {
    static let configuration = CommandConfiguration(
        commandName: "isolate",
        abstract: "Take a model out of every chain until `breaker reset`."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A pool model name.")
    var model: String

    @Flag(help: "Print the raw result JSON.")
    var json = false

    var isolates: Bool { true }
}
