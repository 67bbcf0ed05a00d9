#if canImport(Glibc)
import Glibc
#endif
import FallbackCore
import FallbackFleet
import FallbackProviders
import FallbackRPC
import FallbackStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// fallbackd assembled: config, providers, router, call log, socket server, under one ServiceGroup
/// that starts the call log's flusher before the server and stops them in reverse.
public struct Daemon {
    public var config: DaemonConfig
    public var socketPath: String
    public var logger: Logger
    /// Time for everything the daemon decides (deadlines, breakers, simulated latency).
    public var clock: any FallbackClock
    /// The file `reload` and SIGHUP re-read; `nil` when the config did not come from a file.
    public var configPath: String?

    public init(
        config: DaemonConfig, socketPath: String, logger: Logger, clock: any FallbackClock = SystemClock(), configPath: String? = nil
    ) {
        self.configPath = configPath
        self.config = config
        self.socketPath = socketPath
        self.logger = logger
        self.clock = clock
    }

    /// Runs until SIGTERM/SIGINT, `shutdown.trigger()` or cancellation, then drains, flushes and returns.
    /// SIGHUP re-reads the config file (see ``Reloader``).
    public func run(shutdown: ShutdownHandle = ShutdownHandle(), onListening: @escaping @Sendable () -> Void = {}) async throws {
        // A client that vanishes must never kill the daemon through a write.
        signal(SIGPIPE, SIG_IGN)
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for warning in config.warnings { logger.warning("\(warning)") }

        let clock = self.clock
        let logger = self.logger
        let group = MultiThreadedEventLoopGroup.singleton
        let callLog = try CallLog(path: config.databasePath, logger: logger)
        let stateStore = try ResilienceStateStore(path: config.databasePath, logger: logger)
        let transport = HTTPTransport(group: group, logger: logger)
        let metrics = DaemonMetrics()
        let settings = config.resilience
        // With [fleet]: every local transition and parking also goes to the fleet's outbox (never waited on).
        let fleet = config.fleet.map { FleetLink(settings: $0) }
        let breakers = BreakerBoard(
            policies: settings.breakerOverrides, defaultPolicy: settings.breaker,
            onTransition: { transition in
                metrics.breakerTransition(transition)
                Self.log(transition, logger: logger, clock: clock)
                fleet?.observe(transition, at: clock.now())
            },
            onFailure: fleet.map { link in { @Sendable model, at in link.observeFailure(model, at: at) } })
        var onPark: (@Sendable (String, Moment) -> Void)?
        if let fleet {
            onPark = { model, until in fleet.observeParking(model, until: until, at: clock.now()) }
        }
        let parking = ParkingBoard(onPark: onPark)
        let shared = DaemonShared(
            config: config, socketPath: socketPath, clock: clock, logger: logger, callLog: callLog, transport: transport,
            metrics: metrics, breakers: breakers, parking: parking, fleet: fleet)
        restore(shared, from: stateStore)
        let builder = RuntimeBuilder(shared: shared)
        let first = builder.build(config, previous: nil)
        restoreSpend(shared: shared, sampler: first.sampler)
        let box = RuntimeBox(first)
        let reloader = Reloader(configPath: configPath, box: box, builder: builder)
        first.install(DaemonMethods(shared: shared, runtime: first, reloader: reloader).table())

        let server = SocketServer(
            path: socketPath, group: group, dispatcher: RPCDispatcher(gate: shared.gate, methods: { box.current.methods }),
            maxLineBytes: config.maxLineBytes, graceMs: config.shutdownGraceMs, registry: shared.connections,
            logger: logger, socketMode: mode_t(config.socketMode), onListening: onListening
        )
        let trimmer = IdleTrimmer()
        let flusher = CallLogFlusher(callLog: callLog, interval: .milliseconds(config.flushIntervalMs), logger: logger) {
            trimmer.tick(inFlight: shared.gate.inFlight)
            let state = ResilienceState(breakers: breakers.snapshots(), health: shared.health.snapshots())
            await stateStore.save(state, nowMillis: clock.now().unixMillis)
        }
        // A service that fails (a socket that cannot be bound) shuts the group down gracefully: the
        // cancelling path of ServiceGroup was seen to deadlock inside AsyncAlgorithms' merge at start-up.
        // Shut down in reverse: the HTTP facade and the socket server drain requests, then shadows
        // wind down, then the call log's final flush keeps everything they recorded.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: flusher, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(
                service: ShadowService(runner: first.shadows, graceMs: config.shutdownGraceMs, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: ReloadService(reloader: reloader, hangups: hangups), failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let fleet {
            // Started before the socket, stopped after it; its failures never stop the daemon.
            let service = FleetService(
                link: fleet, breakers: breakers, parking: parking, health: shared.health, clock: clock, logger: logger)
            services.append(.init(service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        services += [
            .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let httpSocket = shared.httpSocket {
            let facade = makeFacade(shared: shared, box: box, socket: httpSocket)
            services.append(.init(service: facade, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        shutdown.attach(serviceGroup)
        logger.info(
            "fallbackd starting",
            metadata: [
                "daemon.version": "\(DaemonCommandLine.version)", "daemon.models": "\(config.pool.models.count)",
                "daemon.chains": "\(config.pool.chains.count)", "store.path": "\(config.databasePath)",
            ]
        )
        do {
            try await serviceGroup.run()
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
            ResilienceState(breakers: breakers.snapshots(), health: shared.health.snapshots()), nowMillis: clock.now().unixMillis)
        await callLog.close()
        stateStore.close()
        withExtendedLifetime(hangups) {}
        logger.info("fallbackd stopped", metadata: ["store.written": "\(callLog.stats.writtenCount)"])
    }
}

extension Daemon {
    /// The HTTP facade over the same runtime, gate and breakers as the JSON-RPC socket.
    func makeFacade(shared: DaemonShared, box: RuntimeBox, socket: String) -> FacadeServer<FacadeResponder> {
        let clock = shared.clock
        let routes = FacadeRoutes(
            runtime: box,
            chat: ChatCompletionsEndpoint(runtime: box, gate: shared.gate, connections: shared.facadeConnections, clock: clock),
            breakers: shared.breakers, callLog: shared.callLog, metrics: shared.metrics, clock: clock,
            startedAt: Int(shared.startedAt.unixMillis / 1000),
            scrape: {
                let now = clock.now()
                // Every pool model has a series, called yet or not.
                var phases = Dictionary(uniqueKeysWithValues: box.current.config.pool.models.keys.map { ($0, BreakerPhase.closed) })
                for (model, status) in shared.breakers.statuses(at: now) { phases[model] = status.phase }
                return DaemonMetrics.Snapshot(
                    breakers: phases, inFlight: shared.gate.inFlight,
                    connections: shared.connections.count + shared.facadeConnections.count, callLog: shared.callLog.stats,
                    nowMillis: now.unixMillis, fleet: shared.fleet?.view.counters)
            })
        return FacadeServer(
            socketPath: socket, listen: config.facade.listen, socketMode: mode_t(config.socketMode),
            responder: routes.router().buildResponder(), connections: shared.facadeConnections, bound: shared.httpBound,
            graceMs: config.shutdownGraceMs, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }

    /// Breaker transitions are what an operator watches in an outage: logged at notice (a close at info).
    static func log(_ transition: BreakerTransition, logger: Logger, clock: any FallbackClock) {
        var metadata: Logger.Metadata = [
            "breaker.model": "\(transition.model)", "breaker.from": "\(transition.from.rawValue)",
            "breaker.to": "\(transition.to.rawValue)",
        ]
        if let reason = transition.reason { metadata["breaker.reason"] = "\(reason)" }
        if let until = transition.openUntil {
            metadata["breaker.open_for_ms"] = "\(max(0, until.nanos - clock.now().nanos) / 1_000_000)"
        }
        logger.log(level: transition.to == .closed ? .info : .notice, "breaker \(transition.to.rawValue): \(transition.model)", metadata: metadata)
    }

    /// Today's spend per task, per app and on shadows, from the call log: budgets survive a restart.
    func restoreSpend(shared: DaemonShared, sampler: ShadowSampler) {
        let now = clock.now()
        let midnight = now.unixMillis - now.unixMillis % 86_400_000
        do {
            let reporter = try CostReporter(path: config.databasePath)
            defer { reporter.close() }
            shared.budgets.restore(spentToday: try reporter.spendByTask(sinceMillis: midnight), at: now)
            shared.appBudgets.restore(spentToday: try reporter.spendByApp(sinceMillis: midnight), at: now)
            sampler.restore(spentToday: try reporter.shadowSpend(sinceMillis: midnight), at: now)
        } catch {
            logger.error("could not restore today's spend; budgets start from zero", metadata: ["store.error": "\(error)"])
        }
    }

    /// Puts saved breakers and health buckets back: an open breaker stays open across a restart.
    func restore(_ shared: DaemonShared, from store: ResilienceStateStore) {
        do {
            let state = try store.load()
            let now = clock.now()
            shared.breakers.restore(state.breakers, now: now)
            shared.health.restore(state.health, at: now)
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
