#if canImport(Glibc)
import Glibc
#endif
import FallbackCore
import FallbackProviders
import FallbackRPC
import FallbackStore
import Synchronization

/// The method table: `ping`, `status`, `models`, `chains`, `complete`.
struct DaemonMethods: Sendable {
    let service: CompletionService
    let resilience: Resilience
    let config: DaemonConfig
    let socketPath: String
    let gate: InFlightGate
    let registry: ConnectionRegistry
    let callLog: CallLog
    let clock: any FallbackClock
    let startedAt: Moment
    let requestIDs = RequestIDGenerator()

    static let version = "0.1.0"

    func table() -> RPCMethodTable {
        var table = RPCMethodTable()
        table.register("ping", .immediate { _ in .success("pong") })
        let models = modelsJSON()
        table.register("models", .immediate { _ in .success(models) })
        let chains = chainsJSON()
        table.register("chains", .immediate { _ in .success(chains) })
        table.register("status", .immediate { _ in .success(status()) })
        let service = self.service
        let router = service.router
        let pool = config.pool
        let ids = requestIDs
        let clock = self.clock
        CostMethods(databasePath: config.databasePath, callLog: callLog, clock: clock).register(in: &table)
        ResilienceMethods(
            router: router, resilience: resilience, pool: pool, recorder: router.recorder, clock: clock, requestIDs: ids
        ).register(in: &table)
        table.register("complete", .deferred { params, context in
            let parsed = Result { () throws(RPCError) -> CompletionRequest in
                try CompleteRequest.parse(params, pool: pool, requestID: ids.next())
            }
            guard case .success(let request) = parsed else {
                if case .failure(let error) = parsed { return .failure(error) }
                return .failure(.internalError("unreachable"))
            }
            let sink = request.chat.stream ? StreamNotifier(context: context) : nil
            switch await service.complete(request, stream: sink) {
            case .success(let result):
                return .success(ResultEncoding.result(result, clock: clock))
            case .failure(.budget(let refusal)):
                return .failure(ResultEncoding.budgetError(refusal, clock: clock))
            case .failure(.route(let failure)):
                return .failure(ResultEncoding.error(failure, request: request, clock: clock))
            }
        })
        return table
    }

    func status() -> JSON {
        let now = clock.now()
        let log = callLog.stats
        return DaemonStatus(
            version: Self.version, uptimeSeconds: Double(now.millis(since: startedAt)) / 1000, pid: Int(getpid()),
            socket: socketPath, database: config.databasePath, inFlight: gate.inFlight, maxInFlight: gate.maxInFlight,
            requestsTotal: gate.admitted, connections: registry.count, draining: gate.isDraining,
            callLog: DaemonStatus.CallLogState(
                pending: log.pendingCount, written: log.writtenCount, failedFlushes: log.failedFlushes,
                dropped: log.droppedRows, lastError: log.lastError?.description),
            models: config.pool.modelsByPriority.map(\.name), chains: config.pool.chains.keys.sorted()
        ).json
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
