#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import FallbackRPC
import Foundation
import NIOCore
import NIOPosix

/// One measured phase with the CPU each process spent during it.
struct PhaseResult: Sendable {
    var name: String
    var outcome: LoadOutcome
    var wallSeconds: Double
    var daemonCPU: Double?
    var upstreamCPU: Double?
    var benchCPU: Double?
    var daemonSwitches: Int?

    /// Daemon CPU per reply, microseconds.
    var daemonMicrosPerRequest: Double? {
        guard let daemonCPU, outcome.replies > 0 else { return nil }
        return daemonCPU * 1e6 / Double(outcome.replies)
    }
}

/// Everything the report needs.
struct BenchResults: Sendable {
    var options: BenchOptions
    var startedAt: Date
    var idle: ProcessSnapshot
    var afterLoad: ProcessSnapshot?
    var idleMappings: [(name: String, kib: Int)] = []
    var direct: PhaseResult?
    var through: PhaseResult?
    /// The same rate through the HTTP facade (OpenAI endpoint on its Unix socket), when asked.
    var facade: PhaseResult?
    /// The fixed-rate rounds before merging (direct, through).
    var rounds: [(direct: PhaseResult, through: PhaseResult)] = []
    var pingSingle: PhaseResult?
    var pingMax: PhaseResult?
    var maxThrough: PhaseResult?
    var maxDirect: PhaseResult?
    /// Outage phases: the default chain, then the outage chain on this daemon (fallbackd's defaults),
    /// then the outage chain on the plain-waterfall daemon.
    var outageBaseline: PhaseResult?
    var outage: PhaseResult?
    var outageWaterfall: PhaseResult?
    var upstreamBodyBytes = 0
    var requestLineBytes = 0
    var upstreamReplyBytes = 0
    var sampleReply: String?
    var failures: [String] = []
}

/// Runs the phases in order against a live daemon and upstream.
struct BenchRunner {
    let options: BenchOptions
    let payloads: Payloads

    init(options: BenchOptions) {
        self.options = options
        payloads = Payloads(modelID: options.modelID)
    }

    func run() async throws -> Int32 {
        guard ProcessSnapshot.isAlive(pid: options.pid) else {
            log("fallbackd pid \(options.pid) is not running")
            return 1
        }
        // Before anything touches the daemon.
        var results = BenchResults(options: options, startedAt: Date(), idle: ProcessSnapshot.read(pid: options.pid))
        results.idleMappings = ProcessSnapshot.residentByMapping(pid: options.pid, limit: 8)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let body = payloads.upstreamBody
        let completeTemplate = RequestTemplate(method: "complete", params: payloads.completeParams)
        let pingTemplate = RequestTemplate(method: "ping", params: nil)
        results.upstreamBodyBytes = body.count
        results.requestLineBytes = completeTemplate.approximateLineBytes - 5
        let fixedClient = HTTPTarget.makeClient(group: group, connections: 64)
        let maxClient = HTTPTarget.makeClient(group: group, connections: options.connections * options.depth)

        do {
            try await phases(&results, loop: loop, body: body, completeTemplate: completeTemplate,
                             pingTemplate: pingTemplate, fixedClient: fixedClient, maxClient: maxClient)
        } catch {
            results.failures.append("bench aborted: \(error)")
        }
        try? await fixedClient.shutdown()
        try? await maxClient.shutdown()
        try? await group.shutdownGracefully()

        let report = Report(results: results)
        let text = report.markdown()
        print(text)
        do {
            let path = try report.write(text, directory: options.out)
            print("report written to \(path)")
        } catch {
            log("could not write the report: \(error)")
        }
        if !results.failures.isEmpty { return 1 }
        if options.strict, report.verdicts().contains(where: { $0.ok == false }) { return 2 }
        return 0
    }

