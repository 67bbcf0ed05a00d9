import ArgumentParser

/// Command-line options; the work is in BenchRunner.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fallbackd-bench",
        abstract: "Measures fallbackd's own overhead: the same requests direct to a local upstream and through fallbackd.",
        discussion: """
            Phases: direct and through fallbackd at a fixed rate (open loop, latency from the scheduled send time), \
            ping round trips (the socket + JSON-RPC floor), closed-loop maximum rate through fallbackd and direct, \
            and the daemon's RSS idle and after load. Tests/bench/run.sh sets up nginx and the daemon and runs this.
            """
    )

    @Option(help: "fallbackd's Unix socket.")
    var socket: String

    @Option(help: "The upstream's chat-completions URL (the one fallbackd's provider points at).")
    var upstream: String

    @Option(help: "fallbackd's pid, for RSS and CPU from /proc.")
    var pid: Int32

    @Option(help: "The upstream server's worker pid, for CPU accounting (optional).")
    var upstreamPid: Int32?

    @Option(help: "Directory for report-<timestamp>.md.")
    var out: String = "bench-results"

    @Option(help: "The model_id the daemon sends upstream (the direct phase sends the same).")
    var modelId: String = "bench-model"

    @Option(help: "Fixed rate for the direct and through phases, requests per second.")
    var rate: Double = 1000

    @Option(name: .customLong("duration-s"), help: "Measured seconds per fixed-rate phase.")
    var durationS: Double = 5

    @Option(name: .customLong("warmup-s"), help: "Unmeasured warm-up seconds before each fixed-rate phase.")
    var warmupS: Double = 1

    @Option(help: "Alternate direct and through this many rounds, each with its own warm-up and duration-s/rounds measured, so machine noise hits both paths alike.")
    var rounds: Int = 5

    @Option(help: "fallbackd's HTTP facade socket: adds a fixed-rate phase through its OpenAI endpoint.")
    var facadeSocket: String?

    @Option(help: "Socket connections for the fixed-rate phase through fallbackd (round-robin).")
    var fixedConnections: Int = 4

    @Option(help: "Max-rate phase: socket connections.")
    var connections: Int = 32

    @Option(help: "Max-rate phase: requests in flight per connection (pipelined).")
    var depth: Int = 8

    @Option(name: .customLong("max-duration-s"), help: "Measured seconds of each max-rate phase.")
    var maxDurationS: Double = 5

    @Option(help: "Ping max-rate phase: socket connections (depth as --ping-depth).")
    var pingConnections: Int = 16

    @Option(help: "Ping max-rate phase: requests in flight per connection.")
    var pingDepth: Int = 8

    @Option(help: "Sample fallbackd with `perf record -g` during one phase: direct, through, ping-single, ping-max, max-through or max-direct.")
    var profilePhase: String?

    @Option(help: "perf.data path for --profile-phase.")
    var profileOut: String = "perf.data"

    @Flag(help: "Skip the closed-loop max-rate phases.")
    var skipMax = false

    @Option(help: "Outage phases: the task whose chain starts with the failing model.")
    var outageTask: String = "outage"

    @Option(help: "Outage phases: the pool model whose provider fails; attempts on it are counted.")
    var brokenModel: String = "broken-model"

    @Option(help: "Outage phases: socket of a second daemon with breakers, retries and health reordering off (the plain waterfall row).")
    var waterfallSocket: String?

    @Option(help: "The second daemon's pid, for its CPU.")
    var waterfallPid: Int32?

    @Flag(help: "Skip the outage phases.")
    var skipOutage = false

    @Flag(help: "Exit 2 when a target is missed (errors above 1% always exit 1).")
    var strict = false

    /// Entry point for main.swift: inside an async function the async `main()` overload is chosen.
    static func start() async { await main() }

    func validate() throws {
        guard rate > 0, rate <= 200_000 else { throw ValidationError("--rate must be in (0, 200000]") }
        guard durationS > 0, durationS <= 60, warmupS >= 0, warmupS <= 30 else {
            throw ValidationError("--duration-s must be in (0, 60] and --warmup-s in [0, 30]")
        }
        guard (1...10).contains(rounds) else { throw ValidationError("--rounds must be 1...10") }
        guard maxDurationS > 0, maxDurationS <= 60 else { throw ValidationError("--max-duration-s must be in (0, 60]") }
        guard (1...256).contains(connections), (1...64).contains(depth), connections * depth <= 4096 else {
            throw ValidationError("--connections 1...256, --depth 1...64, connections x depth <= 4096")
        }
        guard (1...256).contains(pingConnections), (1...64).contains(pingDepth) else {
            throw ValidationError("--ping-connections 1...256, --ping-depth 1...64")
        }
        let phases = [
            "direct", "through", "ping-single", "ping-max", "max-through", "max-direct", "outage-baseline", "outage",
            "outage-waterfall",
        ]
        if let profilePhase, !phases.contains(profilePhase) {
            throw ValidationError("--profile-phase must be one of \(phases.joined(separator: ", "))")
        }
        guard (1...64).contains(fixedConnections) else { throw ValidationError("--fixed-connections 1...64") }
        guard (waterfallSocket == nil) == (waterfallPid == nil) else {
            throw ValidationError("--waterfall-socket and --waterfall-pid go together")
        }
        guard !outageTask.isEmpty, !brokenModel.isEmpty, !brokenModel.utf8.contains(UInt8(ascii: "\\")),
            !brokenModel.utf8.contains(UInt8(ascii: "\""))
        else { throw ValidationError("--outage-task and --broken-model must be non-empty plain names") }
    }

    func run() async throws {
        let status = try await BenchRunner(options: BenchOptions(self)).run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// The options as a Sendable value.
struct BenchOptions: Sendable {
    var socket: String
    var facadeSocket: String?
    var upstream: String
    var pid: Int32
    var upstreamPid: Int32?
    var out: String
    var modelID: String
    var rate: Double
    var durationS: Double
    var warmupS: Double
    var rounds: Int
    var fixedConnections: Int
    var connections: Int
    var depth: Int
    var maxDurationS: Double
    var pingConnections: Int
    var pingDepth: Int
    var skipMax: Bool
    var outageTask: String
    var brokenModel: String
    var waterfallSocket: String?
    var waterfallPid: Int32?
    var skipOutage: Bool
    var strict: Bool
    var profilePhase: String?
    var profileOut: String

    init(_ command: BenchCommand) {
        socket = command.socket
        facadeSocket = command.facadeSocket
        upstream = command.upstream
        pid = command.pid
        upstreamPid = command.upstreamPid
        out = command.out
        modelID = command.modelId
        rate = command.rate
        durationS = command.durationS
        warmupS = command.warmupS
        rounds = command.rounds
        fixedConnections = command.fixedConnections
        connections = command.connections
        depth = command.depth
        maxDurationS = command.maxDurationS
        pingConnections = command.pingConnections
        pingDepth = command.pingDepth
        skipMax = command.skipMax
        outageTask = command.outageTask
        brokenModel = command.brokenModel
        waterfallSocket = command.waterfallSocket
        waterfallPid = command.waterfallPid
        skipOutage = command.skipOutage
        strict = command.strict
        profilePhase = command.profilePhase
        profileOut = command.profileOut
    }
}
