import FallbackCore
import FallbackRPC
import Hummingbird
import Synchronization

/// A streaming `POST /v1/chat/completions`: OpenAI's `chat.completion.chunk` events.
///
/// The status waits for the first delta or the outcome: an error before any content is an HTTP
/// error an SDK raises, as OpenAI's own. After the first delta, a success ends with `data: [DONE]`;
/// a failure sends an `error` event and breaks the connection, so no client mistakes the part it
/// got for the whole answer.
struct ChatCompletionsStream: Sendable {
    let request: CompletionRequest
    let runner: CompletionRunner
    let pool: ModelPool
    let gate: InFlightGate
    let clock: any FallbackClock

    enum Event: Sendable {
        case delta(ChatDelta, model: String)
        case done(Result<CompletionResult, RPCError>)
    }

    /// Deltas from the router into the response's event queue.
    struct Sink: StreamSink {
        let continuation: AsyncStream<Event>.Continuation
        func delta(_ delta: ChatDelta, model: String) { continuation.yield(.delta(delta, model: model)) }
        // Restart is refused on this endpoint (its stream cannot say "discard"), so no reset arrives.
        func reset(model: String, reason: ErrorType) {}
    }

    /// Why the response body stops early: the connection is then closed rather than ended cleanly.
    struct Interrupted: Error {}

    /// Starts the request (it owns one place in `gate`) and answers once its first event is known.
    func start(on connection: FacadeConnection) async -> Response {
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let runner = self.runner
        let request = self.request
        let gate = self.gate
        let task = Task {
            let outcome = await runner.run(request, stream: Sink(continuation: continuation))
            continuation.yield(.done(outcome))
            continuation.finish()
            gate.leave()
        }
        let token = connection.register { task.cancel() }
        let queue = EventQueue(events)
        let first = await withTaskCancellationHandler { await queue.next() } onCancel: { task.cancel() }
        let created = ChatCompletionsEndpoint.created(clock)
        switch first {
        case .none:
            connection.unregister(token)
            return FacadeResponses.error(status: 499, message: "request cancelled", type: "server_error", code: "cancelled")
        case .done(.failure(let error)):
            connection.unregister(token)
            return FacadeResponses.rpcError(error, nowMillis: clock.now().unixMillis, requestID: request.requestID)
        default:
            break
        }
        var headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", FacadeResponses.requestIDHeader: request.requestID,
        ]
        if case .delta(_, let model) = first {
            headers[FacadeResponses.modelHeader] = model
            headers[FacadeResponses.fallbacksHeader] = String(fallbackPlace(of: model))
        }
        let writer = ChunkWriter(request: request, created: created, clock: clock)
        let pending = first
        return Response(status: .ok, headers: headers, body: ResponseBody { body in
            defer {
                connection.unregister(token)
                task.cancel()
            }
            var chunks = writer
            var event = pending
            while let current = event {
                switch current {
                case .delta(let delta, let model):
                    try await body.write(chunks.delta(delta, model: model))
                case .done(.success(let result)):
                    try await body.write(chunks.finish(result))
                    try await body.finish(nil)
                    return
                case .done(.failure(let error)):
                    try await body.write(chunks.failure(error))
                    throw Interrupted()
                }
                event = await queue.next()
            }
            throw Interrupted()
        })
    }

    /// Models of the chain passed over before `model` (the `x-fallbackd-fallbacks` a stream knows at its start).
    func fallbackPlace(of model: String) -> Int {
        let chain = request.models ?? pool.chains[request.task] ?? pool.chains[ModelPool.defaultChain] ?? []
        return chain.firstIndex(of: model) ?? 0
    }
}

/// The single consumer of a request's events, handed from the handler to the response body.
// Unchecked: exactly one task calls `next` at a time (the handler, and after it returns, the body).
final class EventQueue: @unchecked Sendable {
    private var iterator: AsyncStream<ChatCompletionsStream.Event>.AsyncIterator

    init(_ stream: AsyncStream<ChatCompletionsStream.Event>) {
        iterator = stream.makeAsyncIterator()
    }

    func next() async -> ChatCompletionsStream.Event? {
        await iterator.next()
    }
}
