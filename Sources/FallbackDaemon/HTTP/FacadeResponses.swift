import FallbackCore
import FallbackRPC
import Hummingbird

/// Building HTTP responses from JSON and fallbackd's errors.
enum FacadeResponses {
    static let modelHeader = HTTPFields.Element.Name("x-fallbackd-model")!
    static let fallbacksHeader = HTTPFields.Element.Name("x-fallbackd-fallbacks")!
    static let costHeader = HTTPFields.Element.Name("x-fallbackd-cost-usd")!
    static let requestIDHeader = HTTPFields.Element.Name("x-fallbackd-request-id")!

    static func json(_ body: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var buffer = ByteBuffer()
        body.withSerializedBytes { buffer.writeBytes($0) }
        buffer.writeInteger(UInt8(ascii: "\n"))
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// OpenAI's error object with `status`.
    static func error(
        status: Int, message: String, type: String = "invalid_request_error", code: String? = nil, param: String? = nil
    ) -> Response {
        json(
            OpenAIShapes.error(message: message, type: type, code: code, param: param),
            status: HTTPResponse.Status(code: status))
    }

    /// A JSON-RPC error of `complete` as OpenAI's status and error object, with `Retry-After` when known.
    static func rpcError(_ error: RPCError, nowMillis: Int64, requestID: String? = nil) -> Response {
        let mapped = OpenAIShapes.httpError(error, nowMillis: nowMillis)
        var headers: HTTPFields = [:]
        if let wait = mapped.retryAfterSeconds { headers[.retryAfter] = String(wait) }
        if let requestID { headers[requestIDHeader] = requestID }
        return json(mapped.body, status: HTTPResponse.Status(code: mapped.status), headers: headers)
    }

    /// The `x-fallbackd-*` headers of a served request.
    static func servedHeaders(_ result: CompletionResult) -> HTTPFields {
        [
            modelHeader: result.model.name, fallbacksHeader: String(result.fallbackCount),
            costHeader: String(result.costUSD), requestIDHeader: result.requestID,
        ]
    }

    /// fallbackd's account of a served request, beside OpenAI's members (SDKs keep unknown members).
    static func details(_ result: CompletionResult, clock: any FallbackClock) -> JSON {
        let completion = ResultEncoding.completion(result, clock: clock)
        return [
            "request_id": .string(result.requestID), "task": .string(result.task), "chain": .string(result.chain),
            "model": .string(result.model.name), "provider": .string(result.model.provider),
            "fallback_count": .int(result.fallbackCount), "cost_usd": .double(result.costUSD),
            "latency_ms": .int(Int(result.latencyMs)), "attempts": .array(completion.attempts.map(\.json)),
            "ignored_fields": .array(result.ignoredFields.map { .string($0) }),
        ]
    }
}
