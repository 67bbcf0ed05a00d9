import FallbackCore
import FallbackStore

/// Turns monotonic moments into wall-clock text for replies.
enum TimeText {
    /// Unix millis of `moment`, from its monotonic distance to `now` (wall readings in a Moment may be stale).
    static func unixMillis(_ moment: Moment, now: Moment) -> Int64 {
        now.unixMillis + (moment.nanos - now.nanos) / 1_000_000
    }

    static func iso(_ moment: Moment, now: Moment) -> String {
        ISOTimestamp.string(unixMillis: unixMillis(moment, now: now))
    }
}
