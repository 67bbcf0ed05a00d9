/// Where a model's circuit breaker stands.
///
/// A struct rather than an enum, so a state added by a newer daemon still decodes.
public struct BreakerState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// Calls flow; their outcomes count against the trip rules.
    public static let closed = BreakerState(rawValue: "closed")
    /// Tripped: requests skip the model until `until`.
    public static let open = BreakerState(rawValue: "open")
    /// The open period is over: a probe call may go, and its result decides.
    public static let halfOpen = BreakerState(rawValue: "half_open")
    /// Taken out by an operator: skipped until `breaker.reset`.
    public static let isolated = BreakerState(rawValue: "isolated")

    public var description: String { rawValue }
}

/// One model's circuit breaker, as `breakers`, `breaker.reset` and `breaker.isolate` return it.
public struct BreakerInfo: Sendable, Equatable {
    /// The pool name of the model.
    public var model: String
    public var state: BreakerState
    /// While open: when a probe may go, as ISO-8601 UTC; `nil` in the other states.
    public var until: String?
    /// The same moment in Unix milliseconds.
    public var untilMs: Int?
    /// Counted failures in a row in the current closed period.
    public var consecutiveFailures: Int
    /// Failure rate over the breaker's window; `nil` until the window holds `minimum_calls` calls.
    public var failureRate: Double?
    /// Slow-call rate over the window; `nil` below `minimum_calls` or when the slow-call rule is off.
    public var slowRate: Double?
    /// Counted calls in the window of the current closed period.
    public var callsInWindow: Int
    /// Trips (failed probes included) since the daemon started, or since the state it restored.
    public var trips: Int
    /// Growth level: the current open duration is `open_ms * backoff_multiplier^(level-1)`, capped.
    public var level: Int
    /// Opened by an `auth` failure: the model's key or configuration is wrong.
    public var misconfigured: Bool
    /// Why it last tripped (`3 consecutive failures`, `probe failed`, `isolated by operator`...).
    public var lastTripReason: String?
    /// Half-open probes handed out and not yet answered.
    public var probesInFlight: Int
    /// With a fleet: the peer sidecar (its host name) whose trip opened this breaker here. On the
    /// wire as `"source": "peer", "opened_by": HOST`, both absent when the breaker is this sidecar's own.
    public var openedBy: String?

    public init(
        model: String, state: BreakerState, until: String? = nil, untilMs: Int? = nil, consecutiveFailures: Int = 0,
        failureRate: Double? = nil, slowRate: Double? = nil, callsInWindow: Int = 0, trips: Int = 0, level: Int = 0,
        misconfigured: Bool = false, lastTripReason: String? = nil, probesInFlight: Int = 0, openedBy: String? = nil
    ) {
        self.openedBy = openedBy
        self.model = model
        self.state = state
        self.until = until
        self.untilMs = untilMs
        self.consecutiveFailures = consecutiveFailures
        self.failureRate = failureRate
        self.slowRate = slowRate
        self.callsInWindow = callsInWindow
        self.trips = trips
        self.level = level
        self.misconfigured = misconfigured
        self.lastTripReason = lastTripReason
        self.probesInFlight = probesInFlight
    }

    /// Reads one breaker object; `nil` when it has no string `model`. Other missing members get defaults.
    public init?(json: JSON) {
        guard let model = json["model"]?.stringValue else { return nil }
        self.init(
            model: model,
            state: BreakerState(rawValue: json["state"]?.stringValue ?? ""),
            until: json["until"]?.stringValue,
            untilMs: json["until_ms"]?.roundedInt,
            consecutiveFailures: json["consecutive_failures"]?.roundedInt ?? 0,
            failureRate: json["failure_rate"]?.doubleValue,
            slowRate: json["slow_rate"]?.doubleValue,
            callsInWindow: json["calls_in_window"]?.roundedInt ?? 0,
            trips: json["trips"]?.roundedInt ?? 0,
            level: json["level"]?.roundedInt ?? 0,
            misconfigured: json["misconfigured"]?.boolValue ?? false,
            lastTripReason: json["last_trip_reason"]?.stringValue,
            probesInFlight: json["probes_in_flight"]?.roundedInt ?? 0,
            openedBy: json["opened_by"]?.stringValue
        )
    }

    /// The breaker object of `breakers`, `breaker.reset` and `breaker.isolate`.
    public var json: JSON {
        var object: JSON = [
            "model": .string(model), "state": .string(state.rawValue), "until": .optional(until), "until_ms": .optional(untilMs),
            "consecutive_failures": .int(consecutiveFailures), "failure_rate": .optional(failureRate),
            "slow_rate": .optional(slowRate), "calls_in_window": .int(callsInWindow), "trips": .int(trips),
            "level": .int(level), "misconfigured": .bool(misconfigured), "last_trip_reason": .optional(lastTripReason),
            "probes_in_flight": .int(probesInFlight),
        ]
        if let openedBy {
            object["source"] = "peer"
            object["opened_by"] = .string(openedBy)
        }
        return object
    }
}
