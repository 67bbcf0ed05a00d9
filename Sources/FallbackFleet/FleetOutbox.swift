import Synchronization

/// A bounded queue between the request path and the publisher: `push` never blocks and drops the
/// oldest item when full; `take` waits for items and hands over all of them. Survives reconnects
/// (unlike an `AsyncStream`, whose iterator ends for good when its task is cancelled).
final class FleetOutbox<Item: Sendable>: Sendable {
    private struct State: Sendable {
        var items: [Item] = []
        var waiter: CheckedContinuation<Void, Never>?
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds `item`; returns whether an older item was dropped to make room.
    @discardableResult
    func push(_ item: Item) -> Bool {
        let (dropped, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            var dropped = false
            if state.items.count >= capacity {
                state.items.removeFirst()
                dropped = true
            }
            state.items.append(item)
            let waiter = state.waiter
            state.waiter = nil
            return (dropped, waiter)
        }
        waiter?.resume()
        return dropped
    }

    /// Every item queued, oldest first, waiting until there is one. Returns `[]` when the task is cancelled.
    func take() async -> [Item] {
        while !Task.isCancelled {
            let batch = state.withLock { state -> [Item] in
                defer { state.items.removeAll(keepingCapacity: true) }
                return state.items
            }
            if !batch.isEmpty { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.items.isEmpty || Task.isCancelled { return true }
                        state.waiter?.resume()
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
        return []
    }

    /// Items waiting now.
    var count: Int { state.withLock { $0.items.count } }
}
