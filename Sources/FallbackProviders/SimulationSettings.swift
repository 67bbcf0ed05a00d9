import FallbackCore

/// How a `simulated` provider behaves (`[providers.NAME] kind = "simulated"`).
/// Everything random is drawn from ``seed``, so a run can be replayed exactly.
public struct SimulationSettings: Sendable, Hashable {
    public var seed: UInt64
    /// Median latency of every call.
    public var latencyMs: Int64
    /// Latency varies uniformly within `latencyMs ± latencyJitterMs` (never below 0).
    public var latencyJitterMs: Int64
    /// Probability in 0...1 that a call outside an outage fails.
    public var failureRate: Double
    /// The failures drawn from, uniformly; empty means `[.serverError]`.
    public var failureKinds: [ErrorType]
    /// Windows in which every call fails with the window's error; the first matching window wins.
    public var outages: [SimulatedOutage]

    public init(
        seed: UInt64 = 0, latencyMs: Int64 = 0, latencyJitterMs: Int64 = 0, failureRate: Double = 0,
        failureKinds: [ErrorType] = [], outages: [SimulatedOutage] = []
    ) {
        self.seed = seed
        self.latencyMs = latencyMs
        self.latencyJitterMs = latencyJitterMs
        self.failureRate = failureRate
        self.failureKinds = failureKinds
        self.outages = outages
    }
}

/// A window in which a simulated provider fails every call with `error`.
public struct SimulatedOutage: Sendable, Hashable {
    /// Where the window lies.
    public enum Window: Sendable, Hashable {
        /// Request indexes `from..<to` (per provider, 0-based, end exclusive).
        case requests(from: Int, to: Int)
        /// Seconds since the provider was created, `from..<to`, on the injected clock.
        case seconds(from: Double, to: Double)
    }

    public var window: Window
    public var error: ErrorType
    /// A seconds window that comes back every this many seconds (`every_s`); `nil` happens once.
    public var repeatEverySeconds: Double?

    public init(_ window: Window, error: ErrorType, repeatEverySeconds: Double? = nil) {
        self.window = window
        self.error = error
        self.repeatEverySeconds = repeatEverySeconds
    }

    /// `{ from_request = A, to_request = B, error = E }`.
    public static func requests(_ range: Range<Int>, error: ErrorType) -> SimulatedOutage {
        SimulatedOutage(.requests(from: range.lowerBound, to: range.upperBound), error: error)
    }

    /// `{ from_s = A, to_s = B, error = E }`.
    public static func seconds(from: Double, to: Double, error: ErrorType) -> SimulatedOutage {
        SimulatedOutage(.seconds(from: from, to: to), error: error)
    }

    /// Whether request `index`, made `elapsedSeconds` after the provider was created, falls in the window.
    public func contains(requestIndex index: Int, elapsedSeconds: Double) -> Bool {
        switch window {
        case .requests(let from, let to): return index >= from && index < to
        case .seconds(let from, let to):
            if let period = repeatEverySeconds, period > 0 {
                let phase = elapsedSeconds.truncatingRemainder(dividingBy: period)
                return phase >= from && phase < to
            }
            return elapsedSeconds >= from && elapsedSeconds < to
        }
    }
}
