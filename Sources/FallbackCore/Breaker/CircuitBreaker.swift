/// One model's circuit breaker: a value-type state machine with no locks and no timers.
///
/// - closed: calls flow and their outcomes count against the policy's trip rules;
/// - open: calls are rejected until `openUntil`; open -> half-open is decided lazily whenever the breaker
///   is read (`acquire`, `status`, `record`, `recordExternal`) at or after `openUntil`;
/// - half-open: up to `halfOpenProbes` probe permits are out at a time; the first counted probe result
///   decides (success closes, failure reopens with a longer duration); an excluded probe frees its slot;
/// - isolated: an operator took the model out; rejected until `reset`.
///
/// Every phase change bumps `generation` (as in gobreaker): a result recorded with a permit taken under an
/// earlier generation is ignored, so a slow call that started before a trip cannot close or count against
/// the breaker afterwards. Durations grow with each re-trip (`level`) and shrink back while the model stays
/// healthy; both are computed from the `Moment`s passed in.
public struct CircuitBreaker: Sendable {
    /// The rules; changing it keeps the newest calls of the window.
    public var policy: BreakerPolicy {
        didSet { window = window.resized(to: policy.effectiveWindowSize) }
    }
    /// Bumped by every phase change; permits from an older generation are stale.
    public internal(set) var generation: UInt64 = 0

    var phase: BreakerPhase = .closed
    var openUntil: Moment?
    var window: OutcomeWindow
    var consecutiveFailures = 0
    var trips = 0
    var level = 0
    var misconfigured = false
    var lastFailureAt: Moment?
    /// Start of the healthy period the level shrinks over; `nil` before the first close.
    var closedSince: Moment?
    var lastTripReason: String?
    /// The fleet peer whose trip opened this breaker (kept through half-open); `nil` when it was local.
    var peerHost: String?
    /// When the current open period began (for ordering a peer's close against a local trip).
    var openedAt: Moment?
    var probesInFlight = 0
    /// Closed-period calls still out, by call id, with when they started (bounded; see `maxTracked`).
    var outstanding: [UInt64: Moment] = [:]
    /// Outstanding calls already counted as hung: their end is not counted again.
    var countedHung: Set<UInt64> = []
    /// Outstanding calls past the point their router hedges at (see ``markLate(_:at:)``).
    var late: Set<UInt64> = []
    /// When the newest call that succeeded in this closed period started.
    var lastSuccessStart: Moment?
    /// Timeouts in a row within `consecutiveFailures` (a trip they make is a gray failure's).
    var consecutiveTimeouts = 0
    /// The last trip was for timeouts (hanging or slow calls, not errors): its recovery needs
    /// several probes in a row (``RecoveryProbes``).
    var trippedOnTimeouts = false
    var nextCallID: UInt64 = 0

    /// The most outstanding calls tracked at once (memory bound); calls beyond are not tracked.
    static let maxTracked = 4_096

    /// A closed breaker with an empty window.
    public init(policy: BreakerPolicy) {
        self.policy = policy
        window = OutcomeWindow(capacity: policy.effectiveWindowSize)
    }

    /// Asks to call the model now. Closed: always allowed. Open: rejected until `openUntil`, then half-open.
    /// Half-open: a probe permit while fewer than `halfOpenProbes` are out, else rejected. Isolated: rejected.
    public mutating func acquire(at now: Moment) -> BreakerDecision {
        refresh(at: now)
        switch phase {
        case .closed:
            guard outstanding.count < Self.maxTracked else {
                return .allowed(BreakerPermit(generation: generation, isProbe: false, startedAt: now))
            }
            nextCallID &+= 1
            outstanding[nextCallID] = now
            return .allowed(BreakerPermit(generation: generation, isProbe: false, callID: nextCallID, startedAt: now))
        case .open:
            return .rejected(phase: .open, until: openUntil)
        case .halfOpen:
            guard probesInFlight < max(1, policy.halfOpenProbes) else { return .rejected(phase: .halfOpen, until: nil) }
            probesInFlight += 1
            return .allowed(BreakerPermit(generation: generation, isProbe: true))
        case .isolated:
            return .rejected(phase: .isolated, until: nil)
        }
    }

