/// Where a streaming attempt's deltas go: the router's commit gate for that attempt.
public protocol DeltaReceiver: Sendable {
    /// A piece of the answer as it arrives. Returns `false` when the attempt must stop at once
    /// (its request is over, or another attempt already answered).
    func receive(_ delta: ChatDelta) -> Bool
}

/// Where a streaming request's answer goes: the caller's connection.
public protocol StreamSink: Sendable {
    /// A piece of the answer from `model`, in order. The last one carries the finish reason and usage.
    func delta(_ delta: ChatDelta, model: String)
    /// The stream from `model` broke after its first delta and the request starts again on the next
    /// model (`on_interrupt: restart`): the caller discards what it has.
    func reset(model: String, reason: ErrorType)
}

/// What to do when a stream fails after its first delta reached the caller.
public enum InterruptPolicy: String, Sendable, Hashable {
    /// End the request with a stream-interrupted error saying what was delivered.
    case error
    /// Tell the caller to discard what it has, and start again on the next capable model.
    case restart
}

/// What a stream had delivered when it broke.
public struct DeliveredPart: Sendable, Hashable {
    public var contentCharacters: Int
    public var toolCalls: Int
    /// A tool call was started and its arguments may be incomplete.
    public var toolCallOpen: Bool

    public init(contentCharacters: Int = 0, toolCalls: Int = 0, toolCallOpen: Bool = false) {
        self.contentCharacters = contentCharacters
        self.toolCalls = toolCalls
        self.toolCallOpen = toolCallOpen
    }
}

extension ModelInvoker {
    /// For invokers that cannot stream: the whole answer arrives as one delta.
    public func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        let outcome = await invoke(request)
        guard case .success(let response) = outcome else { return outcome }
        let calls = response.message.toolCalls.enumerated().map { index, call in
            ToolCallDelta(index: index, id: call.id, name: call.name, arguments: call.arguments)
        }
        let whole = ChatDelta(content: response.message.content, toolCalls: calls, refusal: response.message.refusal)
        guard receiver.receive(whole) else { return .failure(ProviderFailure(.cancelled, message: "the request ended")) }
        return outcome
    }
}
