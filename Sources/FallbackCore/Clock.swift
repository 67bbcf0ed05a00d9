#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A point in time as fallbackd sees it: a monotonic reading for durations and deadlines,
/// and wall-clock milliseconds for the call log.
public struct Moment: Sendable, Hashable, Comparable {
    /// Monotonic nanoseconds; only differences are meaningful.
    public var nanos: Int64
    /// Milliseconds since the Unix epoch.
    public var unixMillis: Int64

    public init(nanos: Int64, unixMillis: Int64) {
        self.nanos = nanos
        self.unixMillis = unixMillis
    }

    public static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.nanos < rhs.nanos }

    /// This moment moved by `millis` milliseconds (both readings move together).
    public func adding(millis: Int64) -> Moment {
        Moment(nanos: nanos &+ millis &* 1_000_000, unixMillis: unixMillis &+ millis)
    }

    /// Milliseconds from `earlier` to this moment, never negative.
    public func millis(since earlier: Moment) -> Int64 {
        max(0, (nanos - earlier.nanos) / 1_000_000)
    }

    /// Microseconds from `earlier` to this moment, never negative.
    public func micros(since earlier: Moment) -> Int64 {
        max(0, (nanos - earlier.nanos) / 1_000)
    }
}

/// The source of time for everything in FallbackCore, injected so tests never sleep.
public protocol FallbackClock: Sendable {
    func now() -> Moment
    /// Waits until `deadline` (or returns at once if it has passed). Throws on task cancellation.
    func sleep(until deadline: Moment) async throws
}

extension FallbackClock {
    public func sleep(until deadline: Moment) async throws {
        let nanos = deadline.nanos - now().nanos
        if nanos > 0 { try await Task.sleep(for: .nanoseconds(nanos)) }
    }
}

/// The real clock: CLOCK_MONOTONIC for durations, CLOCK_REALTIME for timestamps.
public struct SystemClock: FallbackClock {
    public init() {}

    public func now() -> Moment {
        var mono = timespec()
        var wall = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        clock_gettime(CLOCK_REALTIME, &wall)
        return Moment(
            nanos: Int64(mono.tv_sec) * 1_000_000_000 + Int64(mono.tv_nsec),
            unixMillis: Int64(wall.tv_sec) * 1_000 + Int64(wall.tv_nsec) / 1_000_000
        )
    }
}

/// A clock that only moves when told to; for tests.
public final class ManualClock: FallbackClock {
    private let current: Mutex<Moment>

    public init(unixMillis: Int64 = 1_767_225_600_000) {
        current = Mutex(Moment(nanos: 1_000_000_000, unixMillis: unixMillis))
    }

    public func now() -> Moment { current.withLock { $0 } }

    /// Moves the clock forward by `millis` milliseconds.
    public func advance(millis: Int64) {
        current.withLock { $0 = $0.adding(millis: millis) }
    }

    /// Jumps the clock to `deadline` at once: code under test "sleeps" without waiting.
    public func sleep(until deadline: Moment) async throws {
        try Task.checkCancellation()
        current.withLock { now in
            if deadline.nanos > now.nanos { now = now.adding(millis: (deadline.nanos - now.nanos) / 1_000_000) }
        }
    }
}
