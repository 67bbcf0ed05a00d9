import FallbackCore
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The fleet's background side: connects to PostgreSQL, creates the tables, resyncs, then at once
/// publishes this sidecar's events, listens to the peers', takes probe leases and shares health.
///
/// Nothing here is on a request's path: when the database is down, slow or unreachable the sidecar
/// runs local-only (leases off, so it probes on its own), logs one warning per outage, counts it, and
/// reconnects with a doubling backoff; the next session resyncs the state rows.
public struct FleetService: Service {
    let link: FleetLink
    let breakers: BreakerBoard
    let parking: ParkingBoard
    let health: HealthBoard
    let clock: any FallbackClock
    let logger: Logger

    /// The first wait before reconnecting; doubles up to `reconnectMaxMs`.
    static let firstBackoffMs: Int64 = 100
    /// How often probe leases are sought and renewed.
    static let leaseTickMs: Int64 = 100

    public init(
        link: FleetLink, breakers: BreakerBoard, parking: ParkingBoard, health: HealthBoard, clock: any FallbackClock, logger: Logger
    ) {
        self.link = link
        self.breakers = breakers
        self.parking = parking
        self.health = health
        self.clock = clock
        self.logger = logger
    }

    var settings: FleetSettings { link.settings }

    public func run() async throws {
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try FleetURL.configuration(settings.url, connectTimeoutMs: settings.queryTimeoutMs)
        } catch {
            // A URL we cannot use is a config problem: say so once and stay local-only.
            logger.error("fleet disabled: \(error)", metadata: ["fleet.name": "\(settings.fleetName)"])
            link.view.count { $0.lastError = error.description }
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await self.loop(configuration)
        }
        link.leases.setActive(false)
    }

    /// Connect, run a session until it fails, wait, again; until cancelled.
    func loop(_ configuration: PostgresConnection.Configuration) async {
        var backoffMs = Self.firstBackoffMs
        var warned = false
        var connectionID = 0
        while !Task.isCancelled {
            connectionID += 1
            var connected = false
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: connectionID, logger: quietLogger)
                connected = true
                backoffMs = Self.firstBackoffMs
                logger.log(
                    level: warned ? .warning : .info, warned ? "fleet database reachable again: resyncing" : "fleet database connected",
                    metadata: ["fleet.name": "\(settings.fleetName)", "fleet.host": "\(settings.hostName)"])
                warned = false
                defer { link.leases.setActive(false) }
                do {
                    try await session(connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                let detail = FleetURL.describe(error)
                link.view.count { counters in
                    counters.connected = false
                    counters.errors += 1
                    counters.lastError = detail
                }
                if !warned {
                    logger.warning(
                        "fleet database unreachable: running local-only, reconnecting with backoff",
                        metadata: ["fleet.name": "\(settings.fleetName)", "fleet.error": "\(detail)"])
                    warned = true
                }
            }
            if connected { link.view.count { $0.reconnects += 1 } }
            link.view.count { $0.connected = false }
            do {
                try await Task.sleep(for: .milliseconds(backoffMs))
            } catch {
                break
            }
            backoffMs = min(settings.reconnectMaxMs, backoffMs * 2)
        }
        link.view.count { $0.connected = false }
    }

    /// postgres-nio logs every query at debug/trace; the fleet logs its own outcomes instead.
    var quietLogger: Logger {
        var quiet = logger
        quiet.logLevel = .critical
        return quiet
    }
}
