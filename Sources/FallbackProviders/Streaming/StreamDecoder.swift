import FallbackCore

/// What one provider event means to fallbackd.
enum StreamEvent: Sendable, Equatable {
    /// A piece of the answer (or, last, its finish reason and usage).
    case delta(ChatDelta)
    /// The provider said the stream is complete.
    case done
    /// The provider reported an error inside the stream.
    case failure(ProviderFailure)
    /// An event that does not parse; skipped after the commit, fatal before it.
    case malformed(String)
}

/// Turns one provider's server-sent events into deltas. Stateful and pure: events in, meaning out.
protocol StreamDecoder: Sendable {
    /// The finish reason and usage seen so far.
    var ending: StreamEnding { get }
    mutating func decode(_ event: SSEEvent) -> [StreamEvent]
    /// The HTTP body ended. Returns the closing events: `.done` when the answer is complete (a
    /// provider that gave its finish reason but no end marker is finalised here), or a failure
    /// when the stream was cut before the answer ended.
    mutating func finish() -> [StreamEvent]
}

/// The bookkeeping every decoder shares: the finish reason and usage, sent once as the last delta.
struct StreamEnding: Sendable {
    var finish: FinishReason?
    var providerFinish: String?
    var usage: Usage?
    var sawFinish = false
    var ended = false

    /// The closing delta and `.done`, once.
    mutating func close() -> [StreamEvent] {
        guard !ended else { return [] }
        ended = true
        return [.delta(ChatDelta(finishReason: finish ?? .stop, usage: usage)), .done]
    }

    /// At the end of the body: complete if the provider said why it stopped, else cut.
    mutating func finishBody() -> [StreamEvent] {
        guard !ended else { return [] }
        if sawFinish { return close() }
        ended = true
        return [.failure(ProviderFailure(.connection, message: "the stream ended before the answer was complete"))]
    }
}