    private func phases(
        _ results: inout BenchResults, loop: any EventLoop, body: [UInt8], completeTemplate: RequestTemplate,
        pingTemplate: RequestTemplate, fixedClient: HTTPClient, maxClient: HTTPClient
    ) async throws {
        let completionCheck = ReplyCheck(expect: .completion, fullParseEvery: 1)
        // Sanity: one request each way, checked in full, before measuring anything.
        log("checking the upstream and the daemon")
        let direct0: (ok: Bool, why: String)
        do {
            let reply = try await fixedClient.execute(
                request: try HTTPClient.Request(url: options.upstream, method: .POST, body: .bytes(body)),
                deadline: .now() + .seconds(5)
            ).get()
            results.upstreamReplyBytes = reply.body?.readableBytes ?? 0
            direct0 = HTTPTarget.judge(.success(reply))
        } catch {
            direct0 = HTTPTarget.judge(.failure(error))
        }
        guard direct0.ok else {
            results.failures.append("upstream check failed: \(direct0.why)")
            return
        }
        let probe = try await RPCTarget.connect(
            path: options.socket, lanes: 1, loop: loop, template: completeTemplate, check: completionCheck)
        let probeOutcome = try await LoadRun(loop: loop, mode: .open(rate: 100, warmup: 0, measured: 3)).run(probe)
        results.sampleReply = probe.sampleReply
        await probe.close()
        guard probeOutcome.measuredErrors == 0, probeOutcome.lost == 0, probeOutcome.replies == 3 else {
            results.failures.append(
                "daemon check failed: \(probeOutcome.errorSamples.first ?? "\(probeOutcome.lost) lost")")
            return
        }

        // Fixed rate, direct and through, alternating when --rounds > 1.
        var directParts: [PhaseResult] = []
        var throughParts: [PhaseResult] = []
        var facadeParts: [PhaseResult] = []
        let warmup = Int((options.rate * options.warmupS).rounded())
        let measured = max(1, Int((options.rate * options.durationS / Double(options.rounds)).rounded()))
        for round in 1...options.rounds {
            let tag = options.rounds > 1 ? " (round \(round)/\(options.rounds))" : ""
            log("direct: \(fmtRate(options.rate)) req/s open loop, \(fmtSeconds(options.warmupS)) s warm-up + \(fmtSeconds(Double(measured) / options.rate)) s\(tag)")
            directParts.append(
                try await measure("direct", key: "direct") {
                    let target = try HTTPTarget(
                        client: fixedClient, loop: loop, url: options.upstream, body: body, lanes: 1)
                    return try await LoadRun(loop: loop, mode: .open(rate: options.rate, warmup: warmup, measured: measured))
                        .run(target)
                })
            log("through fallbackd: same rate, \(options.fixedConnections) socket connections\(tag)")
            throughParts.append(
                try await measure("through fallbackd", key: "through") {
                    let target = try await RPCTarget.connect(
                        path: options.socket, lanes: options.fixedConnections, loop: loop, template: completeTemplate,
                        check: completionCheck)
                    let outcome = try await LoadRun(
                        loop: loop, mode: .open(rate: options.rate, warmup: warmup, measured: measured)
                    ).run(target)
                    await target.close()
                    return outcome
                })
            if let facade = options.facadeSocket {
                log("through the HTTP facade: same rate, OpenAI endpoint on \(facade)\(tag)")
                let url = "http+unix://" + (facade.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? facade)
                    + "/v1/chat/completions"
                let facadeBody = Payloads(modelID: options.modelID).facadeBody(task: "default")
                facadeParts.append(
                    try await measure("through the HTTP facade", key: "facade") {
                        let target = try HTTPTarget(client: fixedClient, loop: loop, url: url, body: facadeBody, lanes: 1)
                        return try await LoadRun(loop: loop, mode: .open(rate: options.rate, warmup: warmup, measured: measured))
                            .run(target)
                    })
            }
        }
        results.direct = merge(directParts)
        if !facadeParts.isEmpty {
            results.facade = merge(facadeParts)
            if let facade = results.facade { checkErrors(facade, &results) }
        }
        results.through = merge(throughParts)
        results.rounds = Array(zip(directParts, throughParts))
        checkErrors(results.direct, &results)
        checkErrors(results.through, &results)

        // The socket + JSON-RPC floor.
        log("rpc only: ping, 1 connection, one at a time, 2 s")
        results.pingSingle = try await closedRPC(
            "ping, 1 connection", key: "ping-single", loop: loop, template: pingTemplate, expect: .pong, lanes: 1, depth: 1,
            warmupS: 0.2, measureS: 2)
        log("rpc only: ping, \(options.pingConnections) connections x depth \(options.pingDepth), 3 s")
        results.pingMax = try await closedRPC(
            "ping, max rate", key: "ping-max", loop: loop, template: pingTemplate, expect: .pong, lanes: options.pingConnections,
            depth: options.pingDepth, warmupS: 0.5, measureS: 3)

        if !options.skipMax {
            log("max rate through fallbackd: \(options.connections) connections x depth \(options.depth), \(options.maxDurationS) s")
            let through = try await closedRPC(
                "max rate through fallbackd", key: "max-through", loop: loop, template: completeTemplate, expect: .completion,
                lanes: options.connections, depth: options.depth, warmupS: 0.5, measureS: options.maxDurationS)
            results.maxThrough = through
            checkErrors(through, &results)
        }
        checkErrors(results.pingSingle, &results)
        checkErrors(results.pingMax, &results)
        results.afterLoad = ProcessSnapshot.read(pid: options.pid)

        if !options.skipMax {
            let concurrency = options.connections * options.depth
            log("max rate direct: \(concurrency) requests in flight with async-http-client, \(options.maxDurationS) s")
            results.maxDirect = try await measure("max rate direct", key: "max-direct") {
                let target = try HTTPTarget(
                    client: maxClient, loop: loop, url: options.upstream, body: body, lanes: concurrency)
                return try await LoadRun(
                    loop: loop,
                    mode: .closed(depth: 1, warmupNanos: 500_000_000, measureNanos: UInt64(options.maxDurationS * 1e9))
                ).run(target)
            }
            checkErrors(results.maxDirect, &results)
        }
        if !options.skipOutage {
            try await outagePhases(&results, loop: loop, check: completionCheck)
        }
        if !ProcessSnapshot.isAlive(pid: options.pid) {
            results.failures.append("fallbackd (pid \(options.pid)) is no longer running")
        }
        if let pid = options.waterfallPid, !ProcessSnapshot.isAlive(pid: pid) {
            results.failures.append("the plain-waterfall fallbackd (pid \(pid)) is no longer running")
        }
    }

