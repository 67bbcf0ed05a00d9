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
    let bundles = Mutex(HandleBundles())
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
        let app = apps.label(attempt.app)
        if attempt.shadow {
            let outcome = attempt.success ? "success" : "error"
            counter("fallbackd_shadow_calls_total", ["model": attempt.model, "kind": attempt.chain, "outcome": outcome]).increment()
            floatCounter("fallbackd_shadow_cost_usd_total", ["model": attempt.model]).increment(by: attempt.costUSD)
            return
        }
        let handles = attemptHandles(AttemptSeries(
            model: attempt.model, provider: attempt.provider, chain: attempt.chain, app: app, success: attempt.success,
            errorType: attempt.errorType))
        handles.attempts.increment()
        handles.duration.recordMilliseconds(attempt.latencyMs)
        if let firstToken = attempt.firstTokenMs {
            timer("fallbackd_time_to_first_token_seconds", ["model": attempt.model]).recordMilliseconds(firstToken)
        }
        if attempt.usage.inputTokens > 0 || attempt.usage.outputTokens > 0 {
            handles.inputTokens.record(attempt.usage.inputTokens)
            handles.outputTokens.record(attempt.usage.outputTokens)
        }
        if attempt.costUSD > 0 { handles.cost.increment(by: attempt.costUSD) }
    }

    // MARK: Requests (one per caller request, as it is answered)

    /// A request answered: `outcome` is `served` or the failure's kind.
    func request(chain: String, outcome: String, app: String?, latencyMs: Int64, fallback: Bool, retries: Int) {
        let handles = requestHandles(RequestSeries(chain: chain, outcome: outcome, app: apps.label(app)))
        handles.requests.increment()
        handles.duration.recordMilliseconds(latencyMs)
        if fallback { handles.fallbacks.increment() }
        if retries > 0 { handles.retries.increment(by: retries) }
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
