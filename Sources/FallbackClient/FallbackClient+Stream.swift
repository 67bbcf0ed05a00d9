import Dispatch

/// What a streaming `complete` sends before its result.
public enum CompletionEvent: Sendable {
    /// A piece of the answer from `model` (the last one carries the finish reason and usage).
    case delta(ChatDelta, model: String)
    /// `model`'s stream broke after its first delta and the request starts again on the next model
    /// (`on_interrupt: "restart"`): discard everything received so far.
    case reset(model: String, reason: String)
    /// The whole result; the last event.
    case completed(Completion)
}

/// Streaming `complete`.
extension FallbackClient {
    /// Runs `params` as a streaming request, handing each delta and reset to `onEvent` as it
    /// arrives (on the calling thread), and returns the whole result.
    /// - Throws: `.rpc` with -32006 (stream interrupted) when the answer broke after its first delta,
    ///   or any error `complete` throws.
    public func stream(
        _ params: CompleteParams, onEvent: (CompletionEvent) -> Void
    ) throws(FallbackClientError) -> Completion {
        var params = params
        params.chat.stream = true
        let daemonDeadline = Duration.milliseconds(max(0, params.timeoutMs ?? Self.defaultCompleteTimeoutMs))
        let wait = max(timeout, daemonDeadline + Self.deadlineSlack)
        let result = try withoutActuallyEscaping(onEvent) { (handler) throws(FallbackClientError) -> JSON in
            try call("complete", params: params.json, timeout: wait) { notification, id in
                guard let event = Self.event(notification, requestID: id) else { return }
                handler(event)
            }
        }
        do {
            return try Completion(json: result)
        } catch {
            throw .protocolError("complete result: \(error): \(Self.excerpt(of: result))")
        }
    }

    /// The events of a streaming request as an `AsyncSequence`, ending with `.completed`. The
    /// request runs on a dispatch worker (the client is blocking); it is sent once.
    public func events(_ params: CompleteParams) -> AsyncThrowingStream<CompletionEvent, any Error> {
        AsyncThrowingStream { continuation in
            DispatchQueue.global().async {
                do {
                    let completion = try self.stream(params) { continuation.yield($0) }
                    continuation.yield(.completed(completion))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// A notification of request `requestID`, as an event; `nil` for anything else.
    static func event(_ notification: JSON, requestID: Int) -> CompletionEvent? {
        guard let params = notification["params"], params["id"]?.intValue == requestID else { return nil }
        let model = params["model"]?.stringValue ?? ""
        switch notification["method"]?.stringValue {
        case "complete.delta":
            return params["delta"].map { .delta(ChatDelta(json: $0), model: model) }
        case "complete.reset":
            return .reset(model: model, reason: params["reason"]?.stringValue ?? "")
        default:
            return nil
        }
    }
}
