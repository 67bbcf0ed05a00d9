#if canImport(Glibc)
import Glibc
#endif
import FallbackCore
import FallbackProviders
import FallbackRPC
import FallbackStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// fallbackd assembled: config, providers, router, call log, socket server, under one ServiceGroup
/// that starts the call log's flusher before the server and stops them in reverse.
public struct Daemon {
    public var config: DaemonConfig
    public var socketPath: String
    public var logger: Logger
    /// Time for everything the daemon decides (deadlines, breakers, simulated latency).
    public var clock: any FallbackClock

    public init(config: DaemonConfig, socketPath: String, logger: Logger, clock: any FallbackClock = SystemClock()) {
        self.config = config
        self.socketPath = socketPath
        self.logger = logger
        self.clock = clock
    }

    /// Runs until SIGTERM/SIGINT, `shutdown.trigger()` or cancellation, then drains, flushes and returns.
    public func run(shutdown: ShutdownHandle = ShutdownHandle(), onListening: @escaping @Sendable () -> Void = {}) async throws {
        // A client that vanishes must never kill the daemon through a write.
        signal(SIGPIPE, SIG_IGN)
        for warning in config.warnings { logger.warning("\(warning)") }

        let clock = self.clock
        let group = MultiThreadedEventLoopGroup.singleton
        let callLog = try CallLog(path: config.databasePath, logger: logger)
        let transport = HTTPTransport(group: group, logger: logger)
        let registry = ProviderRegistry.make(settings: config.providers, transport: transport, clock: clock)
        let settings = config.resilience
        let resilience = Resilience(
            breakers: BreakerBoard(policies: settings.breakerOverrides, defaultPolicy: settings.breaker),
            health: HealthBoard(policy: settings.health),
            budget: RetryBudget(maxTokens: settings.budgetTokens, tokenRatio: settings.budgetRatio),
            retry: settings.retry, whenAllOpen: settings.whenAllOpen,
            recovery: RecoveryProbes(policy: settings.recovery)
        )
        let stateStore = try ResilienceStateStore(path: config.databasePath, logger: logger)
        restore(resilience, from: stateStore, clock: clock)
        let budgets = BudgetLedger(budgets: config.cost.budgets)
        let sampler = ShadowSampler(policy: config.cost.shadow, models: Array(config.pool.models.values))
        restoreSpend(budgets: budgets, sampler: sampler, clock: clock)
        let recorder = FanOutRecorder([callLog, budgets])
        let router = Router(
            pool: config.pool, invoker: registry, recorder: recorder, resilience: resilience, clock: clock,
            policy: settings.routing, hedgeBudget: HedgeBudget(ratio: settings.hedgeBudgetRatio))
        let shadows = ShadowRunner(
            sampler: sampler, invoker: registry, recorder: recorder, resilience: resilience, clock: clock,
            sink: { callLog.recordShadow($0) }
        )
        let gate = InFlightGate(maxInFlight: config.maxInFlight)
        let connections = ConnectionRegistry()
        let methods = DaemonMethods(
            service: CompletionService(router: router, budgets: budgets, shadows: shadows, clock: clock),
            resilience: resilience, config: config, socketPath: socketPath, gate: gate, registry: connections,
            callLog: callLog, clock: clock, startedAt: clock.now()
        )
        let logger = self.logger
        let server = SocketServer(
            path: socketPath, group: group, dispatcher: RPCDispatcher(methods: methods.table(), gate: gate),
            maxLineBytes: config.maxLineBytes, graceMs: config.shutdownGraceMs, registry: connections,
            logger: logger, onListening: onListening
        )
        let flusher = CallLogFlusher(callLog: callLog, interval: .milliseconds(config.flushIntervalMs), logger: logger) {
            let state = ResilienceState(breakers: resilience.breakers.snapshots(), health: resilience.health.snapshots())
            await stateStore.save(state, nowMillis: clock.now().unixMillis)
        }
        let services = ServiceGroup(
            configuration: .init(
                // Shut down in reverse: the server drains requests, then shadows wind down, then the
                // call log's final flush keeps everything they recorded.
                services: [
                    .init(service: flusher, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: ShadowService(runner: shadows, graceMs: config.shutdownGraceMs, logger: logger),
                        successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        shutdown.attach(services)
        logger.info(
            "fallbackd starting",
            metadata: [
                "daemon.models": "\(config.pool.models.count)", "daemon.chains": "\(config.pool.chains.count)",
                "store.path": "\(config.databasePath)",
            ]
        )
        do {
            try await services.run()
        } catch {
            await transport.shutdown()
            await callLog.close()
            stateStore.close()
            throw error
        }
        await transport.shutdown()
        // Normally the flusher's final flush kept everything; after a cancellation (not a graceful
        // shutdown) attempts recorded while the services stopped together are written here.
        _ = await callLog.flush()
        await stateStore.save(
            ResilienceState(breakers: resilience.breakers.snapshots(), health: resilience.health.snapshots()),
            nowMillis: clock.now().unixMillis
        )
        await callLog.close()
        stateStore.close()
        logger.info("fallbackd stopped", metadata: ["store.written": "\(callLog.stats.writtenCount)"])
    }
}

extension Daemon {
    /// Today's spend per task and on shadows, from the call log: budgets survive a restart.
    func restoreSpend(budgets: BudgetLedger, sampler: ShadowSampler, clock: any FallbackClock) {
        let now = clock.now()
        let midnight = now.unixMillis - now.unixMillis % 86_400_000
        do {
            let reporter = try CostReporter(path: config.databasePath)
            defer { reporter.close() }
            budgets.restore(spentToday: try reporter.spendByTask(sinceMillis: midnight), at: now)
            sampler.restore(spentToday: try reporter.shadowSpend(sinceMillis: midnight), at: now)
        } catch {
            logger.error("could not restore today's spend; budgets start from zero", metadata: ["store.error": "\(error)"])
        }
    }

    /// Puts saved breakers and health buckets back: an open breaker stays open across a restart.
    func restore(_ resilience: Resilience, from store: ResilienceStateStore, clock: any FallbackClock) {
        do {
            let state = try store.load()
            let now = clock.now()
            resilience.breakers.restore(state.breakers, now: now)
            resilience.health.restore(state.health, at: now)
            let open = state.breakers.filter { $0.value.phase == .open || $0.value.phase == .isolated }.map(\.key).sorted()
            logger.info(
                "restored breaker and health state",
                metadata: ["store.breakers": "\(state.breakers.count)", "breaker.open": "\(open.joined(separator: ","))"]
            )
        } catch {
            logger.error("could not load breaker and health state; starting fresh", metadata: ["store.error": "\(error)"])
        }
    }
}

/// Lets an embedder (tests, a host process) stop a running daemon gracefully, as SIGTERM would.
public final class ShutdownHandle: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)
    private let requested = Mutex(false)

    public init() {}

    func attach(_ services: ServiceGroup) {
        let early = requested.withLock { $0 }
        group.withLock { $0 = services }
        if early { Task { await services.triggerGracefulShutdown() } }
    }

    /// Starts a graceful shutdown: stop accepting, drain, flush.
    public func trigger() async {
        requested.withLock { $0 = true }
        if let services = group.withLock({ $0 }) { await services.triggerGracefulShutdown() }
    }
}
