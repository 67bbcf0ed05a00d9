/// The task group that owns one connection's deferred requests.
///
/// Each request runs as a child of the group, so a client that leaves cancels what it asked for
/// (its upstream calls stop and it leaves the in-flight gate), and shutdown can wait for the group
/// to end instead of polling. The group starts with the connection's first deferred request.
final class ConnectionWorker: Sendable {
    typealias Job = @Sendable () async -> Void

    private let continuation: AsyncStream<Job>.Continuation
    private let task: Task<Void, Never>

    /// - Parameter onEnded: called once every job has ended, after `finish` or `cancel`.
    init(onEnded: @escaping @Sendable () -> Void = {}) {
        let (jobs, continuation) = AsyncStream.makeStream(of: Job.self)
        self.continuation = continuation
        task = Task {
            await withDiscardingTaskGroup { group in
                for await job in jobs {
                    group.addTask { await job() }
                }
            }
            onEnded()
        }
    }

    /// Runs `job` in the group; `false` once the worker is finished or cancelled.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        if case .enqueued = continuation.yield(job) { return true }
        return false
    }

    /// No more jobs: the group ends when the running ones are done (a half-closed client).
    func finish() {
        continuation.finish()
    }

    /// The client is gone: cancel every running job and take no more.
    func cancel() {
        continuation.finish()
        task.cancel()
    }

    /// Waits until every job has ended (after `finish` or `cancel`).
    func wait() async {
        await task.value
    }
}
