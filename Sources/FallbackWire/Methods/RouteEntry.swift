/// One model of a chain as the daemon ordered it: its place, and why it has that place or was passed over.
///
/// `complete` results, the `route` method and the data of -32001, -32002 and -32003 carry these.
public struct RouteEntry: Sendable, Equatable {
    /// Why a model has its place in the chain, or why it was skipped.
    ///
    /// A struct rather than an enum, so a reason added by a newer daemon still decodes.
    public struct Reason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        /// In the configured order; no resilience engine in use.
        public static let configured = Reason(rawValue: "configured")
        /// Breaker closed and not degraded: tried in the configured order.
        public static let healthy = Reason(rawValue: "healthy")
        /// Success rate below the health threshold: tried after the healthy models.
        public static let degraded = Reason(rawValue: "degraded")
        /// Several calls late and none answered since: tried after the models answering in time.
        public static let lagging = Reason(rawValue: "lagging")
        /// Breaker half-open: this request may carry its probe.
        public static let halfOpenProbe = Reason(rawValue: "half_open_probe")
        /// Breaker open: skipped until `until`.
        public static let open = Reason(rawValue: "open")
        /// Taken out by an operator (`breaker.isolate`): skipped until `breaker.reset`.
        public static let isolated = Reason(rawValue: "isolated")
        /// Half-open, but every probe slot is taken: skipped.
        public static let probeBusy = Reason(rawValue: "probe_busy")
        /// Not reached before the request's deadline.
        public static let skippedByDeadline = Reason(rawValue: "skipped_by_deadline")
        /// Every breaker was open and `when_all_open = "try_least_recent"` probed this one anyway.
        public static let panicProbe = Reason(rawValue: "panic_probe")
        /// Priced above the chain's `max_cost_ratio` times its primary: never used as a fallback.
        public static let overCostRatio = Reason(rawValue: "over_cost_ratio")
        /// The request needs a capability this model lacks (`capability` names it).
        public static let lacksCapability = Reason(rawValue: "lacks_capability")
        /// The request does not fit this model's context window.
        public static let contextTooSmall = Reason(rawValue: "context_too_small")

        /// Whether the daemon plans to try a model with this reason (unknown reasons count as skipped).
        public var isTried: Bool {
            [Self.configured, .healthy, .degraded, .lagging, .halfOpenProbe, .panicProbe].contains(self)
        }

        public var description: String { rawValue }
    }

    /// 1 for the first model of the chain.
    public var place: Int
    /// The pool name of the model.
    public var model: String
    public var reason: Reason
    /// For `open`: when the breaker lets a probe through, as ISO-8601 UTC (`2026-11-24T23:59:01.123Z`).
    public var until: String?
    /// The same moment in Unix milliseconds.
    public var untilMs: Int?
    /// For `lacks_capability`: what the model lacks (`tools`, `vision`, `seed`...).
    public var capability: String?

    /// With a fleet, for `open` and `probe_busy`: the peer sidecar whose trip opened the breaker here
    /// (`"source": "peer", "opened_by": HOST` on the wire; absent when the trip was this sidecar's).
    public var openedBy: String?

    /// Whether the daemon planned to try this model.
    public var isTried: Bool { reason.isTried }

    public init(place: Int, model: String, reason: Reason, until: String? = nil, untilMs: Int? = nil, capability: String? = nil, openedBy: String? = nil) {
        self.openedBy = openedBy
        self.place = place
        self.model = model
        self.reason = reason
        self.until = until
        self.untilMs = untilMs
        self.capability = capability
    }

    /// Reads one route entry; missing members get empty defaults.
    public init(json: JSON) {
        self.init(
            place: json["place"]?.roundedInt ?? 0,
            model: json["model"]?.stringValue ?? "",
            reason: Reason(rawValue: json["reason"]?.stringValue ?? ""),
            until: json["until"]?.stringValue,
            untilMs: json["until_ms"]?.roundedInt,
            capability: json["capability"]?.stringValue,
            openedBy: json["opened_by"]?.stringValue
        )
    }

    /// `{"model","place","reason"[,"until","until_ms"][,"capability"][,"source","opened_by"]}`.
    public var json: JSON {
        var entry: JSON = ["model": .string(model), "place": .int(place), "reason": .string(reason.rawValue)]
        if let until { entry["until"] = .string(until) }
        if let untilMs { entry["until_ms"] = .int(untilMs) }
        if let capability { entry["capability"] = .string(capability) }
        if let openedBy {
            entry["source"] = "peer"
            entry["opened_by"] = .string(openedBy)
        }
        return entry
    }

    /// Reads a `route` array; anything else gives an empty route.
    public static func list(_ json: JSON?) -> [RouteEntry] {
        json?.arrayValue?.map(RouteEntry.init(json:)) ?? []
    }

    /// The route on one line, e.g. `gpt-4o:open → claude-3-5-sonnet:healthy`.
    public static func summary(_ route: [RouteEntry]) -> String {
        route.map { "\($0.model):\($0.reason)" }.joined(separator: " → ")
    }
}
