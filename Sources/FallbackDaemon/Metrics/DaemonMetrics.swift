import FallbackCore
import FallbackStore
import Metrics
import Prometheus
import Synchronization

/// fallbackd's metrics: recorded through swift-metrics into a private Prometheus registry, served
/// as text by `GET /metrics`. Label values are bounded: tasks are chain names, models and providers
/// come from the config, apps are capped (see ``AppLabels``); request ids never become labels.
final class DaemonMetrics: OutcomeRecorder, Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let handlesLock = Mutex<[MetricKey: MetricHandle]>([:])
    private let scrape = Mutex(ScrapeState())
    let apps = AppLabels()

    private struct ScrapeState {
        var failedFlushes = 0
        var droppedRows = 0
    }

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        let seconds: [Duration] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(120),
        ]
        factory.defaultDurationHistogramBuckets = seconds
        factory.defaultValueHistogramBuckets = [1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576]
        self.factory = factory
    }

    // MARK: Attempts (every model call, as it ends)

    func record(_ attempt: AttemptRecord) {
        let outcome = attempt.success ? "success" : "error"
        let errorType = attempt.errorType?.rawValue ?? "none"
        let app = apps.label(attempt.app)
        if attempt.shadow {
            counter("fallbackd_shadow_calls_total", ["model": attempt.model, "kind": attempt.chain, "outcome": outcome]).increment()
            floatCounter("fallbackd_shadow_cost_usd_total", ["model": attempt.model]).increment(by: attempt.costUSD)
            return
        }
        counter("fallbackd_attempts_total", [
            "model": attempt.model, "provider": attempt.provider, "outcome": outcome, "error_type": errorType,
        ]).increment()
        timer("gen_ai_client_operation_duration_seconds", [
            "gen_ai_operation_name": "chat", "gen_ai_provider_name": attempt.provider,
            "gen_ai_request_model": attempt.model, "error_type": attempt.success ? "" : errorType,
        ]).recordMilliseconds(attempt.latencyMs)
        if let firstToken = attempt.firstTokenMs {
            timer("fallbackd_time_to_first_token_seconds", ["model": attempt.model]).recordMilliseconds(firstToken)
        }
        if attempt.usage.inputTokens > 0 || attempt.usage.outputTokens > 0 {
            for (type, tokens) in [("input", attempt.usage.inputTokens), ("output", attempt.usage.outputTokens)] {
                recorder("gen_ai_client_token_usage", [
                    "gen_ai_operation_name": "chat", "gen_ai_provider_name": attempt.provider,
                    "gen_ai_request_model": attempt.model, "gen_ai_token_type": type,
                ]).record(tokens)
            }
        }
        if attempt.costUSD > 0 {
            floatCounter("fallbackd_cost_usd_total", ["task": attempt.chain, "model": attempt.model, "app": app])
                .increment(by: attempt.costUSD)
        }
    }

    // MARK: Requests (one per caller request, as it is answered)

    /// A request answered: `outcome` is `served` or the failure's kind.
    func request(chain: String, outcome: String, app: String?, latencyMs: Int64, fallback: Bool, retries: Int) {
        let app = apps.label(app)
        counter("fallbackd_requests_total", ["task": chain, "outcome": outcome, "app": app]).increment()
        timer("fallbackd_request_duration_seconds", ["task": chain]).recordMilliseconds(latencyMs)
        if fallback { counter("fallbackd_fallbacks_total", ["task": chain]).increment() }
        if retries > 0 { counter("fallbackd_retries_total", ["task": chain]).increment(by: retries) }
    }

    /// A breaker changed phase.
    func breakerTransition(_ transition: BreakerTransition) {
        counter("fallbackd_breaker_transitions_total", ["model": transition.model, "to": transition.to.rawValue]).increment()
    }

    /// A reload was tried.
    func reload(success: Bool) {
        counter("fallbackd_config_reloads_total", ["outcome": success ? "success" : "error"]).increment()
    }

    // MARK: Scrape

    /// State read at scrape time: breakers, requests in flight, the call log.
    struct Snapshot {
        var breakers: [String: BreakerPhase]
        var inFlight: Int
        var connections: Int
        var callLog: CallLogStats
        var nowMillis: Int64
        /// With `[fleet]`: the link's counters.
        var fleet: FleetCounters? = nil
    }

    /// The Prometheus text exposition, after updating the gauges from `snapshot`.
    func exposition(_ snapshot: Snapshot) -> String {
        let states: [BreakerPhase] = [.closed, .open, .halfOpen, .isolated]
        for (model, phase) in snapshot.breakers {
            for state in states {
                gauge("fallbackd_breaker_state", ["model": model, "state": state.rawValue]).record(state == phase ? 1 : 0)
            }
        }
        gauge("fallbackd_in_flight_requests", [:]).record(snapshot.inFlight)
        gauge("fallbackd_open_connections", [:]).record(snapshot.connections)
        let log = snapshot.callLog
        gauge("fallbackd_call_log_pending_rows", [:]).record(log.pendingCount)
        let lagMs = log.oldestPendingEndedAtMillis.map { max(0, snapshot.nowMillis - $0) } ?? 0
        gauge("fallbackd_call_log_flush_lag_seconds", [:]).record(Double(lagMs) / 1000)
        let (newFailures, newDrops) = scrape.withLock { state -> (Int, Int) in
            defer {
                state.failedFlushes = max(state.failedFlushes, log.failedFlushes)
                state.droppedRows = max(state.droppedRows, log.droppedRows)
            }
            return (max(0, log.failedFlushes - state.failedFlushes), max(0, log.droppedRows - state.droppedRows))
        }
        counter("fallbackd_call_log_flush_failures_total", [:]).increment(by: newFailures)
        counter("fallbackd_call_log_dropped_rows_total", [:]).increment(by: newDrops)
        if let fleet = snapshot.fleet {
            // Gauges of running totals: the link counts, the scrape reads.
            gauge("fallbackd_fleet_connected", [:]).record(fleet.connected ? 1 : 0)
            gauge("fallbackd_fleet_errors", [:]).record(fleet.errors)
            gauge("fallbackd_fleet_reconnects", [:]).record(fleet.reconnects)
            gauge("fallbackd_fleet_events_published", [:]).record(fleet.eventsPublished)
            gauge("fallbackd_fleet_events_received", [:]).record(fleet.eventsReceived)
            gauge("fallbackd_fleet_events_applied", [:]).record(fleet.eventsApplied)
            gauge("fallbackd_fleet_events_dropped", [:]).record(fleet.eventsDropped)
        }
        return registry.emitToString()
    }
}
