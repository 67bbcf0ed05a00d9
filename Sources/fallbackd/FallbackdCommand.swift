import ArgumentParser
import FallbackDaemon

/// fallbackd: keeps AI features working when an LLM provider goes down.
struct FallbackdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fallbackd",
        abstract: "A sidecar that routes chat requests across LLM providers with fallbacks.",
        discussion: """
            Speaks line-delimited JSON-RPC 2.0 on a Unix socket and OpenAI's HTTP API beside it; see docs/protocol.md.
            Without --config it reads $FALLBACKD_CONFIG, then $XDG_CONFIG_HOME/fallbackd/fallbackd.toml \
            (~/.config/...), then /etc/fallbackd/fallbackd.toml. SIGHUP reloads the config.
            """,
        version: DaemonCommandLine.version
    )

    @Option(name: .long, help: "The TOML config file (default: see below).")
    var config: String?

    @Option(name: .long, help: "Validate this config file and exit.")
    var checkConfig: String?

    @Option(name: .long, help: "Socket path (overrides the config and the defaults).")
    var socket: String?

    @Option(name: .long, help: "Call-log SQLite path (overrides the config).")
    var database: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    func run() async throws {
        try await execute()
    }

    /// What `run()` does, under a name no default implementation shadows (main.swift calls it directly).
    func execute() async throws {
        let status: Int32
        if let checkConfig {
            status = DaemonCommandLine.checkConfig(path: checkConfig)
        } else {
            status = await DaemonCommandLine.run(configPath: config, socket: socket, database: database, logLevel: logLevel)
        }
        if status != 0 { throw ExitCode(status) }
    }
}
