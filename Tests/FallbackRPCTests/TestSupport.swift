import Synchronization
import Testing

@testable import FallbackRPC

/// Parses text the test itself wrote; a typo in a test is a test failure, not a crash.
func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
    do {
        return try JSON.parse(text)
    } catch {
        Issue.record("test JSON does not parse: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

extension RPCDispatcher {
    /// Runs one line given as text; deferred work runs on a task of its own (the daemon runs it in
    /// the connection's task group) and its reply goes to `deliver`.
    func handle(
        _ text: String, deliver: @escaping @Sendable (JSON?) -> Void = { _ in },
        notify: @escaping @Sendable (JSON) -> Void = { _ in }
    ) -> Outcome {
        var text = text
        let outcome = text.withUTF8 { handle(UnsafeRawBufferPointer($0), notify: notify) }
        if case .deferred(let work) = outcome {
            Task { deliver(await work.run()) }
        }
        return outcome
    }
}

extension RPCDispatcher.Outcome {
    var reply: JSON? {
        if case .reply(let json) = self { return json }
        return nil
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    var isDeferred: Bool {
        if case .deferred = self { return true }
        return false
    }
}

/// Replies with each error object cut down to its code, so the spec's texts ("Method not found")
/// compare equal to fallbackd's more helpful messages and data.
func normalized(_ reply: JSON) -> JSON {
    if let elements = reply.arrayValue { return .array(elements.map(normalized)) }
    guard reply.kind == .object else { return reply }
    var copy = reply
    if let code = reply["error"]?["code"] { copy["error"] = ["code": code] }
    return copy
}

/// Collects what `deliver` receives; `next()` waits for one delivery, bounded by a timeout.
final class Mailbox: Sendable {
    private let stream: AsyncStream<JSON?>
    private let continuation: AsyncStream<JSON?>.Continuation
    private let deliveries = Atomic<Int>(0)

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: JSON?.self)
    }

    var deliver: @Sendable (JSON?) -> Void {
        { [self] value in
            deliveries.add(1, ordering: .sequentiallyConsistent)
            continuation.yield(value)
        }
    }

    var count: Int { deliveries.load(ordering: .sequentiallyConsistent) }

    /// The next delivery; records an issue and returns `.none` when nothing came within `seconds`.
    func next(within seconds: Int = 10, sourceLocation: SourceLocation = #_sourceLocation) async -> JSON?? {
        let stream = self.stream
        let value = await withTaskGroup(of: JSON??.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))  // upper bound only, never a timing assertion
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if value == nil { Issue.record("no delivery within \(seconds) s", sourceLocation: sourceLocation) }
        return value
    }
}

/// A one-shot gate a deferred handler can wait on until the test opens it.
final class Latch: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
