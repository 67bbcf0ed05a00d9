import Synchronization

/// Models a provider asked to leave alone for a while (a 429 or 503 with Retry-After, Gemini's
/// retryDelay, an exhausted rate-limit window): parked for every request until then, not only for
/// the request that heard it. Lazy: a parking that has passed is simply over when next read.
public final class ParkingBoard: Sendable {
    private let parked = Mutex<[String: Moment]>([:])
    private let onPark: (@Sendable (String, Moment) -> Void)?

    /// `onPark` hears every parking that moves a model's end later (outside the lock), not those
    /// applied from a fleet peer.
    public init(onPark: (@Sendable (String, Moment) -> Void)? = nil) {
        self.onPark = onPark
    }

    /// Parks `model` until `until` (a later parking wins over an earlier one).
    public func park(_ model: String, until: Moment) {
        if parkQuietly(model, until: until) { onPark?(model, until) }
    }

    /// Parks without telling `onPark`; whether the parking moved later.
    @discardableResult
    func parkQuietly(_ model: String, until: Moment) -> Bool {
        parked.withLock { parked in
            if let current = parked[model], current >= until { return false }
            parked[model] = until
            return true
        }
    }

    /// Until when `model` is parked, or `nil` when it may be called at `now`.
    public func parkedUntil(_ model: String, at now: Moment) -> Moment? {
        parked.withLock { parked in
            guard let until = parked[model] else { return nil }
            guard now < until else {
                parked[model] = nil
                return nil
            }
            return until
        }
    }

    /// Every model parked at `now`, with until when.
    public func all(at now: Moment) -> [String: Moment] {
        parked.withLock { parked in
            parked = parked.filter { now < $0.value }
            return parked
        }
    }
}