    /// One provider down, the rest healthy: the outage chain (failing model first) at the through
    /// phase's rate and duration, against the default chain on the same daemon just before. Last of all
    /// phases, as the breaker it trips stays open for the rest of the run. No warm-up: the outage
    /// starts with the first measured request, so what the breaker costs before it opens is counted.
    private func outagePhases(_ results: inout BenchResults, loop: any EventLoop, check base: ReplyCheck) async throws {
        var check = base
        check.watchModel = Array(options.brokenModel.utf8)
        let healthy = RequestTemplate(method: "complete", params: payloads.completeParams)
        let outage = RequestTemplate(method: "complete", params: payloads.completeParams(task: options.outageTask))
        let measured = max(1, Int((options.rate * options.durationS).rounded()))
        let shape = "\(fmtRate(options.rate)) req/s open loop, \(fmtSeconds(options.durationS)) s, no warm-up"

        func fixed(_ name: String, key: String, socket: String, pid: Int32, template: RequestTemplate) async throws -> PhaseResult {
            try await measure(name, key: key, pid: pid) {
                let target = try await RPCTarget.connect(
                    path: socket, lanes: options.fixedConnections, loop: loop, template: template, check: check)
                let outcome = try await LoadRun(loop: loop, mode: .open(rate: options.rate, warmup: 0, measured: measured))
                    .run(target)
                await target.close()
                return outcome
            }
        }

        log("outage baseline: default chain, \(shape)")
        let baseline = try await fixed(
            "no failures (default chain)", key: "outage-baseline", socket: options.socket, pid: options.pid, template: healthy)
        results.outageBaseline = baseline
        checkErrors(baseline, &results)

        log("outage: chain '\(options.outageTask)', \(options.brokenModel) failing, fallbackd defaults, \(shape)")
        let defaults = try await fixed(
            "outage, fallbackd defaults", key: "outage", socket: options.socket, pid: options.pid, template: outage)
        results.outage = defaults
        checkErrors(defaults, &results)
        checkReached(defaults, &results)

        guard let socket = options.waterfallSocket, let pid = options.waterfallPid else { return }
        // The second daemon is fresh: warm its healthy path (connections, allocator) without measuring.
        let warmup = max(1, Int((options.rate * options.warmupS).rounded()))
        log("outage, plain waterfall: \(fmtSeconds(options.warmupS)) s warm-up on the default chain, then chain '\(options.outageTask)', \(shape)")
        let warmTarget = try await RPCTarget.connect(
            path: socket, lanes: options.fixedConnections, loop: loop, template: healthy, check: base)
        let warm = try await LoadRun(loop: loop, mode: .open(rate: options.rate, warmup: warmup, measured: 1)).run(warmTarget)
        await warmTarget.close()
        if warm.errorRate > 0.01 {
            results.failures.append(
                "plain-waterfall daemon warm-up: \(pct(warm.errorRate)) errors; first: \(warm.errorSamples.first ?? "-")")
            return
        }
        let waterfall = try await fixed(
            "outage, plain waterfall", key: "outage-waterfall", socket: socket, pid: pid, template: outage)
        results.outageWaterfall = waterfall
        checkErrors(waterfall, &results)
        checkReached(waterfall, &results)
    }

    /// An outage phase that never called the failing model measured nothing: the chain is misconfigured.
    private func checkReached(_ phase: PhaseResult, _ results: inout BenchResults) {
        let routing = phase.outcome.routing
        if routing.watchedAttempts == 0 {
            results.failures.append(
                "\(phase.name): no attempt reached \(options.brokenModel); is chain '\(options.outageTask)' configured to start with it?")
        }
        if routing.unreadable > 0 {
            results.failures.append("\(phase.name): \(routing.unreadable) replies without a readable attempts array")
        }
    }

