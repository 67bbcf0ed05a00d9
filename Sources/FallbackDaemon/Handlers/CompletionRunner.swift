import FallbackCore
import FallbackRPC

/// One `complete` for either front door (the JSON-RPC socket, the HTTP facade): the same parsing,
/// routing and error mapping, so both answer alike.
struct CompletionRunner: Sendable {
    let service: CompletionService
    let pool: ModelPool
    let requestIDs: RequestIDGenerator
    let clock: any FallbackClock
    let metrics: DaemonMetrics?
    var apps = AppRules(AppsConfig())
    var appBudgets: BudgetLedger?

    /// `complete` params to a routable request with a fresh request id, from `peer`: named, and
    /// refused when its app rule forbids the task or its daily budget is spent.
    func parse(_ params: JSON?, peer: RPCPeer? = nil) throws(RPCError) -> CompletionRequest {
        var request = try CompleteRequest.parse(params, pool: pool, requestID: requestIDs.next())
        request.app = peer?.app ?? apps.name(for: peer)
        if let refusal = apps.refusal(app: request.app, request: request) {
            metrics?.request(chain: "refused", outcome: "forbidden", app: request.app, latencyMs: 0, fallback: false, retries: 0)
            throw refusal
        }
        if let app = request.app, let refusal = appBudgets?.check(task: app, at: clock.now()) {
            metrics?.request(chain: "refused", outcome: "budget_exceeded", app: app, latencyMs: 0, fallback: false, retries: 0)
            throw ResultEncoding.budgetError(refusal, clock: clock, subject: "app")
        }
        return request
    }

    /// Routes `request`; a failure is the JSON-RPC error docs/protocol.md promises.
    func run(_ request: CompletionRequest, stream: (any StreamSink)?) async -> Result<CompletionResult, RPCError> {
        let outcome = await service.complete(request, stream: stream)
        if let metrics { Self.count(outcome, request: request, pool: pool, metrics: metrics) }
        switch outcome {
        case .success(let result):
            return .success(result)
        case .failure(.budget(let refusal)):
            return .failure(ResultEncoding.budgetError(refusal, clock: clock))
        case .failure(.route(let failure)):
            return .failure(ResultEncoding.error(failure, request: request, clock: clock))
        }
    }

    /// One request's line in the metrics: its chain (a bounded label, unlike the task a caller may
    /// invent), its outcome, and the retries and fallback it took.
    static func count(
        _ outcome: Result<CompletionResult, CompletionService.Failure>, request: CompletionRequest, pool: ModelPool,
        metrics: DaemonMetrics
    ) {
        switch outcome {
        case .success(let result):
            metrics.request(
                chain: result.chain, outcome: "served", app: request.app, latencyMs: result.latencyMs,
                fallback: result.fallbackCount > 0, retries: retries(result.attempts))
        case .failure(.budget):
            let chain = request.models != nil ? "explicit" : (pool.chains[request.task] != nil ? request.task : ModelPool.defaultChain)
            metrics.request(chain: chain, outcome: "budget_exceeded", app: request.app, latencyMs: 0, fallback: false, retries: 0)
        case .failure(.route(let failure)):
            metrics.request(
                chain: failure.chain, outcome: failure.kind.metricName, app: request.app, latencyMs: failure.latencyMs,
                fallback: false, retries: retries(failure.attempts))
        }
    }

    /// Attempts that repeated a model already tried for the request (hedges are not retries).
    static func retries(_ attempts: [AttemptSummary]) -> Int {
        var seen = Set<String>()
        var count = 0
        for attempt in attempts where !attempt.hedged {
            if !seen.insert(attempt.model).inserted { count += 1 }
        }
        return count
    }
}

extension RouteFailure.Kind {
    /// The `outcome` label of a failed request.
    var metricName: String {
        switch self {
        case .allModelsFailed: "all_models_failed"
        case .deadlineExceeded: "deadline_exceeded"
        case .cancelled: "cancelled"
        case .noCapableModel: "no_capable_model"
        case .contextTooLarge: "context_too_large"
        case .interrupted: "stream_interrupted"
        case .contentFiltered: "content_filtered"
        case .allBreakersOpen: "all_breakers_open"
        }
    }
}
