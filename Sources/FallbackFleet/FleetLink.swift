import FallbackCore

/// What the request path hands the fleet: events put in a bounded outbox, never waited on. The
/// ``FleetService`` drains it into PostgreSQL when it can; while it cannot, the oldest events are
/// dropped (and counted), and a resync on reconnect puts the rows right again.
public final class FleetLink: Sendable {
    /// One write for the publisher.
    enum Item: Sendable {
        /// Upsert this sidecar's row for the breaker; `notify` when it is an event the peers should apply.
        case breaker(FleetBreakerRow, notify: FleetEvent?)
        /// A Retry-After parking: upsert the model's parking row and notify.
        case parked(FleetEvent)
        /// Notify only (a counted failure: no row changes).
        case notify(FleetEvent)
    }

    public let settings: FleetSettings
    /// What this sidecar knows of the fleet (for the `fleet`, `health` and `route` methods).
    public let view: FleetView
    /// Who may probe what (read by the router, written by the service).
    public let leases: ProbeLeases
    let outbox: FleetOutbox<Item>

    public init(settings: FleetSettings) {
        self.settings = settings
        view = FleetView(fleet: settings.fleetName, host: settings.hostName)
        leases = ProbeLeases()
        outbox = FleetOutbox(capacity: settings.outboxSize)
    }

    /// A breaker of this sidecar changed phase (from `BreakerBoard`'s observer). Never blocks.
    public func observe(_ transition: BreakerTransition, at now: Moment) {
        guard settings.publish.contains(.breaker) else { return }
        let row = FleetBreakerRow(
            host: settings.hostName, model: transition.model, phase: transition.to.rawValue,
            untilUnixMillis: transition.openUntil?.unixMillis, openedBy: transition.peerHost, reason: transition.reason,
            misconfigured: transition.misconfigured, updatedUnixMillis: now.unixMillis)
        enqueue(.breaker(row, notify: FleetEvent(transition, host: settings.hostName, at: now)))
    }

    /// A failure of `model` was counted here while its breaker stayed closed (from `BreakerBoard`'s
    /// failure observer). Never blocks.
    public func observeFailure(_ model: String, at now: Moment) {
        guard settings.publish.contains(.breaker) else { return }
        enqueue(.notify(FleetEvent(kind: .failure, host: settings.hostName, model: model, atUnixMillis: now.unixMillis)))
    }

    /// A model was parked by a Retry-After here (from `ParkingBoard`'s observer). Never blocks.
    public func observeParking(_ model: String, until: Moment, at now: Moment) {
        guard settings.publish.contains(.retryAfter) else { return }
        enqueue(.parked(FleetEvent(
            kind: .parked, host: settings.hostName, model: model, atUnixMillis: now.unixMillis, untilUnixMillis: until.unixMillis)))
    }

    private func enqueue(_ item: Item) {
        if outbox.push(item) { view.count { $0.eventsDropped += 1 } }
    }
}
