import FallbackCore
import Logging
import PostgresNIO

extension FleetService {
    /// One connected session: tables, then listening, resync, publishing and the periodic work side by
    /// side until one fails (the connection dropped or a statement timed out) or the task is cancelled.
    func session(_ connection: PostgresConnection) async throws {
        let db = FleetDatabase(connection: connection, settings: settings, logger: quietLogger)
        try await db.timed("create tables") { try await FleetSchema.create(on: connection, logger: quietLogger) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.listen(connection, db: db) }
            group.addTask { try await self.publish(db) }
            group.addTask { try await self.tick(db) }
            defer { group.cancelAll() }
            _ = try await group.next()
            // A part that returned (only at cancellation) ends the session too.
        }
    }

    /// Resyncs once `LISTEN` is in force (so nothing a peer sends meanwhile is missed: it waits in the
    /// sequence), then applies every peer's event as it arrives.
    func listen(_ connection: PostgresConnection, db: FleetDatabase) async throws {
        try await connection.listen(on: settings.channel) { notifications in
            try await resync(db)
            link.view.count { $0.connected = true }
            link.leases.setActive(true)
            for try await notification in notifications {
                guard let event = FleetEvent(payload: notification.payload) else { continue }
                apply(event)
            }
        }
        // The sequence ended: the connection is gone.
        throw FleetError.database("notification stream ended")
    }

    /// A peer's event, applied to this sidecar's breakers or parkings (its own echoes are ignored).
    func apply(_ event: FleetEvent) {
        guard event.host != settings.hostName else { return }
        let now = clock.now()
        let changed = event.kind == .parked ? parking.applyPeer(event, at: now) : breakers.applyPeer(event, at: now)
        link.view.count { counters in
            counters.eventsReceived += 1
            if changed { counters.eventsApplied += 1 }
        }
        if changed {
            logger.log(
                level: event.kind == .failure ? .debug : .info,
                "fleet: applied \(event.kind.rawValue) of \(event.model) from \(event.host)",
                metadata: ["fleet.peer": "\(event.host)", "breaker.model": "\(event.model)", "fleet.event": "\(event.kind.rawValue)"])
        }
    }

    /// Drains the outbox into the database: each breaker change upserts the row and notifies.
    func publish(_ db: FleetDatabase) async throws {
        while !Task.isCancelled {
            let batch = await link.outbox.take()
            for item in batch {
                switch item {
                case .breaker(let row, let event):
                    try await db.upsertBreaker(row)
                    if let event { try await db.notify(event) }
                case .parked(let event):
                    try await db.upsertParking(event)
                    try await db.notify(event)
                case .notify(let event):
                    try await db.notify(event)
                }
                link.view.count { $0.eventsPublished += 1 }
            }
        }
    }

    /// Leases every `leaseTickMs`; the heartbeat and the fleet's rows every `heartbeatMs`; health every
    /// `healthIntervalMs`.
    func tick(_ db: FleetDatabase) async throws {
        var lastHeartbeat: ContinuousClock.Instant?
        var lastHealth: ContinuousClock.Instant?
        let startedMs = clock.now().unixMillis
        var refused: [String: ContinuousClock.Instant] = [:]
        while !Task.isCancelled {
            let instant = ContinuousClock.now
            try await renewLeases(db, refused: &refused)
            if lastHeartbeat.map({ instant - $0 >= .milliseconds(settings.heartbeatMs) }) ?? true {
                lastHeartbeat = instant
                try await db.heartbeat(startedMs: startedMs, nowMs: clock.now().unixMillis)
                let (members, rows) = try await db.fleetRows()
                link.view.refresh(members: members, breakers: rows)
            }
            if lastHealth.map({ instant - $0 >= .milliseconds(settings.healthIntervalMs) }) ?? true {
                lastHealth = instant
                try await shareHealth(db)
            }
            try await Task.sleep(for: .milliseconds(Self.leaseTickMs))
        }
    }

    /// Seeks or renews the lease of every model out here; gives up those no longer out. A sidecar
    /// refused a lease asks again only after a third of `lease_ms` (`refused` says when it was), so a
    /// large fleet does not hammer the row while one holder keeps it.
    func renewLeases(_ db: FleetDatabase, refused: inout [String: ContinuousClock.Instant]) async throws {
        let now = clock.now()
        let wanted = Set(ProbeLeases.wanted(breakers.statuses(at: now)))
        let held = Set(link.leases.held(at: now))
        for model in held.subtracting(wanted) {
            link.leases.lost(model)
            try await db.releaseLease(model)
        }
        refused = refused.filter { wanted.contains($0.key) }
        for model in wanted {
            if let last = refused[model], ContinuousClock.now - last < .milliseconds(settings.leaseMs / 3) { continue }
            let asked = clock.now()
            // A lease with more than half its time left is renewed later.
            if let until = link.leases.heldUntil(model), until.millis(since: asked) > settings.leaseMs / 2 { continue }
            if try await db.takeLease(model) {
                // Counted from before the statement, with a margin: the shared expiry is the database's.
                link.leases.granted(model, until: asked.adding(millis: max(0, settings.leaseMs - 500)))
                refused[model] = nil
            } else {
                link.leases.lost(model)
                refused[model] = ContinuousClock.now
            }
        }
    }

    /// Writes this sidecar's health buckets and reads every peer's.
    func shareHealth(_ db: FleetDatabase) async throws {
        let now = clock.now()
        if settings.publish.contains(.health) {
            for (model, buckets) in health.snapshots() {
                try await db.upsertHealth(model: model, buckets: HealthBucket.compact(buckets), nowMs: now.unixMillis)
            }
        }
        let spanMs = Int64(health.policy.spanMinutes) * 60_000
        link.view.refresh(peerHealth: try await db.peerHealth(sinceMs: now.unixMillis - spanMs))
    }
}
