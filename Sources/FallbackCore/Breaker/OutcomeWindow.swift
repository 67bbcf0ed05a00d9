/// The count-based sliding window of a breaker: the last `capacity` counted calls in a fixed ring,
/// with running failure and slow counts so every rate is O(1).
struct OutcomeWindow: Sendable {
    /// Code bit for a failed call.
    static let failureBit: UInt8 = 1
    /// Code bit for a slow call.
    static let slowBit: UInt8 = 2
    /// Code bit for a call that timed out, or hung past the policy's `hangAfterMs`.
    static let timeoutBit: UInt8 = 4

    private(set) var capacity: Int
    private var ring: [UInt8]
    /// Index of the oldest entry.
    private var head = 0
    private(set) var count = 0
    private(set) var failures = 0
    private(set) var slowCalls = 0
    private(set) var timeouts = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        ring = Array(repeating: 0, count: self.capacity)
    }

    /// The code of one call: 0 success, 1 failure, 2 slow success, 3 slow failure; +4 a timeout.
    static func code(failed: Bool, slow: Bool, timeout: Bool = false) -> UInt8 {
        (failed ? failureBit : 0) | (slow ? slowBit : 0) | (timeout ? timeoutBit : 0)
    }

    /// Adds a call, pushing out the oldest once full.
    mutating func append(_ code: UInt8) {
        let code = code & (Self.failureBit | Self.slowBit | Self.timeoutBit)
        if count == capacity {
            adjust(ring[head], by: -1)
            ring[head] = code
            head = (head + 1) % capacity
        } else {
            ring[(head + count) % capacity] = code
            count += 1
        }
        adjust(code, by: 1)
    }

    /// Forgets every call (the next closed period starts clean).
    mutating func removeAll() {
        head = 0
        count = 0
        failures = 0
        slowCalls = 0
        timeouts = 0
    }

    /// The calls, oldest first.
    var codes: [UInt8] {
        (0..<count).map { ring[(head + $0) % capacity] }
    }

    /// A window of `capacity` holding the newest of `codes` (given oldest first).
    init(capacity: Int, codes: [UInt8]) {
        self.init(capacity: capacity)
        for code in codes.suffix(self.capacity) { append(code) }
    }

    /// The same calls in a window of another size (keeping the newest).
    func resized(to newCapacity: Int) -> OutcomeWindow {
        max(1, newCapacity) == capacity ? self : OutcomeWindow(capacity: newCapacity, codes: codes)
    }

    /// Timeouts among the newest `last` calls.
    func timeouts(inLast last: Int) -> Int {
        guard timeouts > 0 else { return 0 }
        let n = min(max(0, last), count)
        var found = 0
        for offset in (count - n)..<count where ring[(head + offset) % capacity] & Self.timeoutBit != 0 { found += 1 }
        return found
    }

    var failureRate: Double { count == 0 ? 0 : Double(failures) / Double(count) }
    var slowRate: Double { count == 0 ? 0 : Double(slowCalls) / Double(count) }
    var timeoutRate: Double { count == 0 ? 0 : Double(timeouts) / Double(count) }

    private mutating func adjust(_ code: UInt8, by delta: Int) {
        if code & Self.failureBit != 0 { failures += delta }
        if code & Self.slowBit != 0 { slowCalls += delta }
        if code & Self.timeoutBit != 0 { timeouts += delta }
    }
}
