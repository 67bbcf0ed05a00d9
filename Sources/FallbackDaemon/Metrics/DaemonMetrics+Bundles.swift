import FallbackCore
import Metrics
import Synchronization

/// The handles one kind of attempt or request touches, found with one lookup: five separate lookups
/// (each building a label array and hashing it) cost about 16k instructions a request.
struct AttemptSeries: Hashable, Sendable {
    var model: String
    var provider: String
    var chain: String
    var app: String
    var success: Bool
    var errorType: ErrorType?
}

struct AttemptHandles: Sendable {
    let attempts: Counter
    let duration: Metrics.Timer
    let inputTokens: Recorder
    let outputTokens: Recorder
    let cost: FloatingPointCounter
}

struct RequestSeries: Hashable, Sendable {
    var chain: String
    var outcome: String
    var app: String
}

struct RequestHandles: Sendable {
    let requests: Counter
    let duration: Metrics.Timer
    let fallbacks: Counter
    let retries: Counter
}

/// Bundles by series; series are bounded like the labels they carry.
struct HandleBundles: Sendable {
    var attempts: [AttemptSeries: AttemptHandles] = [:]
    var requests: [RequestSeries: RequestHandles] = [:]
}

extension DaemonMetrics {
    func attemptHandles(_ series: AttemptSeries) -> AttemptHandles {
        if let found = bundles.withLock({ $0.attempts[series] }) { return found }
        let outcome = series.success ? "success" : "error"
        let errorType = series.errorType?.rawValue ?? "none"
        let tokens = { (type: String) in
            self.recorder("gen_ai_client_token_usage", [
                "gen_ai_operation_name": "chat", "gen_ai_provider_name": series.provider,
                "gen_ai_request_model": series.model, "gen_ai_token_type": type,
            ])
        }
        let made = AttemptHandles(
            attempts: counter("fallbackd_attempts_total", [
                "model": series.model, "provider": series.provider, "outcome": outcome, "error_type": errorType,
            ]),
            duration: timer("gen_ai_client_operation_duration_seconds", [
                "gen_ai_operation_name": "chat", "gen_ai_provider_name": series.provider,
                "gen_ai_request_model": series.model, "error_type": series.success ? "" : errorType,
            ]),
            inputTokens: tokens("input"), outputTokens: tokens("output"),
            cost: floatCounter("fallbackd_cost_usd_total", ["task": series.chain, "model": series.model, "app": series.app]))
        bundles.withLock { $0.attempts[series] = made }
        return made
    }

    func requestHandles(_ series: RequestSeries) -> RequestHandles {
        if let found = bundles.withLock({ $0.requests[series] }) { return found }
        let made = RequestHandles(
            requests: counter("fallbackd_requests_total", ["task": series.chain, "outcome": series.outcome, "app": series.app]),
            duration: timer("fallbackd_request_duration_seconds", ["task": series.chain]),
            fallbacks: counter("fallbackd_fallbacks_total", ["task": series.chain]),
            retries: counter("fallbackd_retries_total", ["task": series.chain]))
        bundles.withLock { $0.requests[series] = made }
        return made
    }
}
