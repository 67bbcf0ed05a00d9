extension CircuitBreaker {
    /// The persistent state, with wall-clock times. Probes in flight and the generation are not part of it:
    /// no permit survives a restart.
    public func snapshot() -> BreakerSnapshot {
        BreakerSnapshot(
            phase: phase,
            openUntilUnixMillis: phase == .open ? openUntil?.unixMillis : nil,
            level: level,
            trips: trips,
            consecutiveFailures: consecutiveFailures,
            misconfigured: misconfigured,
            lastFailureUnixMillis: lastFailureAt?.unixMillis,
            closedSinceUnixMillis: closedSince?.unixMillis,
            lastTripReason: lastTripReason,
            window: window.codes
        )
    }

    /// A breaker restored from `snapshot` under `policy`. Wall-clock times are converted back to monotonic
    /// readings through `now`, so an open breaker stays open until the same wall-clock time even though the
    /// new process's monotonic clock started elsewhere. A half-open breaker comes back half-open with every
    /// probe slot free; an open one without an end comes back half-open; the level is clamped to the policy's cap.
    public init(policy: BreakerPolicy, restoring snapshot: BreakerSnapshot, now: Moment) {
        self.init(policy: policy)
        phase = snapshot.phase
        level = min(max(0, snapshot.level), policy.maxLevel)
        trips = max(0, snapshot.trips)
        misconfigured = snapshot.misconfigured
        lastFailureAt = snapshot.lastFailureUnixMillis.map { Self.moment(unixMillis: $0, relativeTo: now) }
        closedSince = snapshot.closedSinceUnixMillis.map { Self.moment(unixMillis: $0, relativeTo: now) }
        lastTripReason = snapshot.lastTripReason
        // The store keeps the reason, not the flag; a timeout trip's reason names timeouts or slow calls.
        trippedOnTimeouts = snapshot.lastTripReason.map { $0.contains("timeout") || $0.contains("slow") } ?? false
        switch snapshot.phase {
        case .closed:
            window = OutcomeWindow(capacity: policy.effectiveWindowSize, codes: snapshot.window)
            consecutiveFailures = max(0, snapshot.consecutiveFailures)
            if closedSince == nil { closedSince = now }
        case .open:
            if let until = snapshot.openUntilUnixMillis {
                openUntil = Self.moment(unixMillis: until, relativeTo: now)
            } else {
                phase = .halfOpen
            }
        case .halfOpen, .isolated:
            break
        }
    }

    /// The moment at wall-clock `unixMillis`, its monotonic reading placed relative to `now`'s.
    /// Offsets are clamped to ±100 years so the arithmetic cannot overflow.
    static func moment(unixMillis: Int64, relativeTo now: Moment) -> Moment {
        let limit: Int64 = 100 * 365 * 86_400_000
        let offset = min(max(unixMillis &- now.unixMillis, -limit), limit)
        return Moment(nanos: now.nanos &+ offset * 1_000_000, unixMillis: unixMillis)
    }

    /// Makes every permit handed out before now stale, even one whose generation number a freshly
    /// restored breaker would otherwise reuse.
    mutating func invalidatePermits(after previous: UInt64) {
        generation = max(generation, previous &+ 1)
    }
}
