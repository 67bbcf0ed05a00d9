import Synchronization

/// One sidecar of the fleet as the shared state rows show it.
public struct FleetMember: Sendable, Hashable {
    /// Its `[fleet] host_name`.
    public var host: String
    /// Its last heartbeat, wall-clock.
    public var lastSeenUnixMillis: Int64
    /// When it (last) started.
    public var startedUnixMillis: Int64

    public init(host: String, lastSeenUnixMillis: Int64, startedUnixMillis: Int64) {
        self.host = host
        self.lastSeenUnixMillis = lastSeenUnixMillis
        self.startedUnixMillis = startedUnixMillis
    }
}

/// One model's breaker on one sidecar, as its state row says.
public struct FleetBreakerRow: Sendable, Hashable {
    public var host: String
    public var model: String
    /// `closed`, `open`, `half_open`, `isolated` (as `BreakerPhase`'s raw values).
    public var phase: String
    public var untilUnixMillis: Int64?
    /// The peer whose trip opened it there; `nil` when that sidecar opened it itself.
    public var openedBy: String?
    public var reason: String?
    public var misconfigured: Bool
    public var updatedUnixMillis: Int64

    public init(
        host: String, model: String, phase: String, untilUnixMillis: Int64? = nil, openedBy: String? = nil, reason: String? = nil,
        misconfigured: Bool = false, updatedUnixMillis: Int64
    ) {
        self.host = host
        self.model = model
        self.phase = phase
        self.untilUnixMillis = untilUnixMillis
        self.openedBy = openedBy
        self.reason = reason
        self.misconfigured = misconfigured
        self.updatedUnixMillis = updatedUnixMillis
    }
}

/// Counters of the fleet link, for logs, metrics and the `fleet` method.
public struct FleetCounters: Sendable, Hashable {
    /// Whether the database is reachable now.
    public var connected = false
    /// Outbox items written to the database (row upserts and notifications).
    public var eventsPublished = 0
    /// Events dropped because the outbox was full (the database slow or away).
    public var eventsDropped = 0
    /// Peers' notifications heard.
    public var eventsReceived = 0
    /// Peer events that changed a breaker or a parking here.
    public var eventsApplied = 0
    /// Sessions that ended after connecting (each is followed by a reconnect attempt).
    public var reconnects = 0
    /// Failed sessions and connection attempts.
    public var errors = 0
    /// The last failure, already free of secrets (no URL, no password).
    public var lastError: String?

    public init() {}
}

/// What this sidecar knows of its fleet, refreshed by the fleet's background service and read by
/// the `fleet`, `health` and `route` methods without touching the database.
public final class FleetView: Sendable {
    private struct State: Sendable {
        var members: [FleetMember] = []
        var breakers: [FleetBreakerRow] = []
        /// Peers' health buckets: host -> model -> buckets.
        var peerHealth: [String: [String: [HealthBucket]]] = [:]
        var counters = FleetCounters()
    }

    /// This sidecar's host name in the fleet.
    public let host: String
    /// The fleet's name.
    public let fleet: String
    private let state = Mutex(State())

    public init(fleet: String, host: String) {
        self.fleet = fleet
        self.host = host
    }

    /// Replaces the members and breaker rows with what the database holds now.
    public func refresh(members: [FleetMember], breakers: [FleetBreakerRow]) {
        state.withLock { state in
            state.members = members.sorted { $0.host < $1.host }
            state.breakers = breakers.sorted { ($0.host, $0.model) < ($1.host, $1.model) }
        }
    }

    /// Replaces the peers' health buckets (this sidecar's own host is ignored).
    public func refresh(peerHealth: [String: [String: [HealthBucket]]]) {
        let peers = peerHealth.filter { $0.key != host }
        state.withLock { $0.peerHealth = peers }
    }

    /// Every sidecar of the fleet, as last read.
    public var members: [FleetMember] { state.withLock { $0.members } }
    /// Every breaker row of the fleet, as last read.
    public var breakers: [FleetBreakerRow] { state.withLock { $0.breakers } }
    /// The link's counters now.
    public var counters: FleetCounters { state.withLock { $0.counters } }

    /// Updates the counters in place.
    public func count(_ body: (inout FleetCounters) -> Void) {
        state.withLock { body(&$0.counters) }
    }

    /// `model`'s health over the fleet: this sidecar's buckets merged with every peer's, judged by
    /// `local`'s policy; and how many sidecars contributed calls.
    public func fleetHealth(_ model: String, local: HealthBoard, windowMinutes: Int, at now: Moment) -> (stats: HealthStats, hosts: Int) {
        let peers = state.withLock { state in state.peerHealth.values.compactMap { $0[model] } }
        let own = local.snapshots()[model] ?? []
        return Self.merge(local: own, peers: peers, policy: local.policy, windowMinutes: windowMinutes, at: now)
    }

    /// Merges bucket lists into one window ending at `now` and judges it: the counts add up bucket by bucket.
    public static func merge(
        local: [HealthBucket], peers: [[HealthBucket]], policy: HealthPolicy, windowMinutes: Int, at now: Moment
    ) -> (stats: HealthStats, hosts: Int) {
        var window = HealthWindow(policy: policy)
        window.restore(local + peers.flatMap { $0 }, at: now)
        let hosts = ([local] + peers).filter { buckets in
            var own = HealthWindow(policy: policy)
            own.restore(buckets, at: now)
            return own.stats(windowMinutes: windowMinutes, at: now).calls > 0
        }.count
        return (window.stats(windowMinutes: windowMinutes, at: now), hosts)
    }
}
