import FallbackWire

/// What one sidecar tells the others of its fleet: a breaker changing phase, or a model parked by a
/// provider's Retry-After. Compact enough for a PostgreSQL `NOTIFY` payload (well under 8000 bytes);
/// every time is wall-clock Unix milliseconds, as hosts share no monotonic clock.
public struct FleetEvent: Sendable, Hashable {
    /// What happened.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The breaker tripped: skip the model until `untilUnixMillis`.
        case open
        /// The open period ended; the sender may probe.
        case halfOpen = "half_open"
        /// A probe (or an operator) closed the breaker: the model is back.
        case closed
        /// An `auth` or `quota` failure opened the breaker: the sender's key or account is wrong.
        case misconfigured
        /// An operator isolated the model on the sender.
        case isolated
        /// A Retry-After parked the model until `untilUnixMillis`.
        case parked
        /// A counted failure while the breaker was closed: peers add it to their consecutive count, so
        /// the fleet trips after the threshold's worth of failures wherever they happened.
        case failure
    }

    public var kind: Kind
    /// The sidecar that saw it (`[fleet] host_name`).
    public var host: String
    /// The pool name of the model.
    public var model: String
    /// When it happened on the sender.
    public var atUnixMillis: Int64
    /// For `open`, `misconfigured` and `parked`: until when.
    public var untilUnixMillis: Int64?
    /// The breaker's growth level after the change (0 when not known).
    public var level: Int
    /// Why it opened, when it did.
    public var reason: String?

    public init(
        kind: Kind, host: String, model: String, atUnixMillis: Int64, untilUnixMillis: Int64? = nil, level: Int = 0,
        reason: String? = nil
    ) {
        self.kind = kind
        self.host = host
        self.model = model
        self.atUnixMillis = atUnixMillis
        self.untilUnixMillis = untilUnixMillis
        self.level = level
        self.reason = reason
    }

    /// The event a local breaker transition announces; `nil` for one a peer caused (never echoed back).
    public init?(_ transition: BreakerTransition, host: String, at now: Moment) {
        guard transition.peerHost == nil else { return nil }
        let kind: Kind
        switch transition.to {
        case .open: kind = transition.misconfigured ? .misconfigured : .open
        case .halfOpen: kind = .halfOpen
        case .closed: kind = .closed
        case .isolated: kind = .isolated
        }
        self.init(
            kind: kind, host: host, model: transition.model, atUnixMillis: now.unixMillis,
            untilUnixMillis: transition.openUntil?.unixMillis, level: transition.level, reason: transition.reason)
    }

    /// A peer's `failure` older than this (wall clock, as the sender stamped it) is not counted: it sat in
    /// an outbox while the database was away.
    public static let failureFreshnessMs: Int64 = 5_000

    /// Longest reason carried; a longer one is cut so the payload stays small.
    static let maxReasonBytes = 200

    /// The `NOTIFY` payload: `{"k":"open","h":"host-a","m":"gpt-4o","t":1767225600000,"u":1767225630000,"l":1,"r":"..."}`.
    public var payload: String {
        var object: JSON = [
            "k": .string(kind.rawValue), "h": .string(host), "m": .string(model), "t": .int(Int(atUnixMillis)),
            "l": .int(level),
        ]
        if let untilUnixMillis { object["u"] = .int(Int(untilUnixMillis)) }
        if let reason { object["r"] = .string(String(decoding: reason.utf8.prefix(Self.maxReasonBytes), as: UTF8.self)) }
        return object.serialized
    }

    /// Reads a payload; `nil` for anything that is not one of ours (another writer on the channel).
    public init?(payload: String) {
        guard let json = try? JSON.parse(payload), let kindText = json["k"]?.stringValue, let kind = Kind(rawValue: kindText),
            let host = json["h"]?.stringValue, !host.isEmpty, let model = json["m"]?.stringValue, !model.isEmpty,
            let at = json["t"]?.roundedInt
        else { return nil }
        self.init(
            kind: kind, host: host, model: model, atUnixMillis: Int64(at), untilUnixMillis: json["u"]?.roundedInt.map(Int64.init),
            level: max(0, json["l"]?.roundedInt ?? 0), reason: json["r"]?.stringValue)
    }
}
