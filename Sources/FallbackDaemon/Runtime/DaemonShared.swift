import FallbackCore
import FallbackFleet
import FallbackProviders
import FallbackRPC
import FallbackStore
import Logging

/// What outlives a reload: the call log, the connections and the in-flight gate, every model's
/// breaker and health, the spend ledgers, the HTTP client pool, the metrics.
final class DaemonShared: Sendable {
    let clock: any FallbackClock
    let logger: Logger
    let callLog: CallLog
    let transport: HTTPTransport
    let metrics: DaemonMetrics
    let gate: InFlightGate
    let connections: ConnectionRegistry
    let facadeConnections: FacadeConnections
    let requestIDs: RequestIDGenerator
    let breakers: BreakerBoard
    let health: HealthBoard
    let parking: ParkingBoard
    /// The fleet link when `[fleet]` is configured: its view, probe leases and outbox.
    let fleet: FleetLink?
    /// Per-task daily budgets (`[cost.budgets]`).
    let budgets: BudgetLedger
    /// Per-app daily budgets (`[apps.NAME] daily_budget_usd`).
    let appBudgets: BudgetLedger
    /// The newest attempts and per-model counters, for `fallbackctl logs` and `top`.
    let tap = AttemptTap()
    /// Every attempt goes here: the call log, both ledgers, the metrics, the tap.
    let recorder: FanOutRecorder
    let socketPath: String
    /// The HTTP facade's socket and TCP address, when it runs.
    let httpSocket: String?
    let httpBound = BoundAddress()
    let databasePath: String
    let startedAt: Moment

    init(
        config: DaemonConfig, socketPath: String, clock: any FallbackClock, logger: Logger, callLog: CallLog,
        transport: HTTPTransport, metrics: DaemonMetrics, breakers: BreakerBoard, parking: ParkingBoard = ParkingBoard(),
        fleet: FleetLink? = nil
    ) {
        self.parking = parking
        self.fleet = fleet
        self.clock = clock
        self.logger = logger
        self.callLog = callLog
        self.transport = transport
        self.metrics = metrics
        self.breakers = breakers
        gate = InFlightGate(maxInFlight: config.maxInFlight)
        connections = ConnectionRegistry()
        facadeConnections = FacadeConnections()
        requestIDs = RequestIDGenerator()
        health = HealthBoard(policy: config.resilience.health)
        budgets = BudgetLedger(budgets: config.cost.budgets)
        appBudgets = BudgetLedger(budgets: config.apps.budgets, key: .app)
        recorder = FanOutRecorder([callLog, budgets, appBudgets, metrics, tap])
        self.socketPath = socketPath
        httpSocket = config.facade.enabled ? config.facade.resolvedSocketPath(rpcSocket: socketPath) : nil
        databasePath = config.databasePath
        startedAt = clock.now()
    }
}
