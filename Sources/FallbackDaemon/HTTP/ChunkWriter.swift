import FallbackCore
import FallbackRPC
import NIOCore

/// Server-sent events for one streamed request, in OpenAI's order: chunks with the role first, the
/// finish reason last, then the usage chunk when `stream_options.include_usage` asks, then `[DONE]`.
struct ChunkWriter: Sendable {
    let request: CompletionRequest
    let created: Int
    let clock: any FallbackClock
    private var sentRole = false
    private var sentFinish = false
    private var lastModel = ""

    init(request: CompletionRequest, created: Int, clock: any FallbackClock) {
        self.request = request
        self.created = created
        self.clock = clock
    }

    mutating func delta(_ delta: ChatDelta, model: String) -> ByteBuffer {
        let chunk = OpenAIShapes.chunk(delta, requestID: request.requestID, model: model, created: created, first: !sentRole)
        sentRole = true
        lastModel = model
        if delta.finishReason != nil { sentFinish = true }
        return Self.event(chunk)
    }

    /// The end of a served stream.
    mutating func finish(_ result: CompletionResult) -> ByteBuffer {
        var buffer = ByteBuffer()
        let model = result.model.name
        if !sentFinish {
            var last = ChatDelta()
            last.finishReason = result.finishReason
            if !sentRole {
                // Served without a single delta (an empty answer): the whole message in one chunk.
                last.content = result.message.content
                last.refusal = result.message.refusal
            }
            buffer.writeImmutableBuffer(delta(last, model: model))
        }
        if request.chat.streamIncludeUsage {
            var usage = OpenAIShapes.usageChunk(result.usage, requestID: request.requestID, model: model, created: created)
            usage["fallbackd"] = FacadeResponses.details(result, clock: clock)
            buffer.writeImmutableBuffer(Self.event(usage))
        }
        buffer.writeString("data: [DONE]\n\n")
        return buffer
    }

    /// The `error` event of a stream that broke after it started.
    func failure(_ error: RPCError) -> ByteBuffer {
        let mapped = OpenAIShapes.httpError(error, nowMillis: clock.now().unixMillis)
        var buffer = ByteBuffer(string: "event: error\n")
        buffer.writeImmutableBuffer(Self.event(mapped.body))
        return buffer
    }

    static func event(_ json: JSON) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        json.withSerializedBytes { buffer.writeBytes($0) }
        buffer.writeString("\n\n")
        return buffer
    }
}
