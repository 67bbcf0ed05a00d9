#if canImport(Glibc)
import Glibc
#endif
import FallbackCore
import FallbackFleet
import FallbackProviders
import FallbackRPC
import FallbackStore
import Synchronization

/// The method table over one runtime: `ping`, `status`, `models`, `chains`, `complete`, `reload`,
/// the cost and resilience methods. A reload builds the next runtime's table.
struct DaemonMethods: Sendable {
    let shared: DaemonShared
    let runtime: DaemonRuntime
    let reloader: Reloader

    var config: DaemonConfig { runtime.config }
    var clock: any FallbackClock { shared.clock }

    static var version: String { DaemonCommandLine.version }

    func table() -> RPCMethodTable {
        var table = RPCMethodTable()
        table.register("ping", .immediate { _ in .success("pong") })
        let models = modelsJSON()
        table.register("models", .immediate { _ in .success(models) })
        let chains = chainsJSON()
        table.register("chains", .immediate { _ in .success(chains) })
        table.register("status", .immediate { _ in .success(status()) })
        let clock = self.clock
        let router = runtime.router
        CostMethods(databasePath: config.databasePath, callLog: shared.callLog, clock: clock).register(in: &table)
        ResilienceMethods(
            router: router, resilience: runtime.resilience, pool: config.pool, recorder: router.recorder, clock: clock,
            requestIDs: shared.requestIDs, fleet: shared.fleet?.view
        ).register(in: &table)
        FleetMethod(link: shared.fleet, clock: clock).register(in: &table)
        let runner = runtime.runner
        table.register("complete", .deferred { params, context in
            let request: CompletionRequest
            do throws(RPCError) {
                request = try runner.parse(params, peer: context.peer)
            } catch {
                return .failure(error)
            }
            let sink = request.chat.stream ? StreamNotifier(context: context) : nil
            return await runner.run(request, stream: sink).map { ResultEncoding.result($0, clock: clock) }
        })
        let shared = self.shared
        let pool = config.pool
        table.register("ready", .immediate { _ in
            .success(ReadinessCheck.evaluate(pool: pool, breakers: shared.breakers, callLog: shared.callLog, at: clock.now()).json)
        })
        table.register("stats", .immediate { _ in
            .success(["models": .array(shared.tap.stats(pool: pool).map(\.json))])
        })
        table.register("attempts.recent", .immediate { params in recentAttempts(params) })
        let reloader = self.reloader
        table.register("reload", .deferred { params, _ in
            if let params, !params.isNull, params.kind != .object || !(params.objectValue?.isEmpty ?? true) {
                return .failure(.invalidParams(field: "params", "reload takes no params"))
            }
            return reloader.reload(trigger: "rpc").map(\.json)
        })
        return table
    }

    /// `attempts.recent`: `{"after": seq, "limit": n}` both optional.
    func recentAttempts(_ params: JSON?) -> Result<JSON, RPCError> {
        var after = 0
        var limit = 100
        if let params, !params.isNull {
            guard params.kind == .object else { return .failure(.invalidParams(field: "params", "must be an object")) }
            for (key, value) in params.objectValue ?? [] where !value.isNull {
                switch key {
                case "after":
                    guard let number = value.intValue, number >= 0 else { return .failure(.invalidParams(field: "after", "must be an integer ≥ 0")) }
                    after = number
                case "limit":
                    guard let number = value.intValue, (1...AttemptTap.capacity).contains(number) else {
                        return .failure(.invalidParams(field: "limit", "must be an integer from 1 to \(AttemptTap.capacity)"))
                    }
                    limit = number
                default:
                    return .failure(.invalidParams(field: key, "is not a param of attempts.recent (after, limit)"))
                }
            }
        }
        let (attempts, last) = shared.tap.recent(after: after, limit: limit)
        return .success(["attempts": .array(attempts.map(\.json)), "last": .int(last)])
    }

    func status() -> JSON {
        let now = clock.now()
        let log = shared.callLog.stats
        let gate = shared.gate
        var status = DaemonStatus(
            version: Self.version, uptimeSeconds: Double(now.millis(since: shared.startedAt)) / 1000, pid: Int(getpid()),
            socket: shared.socketPath, database: config.databasePath, inFlight: gate.inFlight, maxInFlight: gate.maxInFlight,
            requestsTotal: gate.admitted, connections: shared.connections.count + shared.facadeConnections.count,
            draining: gate.isDraining,
            callLog: DaemonStatus.CallLogState(
                pending: log.pendingCount, written: log.writtenCount, failedFlushes: log.failedFlushes,
                dropped: log.droppedRows, lastError: log.lastError?.description),
            models: config.pool.modelsByPriority.map(\.name), chains: config.pool.chains.keys.sorted()
        )
        status.httpSocket = shared.httpSocket
        status.httpListen = shared.httpBound.value
        status.configGeneration = runtime.generation
        return status.json
    }

    func modelsJSON() -> JSON {
        let kinds = Dictionary(uniqueKeysWithValues: config.providers.map { ($0.name, $0.kind.rawValue) })
        return ["models": .array(config.pool.modelsByPriority.map { model in
            ModelInfo(
                name: model.name, provider: model.provider, providerKind: kinds[model.provider] ?? "",
                modelID: model.modelID, priority: model.priority, maxTokens: model.maxTokens,
                contextWindow: model.contextWindow, costPer1kInput: model.costPer1kInput,
                costPer1kOutput: model.costPer1kOutput, notes: model.notes,
                cachedInputPerMTok: model.prices.cachedInputPerMTok, cacheWritePerMTok: model.prices.cacheWritePerMTok,
                capabilities: model.capabilities.map(\.rawValue).sorted(), reasoning: model.reasoning,
                defaultTemperature: model.defaultTemperature
            ).json
        })]
    }

    func chainsJSON() -> JSON {
        ChainTable(chains: config.pool.chains, defaultChain: ModelPool.defaultChain).json
    }
}

/// Request ids unique across restarts: a per-boot random prefix and a counter.
final class RequestIDGenerator: Sendable {
    private let prefix = "r-" + String(UInt32.random(in: 0...UInt32.max), radix: 16) + "-"
    private let counter = Atomic<Int>(0)

    func next() -> String {
        prefix + String(counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }
}
