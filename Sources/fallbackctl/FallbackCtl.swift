import ArgumentParser
import FallbackClient

/// `fallbackctl`: talks to a running fallbackd over its Unix socket.
///
/// Exit codes: 0 ok, 1 the daemon answered with an error (or the exchange failed),
/// 2 no daemon could be reached.
struct FallbackCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fallbackctl",
        abstract: "Query and drive a running fallbackd.",
        discussion: """
            The socket is --socket, else $FALLBACKD_SOCKET, else $XDG_RUNTIME_DIR/fallbackd.sock, \
            else /tmp/fallbackd-$UID.sock.
            Exit codes: 0 ok, 1 error reply from the daemon, 2 cannot connect.
            """,
        subcommands: [
            StatusCommand.self, ModelsCommand.self, ChainsCommand.self, CompleteCommand.self,
            HealthCommand.self, BreakersCommand.self, BreakerCommand.self, RouteCommand.self, ReportCommand.self,
            CostCommand.self, ShadowCommand.self, PingCommand.self, ReadyCommand.self, ReloadCommand.self,
            TopCommand.self, LogsCommand.self, FleetCommand.self, CallCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}

/// Options every subcommand takes, before or after its name.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's Unix socket.", valueName: "PATH"))
    var socket: String?

    /// A client for the chosen socket.
    func makeClient() -> FallbackClient {
        FallbackClient(socketPath: socket.flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// fallbackctl's exit statuses.
enum ExitStatus {
    static let ok: Int32 = 0
    /// The daemon answered with an error, or the exchange broke.
    static let rpcError: Int32 = 1
    /// No daemon could be reached on the socket.
    static let unavailable: Int32 = 2
}

/// A subcommand that talks to the daemon: failures become a message on stderr and an exit code.
protocol ClientCommand: ParsableCommand {
    var global: GlobalOptions { get }

    /// The command's work, given a client for the chosen socket.
    func run(with client: FallbackClient) throws(FallbackClientError)
}

extension ClientCommand {
    func run() throws {
        let client = global.makeClient()
        do {
            try run(with: client)
        } catch {
            ErrorReport(error).write()
            throw ExitCode(error.isUnavailable ? ExitStatus.unavailable : ExitStatus.rpcError)
        }
    }
}
