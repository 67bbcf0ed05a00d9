import FallbackCore
import FallbackRPC
import FallbackStore
import Synchronization

/// The operator's live view of attempts: the newest ones in a ring (for `fallbackctl logs`) and
/// per-model counters since start (for `fallbackctl top`). Bounded memory whatever the traffic.
final class AttemptTap: OutcomeRecorder, Sendable {
    static let capacity = 2_048

    private struct Counters {
        var provider = ""
        var attempts = 0
        var successes = 0
        var costUSD = 0.0
        var shadowCalls = 0
    }

    private struct State {
        var ring: [RecentAttempt?] = Array(repeating: nil, count: AttemptTap.capacity)
        var next = 0
        var counters: [String: Counters] = [:]
    }

    private let state = Mutex(State())

    func record(_ attempt: AttemptRecord) {
        state.withLock { state in
            var counters = state.counters[attempt.model] ?? Counters()
            counters.provider = attempt.provider
            if attempt.shadow {
                counters.shadowCalls += 1
            } else {
                counters.attempts += 1
                if attempt.success { counters.successes += 1 }
                counters.costUSD += attempt.costUSD
            }
            state.counters[attempt.model] = counters
            state.next += 1
            state.ring[state.next % Self.capacity] = Self.entry(attempt, seq: state.next)
        }
    }

    /// Attempts after `after` (oldest first), at most `limit` of the newest.
    func recent(after: Int, limit: Int) -> (attempts: [RecentAttempt], last: Int) {
        state.withLock { state in
            let first = max(after + 1, state.next - Self.capacity + 1, state.next - limit + 1, 1)
            guard first <= state.next else { return ([], state.next) }
            return ((first...state.next).compactMap { state.ring[$0 % Self.capacity] }, state.next)
        }
    }

    func stats(pool: ModelPool) -> [ModelStats] {
        let counters = state.withLock { $0.counters }
        return pool.modelsByPriority.map { model in
            let seen = counters[model.name] ?? Counters()
            return ModelStats(
                model: model.name, provider: model.provider, attempts: seen.attempts, successes: seen.successes,
                costUSD: seen.costUSD, shadowCalls: seen.shadowCalls)
        }
    }

    static func entry(_ attempt: AttemptRecord, seq: Int) -> RecentAttempt {
        RecentAttempt(
            seq: seq, ts: ISOTimestamp.string(unixMillis: attempt.startedAtMillis), requestID: attempt.requestID,
            task: attempt.task, chain: attempt.chain, model: attempt.model, provider: attempt.provider,
            outcome: attempt.success ? "success" : "error", errorType: attempt.errorType?.rawValue,
            httpStatus: attempt.httpStatus, latencyMs: Int(attempt.latencyMs), costUSD: attempt.costUSD, app: attempt.app,
            kind: attempt.shadow ? attempt.chain : nil, hedged: attempt.hedged)
    }
}

/// Readiness, shared by `GET /readyz` and the `ready` method.
enum ReadinessCheck {
    static func evaluate(pool: ModelPool, breakers: BreakerBoard, callLog: CallLog, at now: Moment) -> Readiness {
        var models: [Readiness.ChainModel] = []
        var callable = false
        for name in pool.chains[ModelPool.defaultChain] ?? [] {
            let phase = breakers.status(name, at: now).phase
            if phase == .closed || phase == .halfOpen { callable = true }
            models.append(Readiness.ChainModel(model: name, breaker: phase.rawValue))
        }
        let storeOK = !callLog.stats.lastFlushFailed
        let ready = storeOK && callable
        let reason = ready ? nil : (!storeOK ? "the call log cannot be written" : "every model of the default chain has an open breaker")
        return Readiness(ready: ready, store: storeOK ? "ok" : "failing", defaultChain: models, reason: reason)
    }
}
