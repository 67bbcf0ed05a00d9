/// The result of `fleet`: the sidecars sharing breakers with this one, as the fleet's state rows say.
public struct FleetReport: Sendable, Equatable {
    /// One model's breaker on one sidecar.
    public struct Breaker: Sendable, Equatable {
        public var model: String
        /// `closed`, `open`, `half_open` or `isolated`.
        public var state: BreakerState
        /// While open: when it ends, Unix milliseconds.
        public var untilMs: Int?
        /// The peer whose trip opened it there; `nil` when that sidecar opened it itself.
        public var openedBy: String?
        public var reason: String?
        public var misconfigured: Bool

        public init(model: String, state: BreakerState, untilMs: Int? = nil, openedBy: String? = nil, reason: String? = nil, misconfigured: Bool = false) {
            self.model = model
            self.state = state
            self.untilMs = untilMs
            self.openedBy = openedBy
            self.reason = reason
            self.misconfigured = misconfigured
        }

        public init(json: JSON) {
            self.init(
                model: json["model"]?.stringValue ?? "", state: BreakerState(rawValue: json["state"]?.stringValue ?? ""),
                untilMs: json["until_ms"]?.roundedInt, openedBy: json["opened_by"]?.stringValue, reason: json["reason"]?.stringValue,
                misconfigured: json["misconfigured"]?.boolValue ?? false)
        }

        public var json: JSON {
            [
                "model": .string(model), "state": .string(state.rawValue), "until_ms": .optional(untilMs),
                "opened_by": .optional(openedBy), "reason": .optional(reason), "misconfigured": .bool(misconfigured),
            ]
        }
    }

    /// One sidecar of the fleet.
    public struct Member: Sendable, Equatable {
        public var host: String
        /// Its last heartbeat, ISO-8601 UTC, and the same in Unix milliseconds.
        public var lastSeen: String
        public var lastSeenMs: Int
        /// Whether this is the sidecar that answered.
        public var isSelf: Bool
        /// Its breakers that are not closed (every breaker row when `all` was asked).
        public var breakers: [Breaker]

        public init(host: String, lastSeen: String, lastSeenMs: Int, isSelf: Bool, breakers: [Breaker]) {
            self.host = host
            self.lastSeen = lastSeen
            self.lastSeenMs = lastSeenMs
            self.isSelf = isSelf
            self.breakers = breakers
        }

        public init(json: JSON) {
            self.init(
                host: json["host"]?.stringValue ?? "", lastSeen: json["last_seen"]?.stringValue ?? "",
                lastSeenMs: json["last_seen_ms"]?.roundedInt ?? 0, isSelf: json["self"]?.boolValue ?? false,
                breakers: (json["breakers"]?.arrayValue ?? []).map(Breaker.init(json:)))
        }

        public var json: JSON {
            [
                "host": .string(host), "last_seen": .string(lastSeen), "last_seen_ms": .int(lastSeenMs), "self": .bool(isSelf),
                "breakers": .array(breakers.map(\.json)),
            ]
        }
    }

    /// Whether `[fleet]` is configured; the other members are empty when it is not.
    public var enabled: Bool
    public var fleet: String
    public var host: String
    /// Whether the fleet's database is reachable now.
    public var connected: Bool
    /// The last failure talking to it (never the URL).
    public var lastError: String?
    /// Models whose probe lease this sidecar holds.
    public var probeLeases: [String]
    public var eventsPublished: Int
    public var eventsReceived: Int
    public var eventsApplied: Int
    public var eventsDropped: Int
    public var reconnects: Int
    public var members: [Member]

    public init(
        enabled: Bool, fleet: String = "", host: String = "", connected: Bool = false, lastError: String? = nil, probeLeases: [String] = [],
        eventsPublished: Int = 0, eventsReceived: Int = 0, eventsApplied: Int = 0, eventsDropped: Int = 0, reconnects: Int = 0,
        members: [Member] = []
    ) {
        self.enabled = enabled
        self.fleet = fleet
        self.host = host
        self.connected = connected
        self.lastError = lastError
        self.probeLeases = probeLeases
        self.eventsPublished = eventsPublished
        self.eventsReceived = eventsReceived
        self.eventsApplied = eventsApplied
        self.eventsDropped = eventsDropped
        self.reconnects = reconnects
        self.members = members
    }

    /// Reads a `fleet` result.
    /// - Throws: when `enabled` is missing.
    public init(json: JSON) throws(WireError) {
        guard let enabled = json["enabled"]?.boolValue else { throw WireError(field: "result.enabled", "must be a boolean") }
        let events = json["events"]
        self.init(
            enabled: enabled, fleet: json["fleet"]?.stringValue ?? "", host: json["host"]?.stringValue ?? "",
            connected: json["connected"]?.boolValue ?? false, lastError: json["last_error"]?.stringValue,
            probeLeases: (json["probe_leases"]?.arrayValue ?? []).compactMap(\.stringValue),
            eventsPublished: events?["published"]?.roundedInt ?? 0, eventsReceived: events?["received"]?.roundedInt ?? 0,
            eventsApplied: events?["applied"]?.roundedInt ?? 0, eventsDropped: events?["dropped"]?.roundedInt ?? 0,
            reconnects: json["reconnects"]?.roundedInt ?? 0, members: (json["members"]?.arrayValue ?? []).map(Member.init(json:)))
    }

    public var json: JSON {
        guard enabled else { return ["enabled": false] }
        return [
            "enabled": true, "fleet": .string(fleet), "host": .string(host), "connected": .bool(connected),
            "last_error": .optional(lastError), "probe_leases": .array(probeLeases.map { .string($0) }),
            "events": [
                "published": .int(eventsPublished), "received": .int(eventsReceived), "applied": .int(eventsApplied),
                "dropped": .int(eventsDropped),
            ],
            "reconnects": .int(reconnects), "members": .array(members.map(\.json)),
        ]
    }
}