    /// More than 1% errors (or unanswered requests) in a phase fails the bench.
    private func checkErrors(_ phase: PhaseResult?, _ results: inout BenchResults) {
        guard let phase, phase.outcome.errorRate > 0.01 else { return }
        let o = phase.outcome
        results.failures.append(
            "\(phase.name): \(pct(o.errorRate)) errors (limit 1%): \(o.totalErrors) error replies, \(o.lost) unanswered; first: \(o.errorSamples.first ?? "-")")
    }

    private func closedRPC(
        _ name: String, key: String, loop: any EventLoop, template: RequestTemplate, expect: ReplyCheck.Expect, lanes: Int, depth: Int,
        warmupS: Double, measureS: Double
    ) async throws -> PhaseResult {
        try await measure(name, key: key) {
            let target = try await RPCTarget.connect(
                path: options.socket, lanes: lanes, loop: loop, template: template,
                check: ReplyCheck(expect: expect, fullParseEvery: 64))
            let outcome = try await LoadRun(
                loop: loop,
                mode: .closed(depth: depth, warmupNanos: UInt64(warmupS * 1e9), measureNanos: UInt64(measureS * 1e9))
            ).run(target)
            await target.close()
            return outcome
        }
    }

    /// Runs `body` with CPU snapshots of the daemon, the upstream worker and this process around it.
    private func measure(
        _ name: String, key: String, pid daemonPID: Int32? = nil, _ body: () async throws -> LoadOutcome
    ) async throws -> PhaseResult {
        let pid = daemonPID ?? options.pid
        let profiler = options.profilePhase == key ? await Profiler.start(pid: pid, output: options.profileOut, limitSeconds: profileSeconds(key) + 30) : nil
        let daemon0 = ProcessSnapshot.read(pid: pid)
        let upstream0 = options.upstreamPid.map { ProcessSnapshot.read(pid: $0) }
        let self0 = ProcessSnapshot.read(pid: getpid())
        let start = monotonicNanos()
        let outcome = try await body()
        let wall = Double(monotonicNanos() - start) / 1e9
        if let profiler { await profiler.stop() }
        let daemon1 = ProcessSnapshot.read(pid: pid)
        let result = PhaseResult(
            name: name, outcome: outcome, wallSeconds: wall,
            daemonCPU: ProcessSnapshot.cpuSeconds(from: daemon0, to: daemon1),
            upstreamCPU: upstream0.flatMap { ProcessSnapshot.cpuSeconds(from: $0, to: ProcessSnapshot.read(pid: options.upstreamPid!)) },
            benchCPU: ProcessSnapshot.cpuSeconds(from: self0, to: ProcessSnapshot.read(pid: getpid())),
            daemonSwitches: daemon0.contextSwitches.flatMap { start in daemon1.contextSwitches.map { $0 - start } })
        let o = outcome
        log(
            "  \(name): \(o.replies) replies, \(o.totalErrors) errors, \(o.lost) lost, p50 \(fmtMicros(o.latency.p50)), p99 \(fmtMicros(o.latency.p99))"
                + (o.throughput > 0 ? ", \(fmtRate(o.throughput)) req/s" : "")
                + (o.routing.replies > 0
                    ? ", " + String(format: "%.3f", o.routing.meanAttempts) + " attempts/req, \(o.routing.watchedAttempts) on \(options.brokenModel)"
                    : ""))
        return result
    }

    /// About how long a phase runs, for the profiler's fixed window (it may cut the end short).
    private func profileSeconds(_ key: String) -> Double {
        switch key {
        case "direct", "through": options.warmupS + options.durationS / Double(options.rounds)
        case "ping-single": 2.2
        case "ping-max": 3.5
        case "outage-baseline", "outage", "outage-waterfall": options.durationS
        default: 0.5 + options.maxDurationS
        }
    }

    private func merge(_ parts: [PhaseResult]) -> PhaseResult? {
        guard var first = parts.first, let outcome = LoadOutcome.merged(parts.map(\.outcome)) else { return nil }
        first.outcome = outcome
        first.wallSeconds = parts.reduce(0) { $0 + $1.wallSeconds }
        func sum(_ key: KeyPath<PhaseResult, Double?>) -> Double? {
            let values = parts.compactMap { $0[keyPath: key] }
            return values.count == parts.count ? values.reduce(0, +) : nil
        }
        first.daemonCPU = sum(\.daemonCPU)
        first.upstreamCPU = sum(\.upstreamCPU)
        first.benchCPU = sum(\.benchCPU)
        let switches = parts.compactMap(\.daemonSwitches)
        first.daemonSwitches = switches.count == parts.count ? switches.reduce(0, +) : nil
        return first
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data(("fallbackd-bench: " + message + "\n").utf8))
}