    /// The breaker as of `now` (mutating: may move open -> half-open and shrink the level).
    public mutating func status(at now: Moment) -> BreakerStatus {
        refresh(at: now)
        let enough = window.count >= policy.effectiveMinimumCalls
        return BreakerStatus(
            phase: phase,
            openUntil: phase == .open ? openUntil : nil,
            consecutiveFailures: consecutiveFailures,
            failureRate: enough ? window.failureRate : nil,
            slowRate: enough && policy.slowCallMs != nil ? window.slowRate : nil,
            callsInWindow: window.count,
            trips: trips,
            level: level,
            misconfigured: misconfigured,
            lastFailureAt: lastFailureAt,
            lastTripReason: lastTripReason,
            probesInFlight: phase == .halfOpen ? probesInFlight : 0,
            openedByPeer: phase == .open || phase == .halfOpen ? peerHost : nil,
            lagging: phase == .closed && isLagging,
            trippedOnTimeouts: phase != .closed && trippedOnTimeouts
        )
    }

    /// Operator reset: closed, window and consecutive count cleared, level 0, not misconfigured, not isolated.
    /// Outstanding permits become stale. `trips` and `lastTripReason` are kept as history.
    public mutating func reset(at now: Moment) {
        close(at: now)
        level = 0
    }

    /// Operator isolation: every acquire is rejected until `reset`; outstanding permits become stale.
    public mutating func isolate(at now: Moment) {
        transition(to: .isolated)
        lastTripReason = "isolated by operator"
    }

    // MARK: - Transitions

    /// Applies what time alone decides: open -> half-open at `openUntil`, and the level shrinking while closed.
    mutating func refresh(at now: Moment) {
        switch phase {
        case .open:
            if let until = openUntil, now < until { return }
            transition(to: .halfOpen)
        case .closed:
            shrinkLevel(at: now)
            countHungCalls(at: now)
        case .halfOpen, .isolated:
            return
        }
    }

    /// Calls still out past `hangAfterMs` count as timeouts now, not when they finally end.
    mutating func countHungCalls(at now: Moment) {
        guard let limit = policy.hangAfterMs, !outstanding.isEmpty else { return }
        var hung: [UInt64] = []
        for (id, start) in outstanding where !countedHung.contains(id) && now.millis(since: start) > limit {
            hung.append(id)
        }
        guard !hung.isEmpty else { return }
        for id in hung {
            countedHung.insert(id)
            late.remove(id)
            window.append(OutcomeWindow.code(failed: true, slow: true, timeout: true))
            consecutiveFailures += 1
            consecutiveTimeouts += 1
            lastFailureAt = now
        }
        if let rule = tripRule() { trip(at: now, reason: rule.reason + " (calls still hanging)", timeouts: rule.timeouts) }
    }

    /// While closed, each full open duration of the current level that passes without a trip lowers it by one.
    mutating func shrinkLevel(at now: Moment) {
        guard level > 0, var since = closedSince else { return }
        while level > 0 {
            let next = since.adding(millis: policy.openDuration(level: level))
            guard now >= next else { break }
            level -= 1
            since = next
        }
        closedSince = since
    }

    /// Enters `phase`: new generation, counters of the closed period and probe slots cleared.
    mutating func transition(to newPhase: BreakerPhase) {
        if newPhase != .halfOpen { peerHost = nil }
        phase = newPhase
        generation &+= 1
        openUntil = nil
        probesInFlight = 0
        consecutiveFailures = 0
        consecutiveTimeouts = 0
        window.removeAll()
        outstanding.removeAll()
        countedHung.removeAll()
        late.removeAll()
        lastSuccessStart = nil
    }

    /// Closes: a fresh closed period starting `now`.
    mutating func close(at now: Moment) {
        transition(to: .closed)
        closedSince = now
        misconfigured = false
        trippedOnTimeouts = false
    }

    /// Opens for `durationMs` from `now`, counting a trip.
    mutating func open(for durationMs: Int64, at now: Moment, reason: String, misconfigured flagged: Bool) {
        transition(to: .open)
        openedAt = now
        openUntil = now.adding(millis: durationMs)
        trips += 1
        lastTripReason = reason
        misconfigured = flagged
        if flagged { trippedOnTimeouts = false }
    }

    /// A trip or a failed probe: one level up (capped), open for that level's duration. `timeouts`
    /// says the trip was for timeouts (`nil`: a failed probe, which keeps what the trip was for).
    mutating func trip(at now: Moment, reason: String, timeouts: Bool?) {
        level = min(level + 1, policy.maxLevel)
        let gray = timeouts ?? trippedOnTimeouts
        open(for: policy.openDuration(level: level), at: now, reason: reason, misconfigured: false)
        trippedOnTimeouts = gray
    }
}
