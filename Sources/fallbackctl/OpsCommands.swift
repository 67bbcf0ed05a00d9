#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl ready`: exit 0 when the daemon can serve, 1 when not (a container's readiness probe).
struct ReadyCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "ready",
        abstract: "Exit 0 when the daemon is ready to serve (call log writable, a default-chain model callable), else 1."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print nothing; the exit status says it.")
    var quiet = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let state = try client.ready()
        if !quiet {
            let chain = state.defaultChain.map { "\($0.model)=\($0.breaker)" }.joined(separator: " ")
            print(state.ready ? "ready: store \(state.store); \(chain)" : "not ready: \(state.reason ?? "?"); \(chain)")
        }
        if !state.ready { throw .rpc(RPCError(code: 1, message: state.reason ?? "not ready")) }
    }
}

/// `fallbackctl reload`: re-read the daemon's config file (as SIGHUP does) and say what changed.
struct ReloadCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read the daemon's config; an invalid file changes nothing and lists its problems."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        let result = try client.reload()
        if json {
            print(result.json.serialized)
            return
        }
        print("config generation \(result.generation): \(result.changed ? "changes applied" : "nothing changed")")
        for (name, changes) in [("providers", result.providers), ("models", result.models), ("chains", result.chains)]
        where !changes.isEmpty {
            print("  \(name): +\(changes.added.joined(separator: ",")) -\(changes.removed.joined(separator: ",")) ~\(changes.changed.joined(separator: ","))")
        }
        if !result.settings.isEmpty { print("  settings: \(result.settings.joined(separator: ", "))") }
        if !result.breakersReset.isEmpty { print("  breakers reset: \(result.breakersReset.joined(separator: ", "))") }
        if !result.restartRequired.isEmpty { print("  needs a restart: \(result.restartRequired.joined(separator: ", "))") }
        for warning in result.warnings { print("  warning: \(warning)") }
    }
}

/// `fallbackctl logs [-f]`: the newest attempts, one per line; `-f` follows new ones.
struct LogsCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the newest attempts (before they even reach the call log); -f keeps following."
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: [.customShort("n"), .long], help: "How many of the newest attempts to show first.")
    var lines = 20

    @Flag(name: .shortAndLong, help: "Keep printing new attempts (Ctrl-C stops).")
    var follow = false

    @Flag(help: "One JSON object per attempt.")
    var json = false

    func validate() throws {
        guard (1...2_048).contains(lines) else { throw ValidationError("--lines must be between 1 and 2048") }
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        var (attempts, last) = try client.recentAttempts(after: 0, limit: lines)
        print(attempts)
        while follow {
            usleep(500_000)
            (attempts, last) = try client.recentAttempts(after: last, limit: 2_048)
            print(attempts)
        }
    }

    func print(_ attempts: [RecentAttempt]) {
        for attempt in attempts {
            if json {
                Swift.print(attempt.json.serialized)
                continue
            }
            let error = attempt.errorType.map { " \($0)" + (attempt.httpStatus.map { " \($0)" } ?? "") } ?? ""
            let kind = attempt.kind.map { " [\($0)]" } ?? (attempt.hedged ? " [hedge]" : "")
            Swift.print(
                "\(attempt.ts) \(attempt.requestID) \(attempt.task)/\(attempt.chain) \(attempt.model) "
                    + "\(attempt.outcome)\(error) \(attempt.latencyMs)ms $\(Output.decimal(attempt.costUSD))"
                    + " app=\(attempt.app ?? "-")\(kind)")
        }
        fflush(nil)  // every stream: `stdout` itself is not concurrency-safe to name
    }
}
