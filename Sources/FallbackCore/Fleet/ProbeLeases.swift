import Synchronization

/// Who may probe a model that is out, when sidecars share their breakers: only the holder of the
/// fleet's short lease on it, so a fleet of 100 spends one probe per open period, not 100.
///
/// A background service takes and renews the leases (never a request); requests only read this
/// board. While the fleet is not reachable (`active == false`) every sidecar probes on its own, as
/// it would without a fleet.
public final class ProbeLeases: Sendable {
    private struct State: Sendable {
        var active = false
        /// Leases held, with when each lapses here (a margin before the shared expiry).
        var held: [String: Moment] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether the leases are in force (the fleet's database is reachable).
    public var active: Bool { state.withLock { $0.active } }

    /// The fleet became reachable (`true`) or not (`false`: leases dropped, every probe is local again).
    public func setActive(_ active: Bool) {
        state.withLock { state in
            state.active = active
            if !active { state.held.removeAll() }
        }
    }

    /// Whether this sidecar may send a probe of `model` at `now`: always when the fleet is not in
    /// force, otherwise only while holding its lease.
    public func mayProbe(_ model: String, at now: Moment) -> Bool {
        state.withLock { state in
            guard state.active else { return true }
            guard let until = state.held[model] else { return false }
            return now < until
        }
    }

    /// The lease on `model` is this sidecar's until `until`.
    public func granted(_ model: String, until: Moment) {
        state.withLock { $0.held[model] = until }
    }

    /// Another sidecar holds the lease on `model`, or it was given up.
    public func lost(_ model: String) {
        _ = state.withLock { $0.held.removeValue(forKey: model) }
    }

    /// Until when this sidecar holds `model`'s lease, if it does.
    public func heldUntil(_ model: String) -> Moment? {
        state.withLock { $0.held[model] }
    }

    /// The leases held now, by model.
    public func held(at now: Moment) -> [String] {
        state.withLock { state in state.held.filter { now < $0.value }.keys.sorted() }
    }

    /// The models a sidecar should hold or seek a lease for: those whose breaker is open or half-open
    /// for a reason a probe can settle (not misconfigured, not isolated by an operator).
    public static func wanted(_ statuses: [String: BreakerStatus]) -> [String] {
        statuses.filter { _, status in
            (status.phase == .open || status.phase == .halfOpen) && !status.misconfigured
        }.keys.sorted()
    }
}
