/// Where a circuit breaker stands.
public enum BreakerPhase: String, Sendable {
    /// Calls flow; outcomes are counted against the trip rules.
    case closed
    /// Tripped: calls skip the model until `openUntil`.
    case open
    /// The open period is over: a few probe calls may go; the first counted result decides.
    case halfOpen = "half_open"
    /// Taken out by an operator: calls skip the model until `reset`.
    case isolated
}

/// Leave to call a model, handed out by `acquire`; give it back to `record` with the outcome.
public struct BreakerPermit: Sendable, Hashable {
    /// The breaker's generation when the permit was taken; a result from an older generation is ignored.
    public var generation: UInt64
    /// Whether this call is a half-open probe.
    public var isProbe: Bool
    /// Names the call while it is outstanding (0: not tracked).
    public var callID: UInt64
    /// When the permit was taken: a success of a call that started before the model's latest
    /// failure does not reset its consecutive failures.
    public var startedAt: Moment?

    public init(generation: UInt64, isProbe: Bool, callID: UInt64 = 0, startedAt: Moment? = nil) {
        self.generation = generation
        self.isProbe = isProbe
        self.callID = callID
        self.startedAt = startedAt
    }
}

/// What `acquire` answers.
public enum BreakerDecision: Sendable, Hashable {
    /// The call may go; record its outcome with this permit.
    case allowed(BreakerPermit)
    /// The call must skip the model: open (until the given moment), half-open with every probe out
    /// (`until` nil), or isolated (`until` nil).
    case rejected(phase: BreakerPhase, until: Moment?)

    /// The permit when allowed.
    public var permit: BreakerPermit? {
        if case .allowed(let permit) = self { return permit }
        return nil
    }
}

/// A breaker as the `breakers` and `health` methods show it.
public struct BreakerStatus: Sendable, Hashable {
    public var phase: BreakerPhase
    /// When the open period ends; set only while open.
    public var openUntil: Moment?
    /// Counted failures in a row in the current closed period.
    public var consecutiveFailures: Int
    /// The failure rate over the window; `nil` below `minimumCalls`.
    public var failureRate: Double?
    /// The slow-call rate over the window; `nil` below `minimumCalls` or when the slow-call rule is off.
    public var slowRate: Double?
    /// Counted calls in the window of the current closed period.
    public var callsInWindow: Int
    /// Trips (including probe failures that reopen it) since start or restore.
    public var trips: Int
    /// Growth level: the current open duration is `min(maxOpenMs, openMs * backoffMultiplier^(level-1))`.
    public var level: Int
    /// Opened by an `auth` failure: the model's key or configuration is wrong.
    public var misconfigured: Bool
    /// The last counted failure; for `when_all_open = "try_least_recent"`.
    public var lastFailureAt: Moment?
    /// Why it last tripped, e.g. "3 consecutive failures" or "probe failed".
    public var lastTripReason: String?
    /// Half-open probe permits handed out and not yet recorded.
    public var probesInFlight: Int
    /// The fleet peer (its host name) whose trip opened this breaker; `nil` when this sidecar opened it.
    public var openedByPeer: String?
    /// Closed, with calls late enough (several, none answered since) that new requests try other models first.
    public var lagging: Bool
    /// Open or half-open for timeouts (a gray failure): recovery needs several probes in a row.
    public var trippedOnTimeouts: Bool

    public init(
        phase: BreakerPhase, openUntil: Moment? = nil, consecutiveFailures: Int = 0, failureRate: Double? = nil,
        slowRate: Double? = nil, callsInWindow: Int = 0, trips: Int = 0, level: Int = 0, misconfigured: Bool = false,
        lastFailureAt: Moment? = nil, lastTripReason: String? = nil, probesInFlight: Int = 0, openedByPeer: String? = nil,
        lagging: Bool = false, trippedOnTimeouts: Bool = false
    ) {
        self.lagging = lagging
        self.trippedOnTimeouts = trippedOnTimeouts
        self.openedByPeer = openedByPeer
        self.phase = phase
        self.openUntil = openUntil
        self.consecutiveFailures = consecutiveFailures
        self.failureRate = failureRate
        self.slowRate = slowRate
        self.callsInWindow = callsInWindow
        self.trips = trips
        self.level = level
        self.misconfigured = misconfigured
        self.lastFailureAt = lastFailureAt
        self.lastTripReason = lastTripReason
        self.probesInFlight = probesInFlight
    }
}

/// A breaker's persistent state, with wall-clock times so it survives a restart (stored in SQLite).
public struct BreakerSnapshot: Sendable, Hashable {
    public var phase: BreakerPhase
    public var openUntilUnixMillis: Int64?
    public var level: Int
    public var trips: Int
    public var consecutiveFailures: Int
    public var misconfigured: Bool
    public var lastFailureUnixMillis: Int64?
    /// Start of the healthy period the level shrinks over.
    public var closedSinceUnixMillis: Int64?
    public var lastTripReason: String?
    /// The window's outcomes, oldest first: 0 success, 1 failure, 2 slow success, 3 slow failure.
    public var window: [UInt8]

    public init(
        phase: BreakerPhase, openUntilUnixMillis: Int64? = nil, level: Int = 0, trips: Int = 0,
        consecutiveFailures: Int = 0, misconfigured: Bool = false, lastFailureUnixMillis: Int64? = nil,
        closedSinceUnixMillis: Int64? = nil, lastTripReason: String? = nil, window: [UInt8] = []
    ) {
        self.phase = phase
        self.openUntilUnixMillis = openUntilUnixMillis
        self.level = level
        self.trips = trips
        self.consecutiveFailures = consecutiveFailures
        self.misconfigured = misconfigured
        self.lastFailureUnixMillis = lastFailureUnixMillis
        self.closedSinceUnixMillis = closedSinceUnixMillis
        self.lastTripReason = lastTripReason
        self.window = window
    }
}
