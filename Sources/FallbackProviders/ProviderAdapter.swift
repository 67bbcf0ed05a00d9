import FallbackCore
import FallbackRPC
import NIOCore
import NIOHTTP1

/// One configured provider: turns a ``ProviderRequest`` into a call and classifies the outcome.
public protocol ProviderAdapter: Sendable {
    var settings: ProviderSettings { get }
    /// Must return by `request.deadline` (`.timeout`) and never throw; failures are classified.
    func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure>
}

/// An HTTP call an adapter wants made: built by pure functions so tests can inspect it.
public struct ProviderHTTPRequest: Sendable {
    public var url: String
    public var headers: HTTPHeaders
    public var body: JSON

    public init(url: String, headers: HTTPHeaders, body: JSON) {
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Headers every adapter sends.
    static func baseHeaders() -> HTTPHeaders {
        HTTPHeaders([
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("user-agent", "fallbackd/0.1.0"),
        ])
    }
}

/// The part of an HTTP adapter that is not about its wire format: deadline, sending, dispatch.
/// How one provider's API looks on the wire: the request it takes and how its reply reads.
/// Adapters conform; the shared exchange does the deadline, the transport and the error handling.
protocol WireFormat {
    static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest
    static func parseResponse(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64)
        -> Result<ProviderResponse, ProviderFailure>
}

struct HTTPExchange: Sendable {
    let settings: ProviderSettings
    let transport: HTTPTransport
    let clock: any FallbackClock

    /// The attempt's deadline: the router's, tightened by the model's or provider's timeout.
    static func deadline(for request: ProviderRequest, settings: ProviderSettings, now: Moment) -> Moment {
        let timeout = request.model.timeoutMs ?? settings.timeoutMs
        guard timeout > 0 else { return request.deadline }
        return min(request.deadline, now.adding(millis: timeout))
    }

    /// One call in `format`'s wire shape.
    func run<Format: WireFormat>(_ request: ProviderRequest, format: Format.Type) async -> Result<ProviderResponse, ProviderFailure> {
        let settings = settings
        return await run(
            request, build: { Format.makeRequest($0, settings: settings) },
            parse: { Format.parseResponse($0, apiKey: settings.apiKey, nowUnixMillis: $1) })
    }

    /// Sends `call` and hands a reply to `parse`; transport failures are returned as they are.
    func run(
        _ request: ProviderRequest, build: (ProviderRequest) -> ProviderHTTPRequest,
        parse: (HTTPReply, Int64) -> Result<ProviderResponse, ProviderFailure>
    ) async -> Result<ProviderResponse, ProviderFailure> {
        let now = clock.now()
        let deadline = Self.deadline(for: request, settings: settings, now: now)
        guard deadline > now else {
            return .failure(ProviderFailure(.timeout, message: "deadline passed before sending"))
        }
        let call = build(request)
        let body = call.body.withSerializedBytes { ByteBuffer(bytes: $0) }
        let outcome = await transport.post(
            url: call.url, headers: call.headers, body: body, deadline: deadline, clock: clock,
            connectTimeoutMs: settings.connectTimeoutMs)
        switch outcome {
        case .success(let reply):
            return parse(reply, clock.now().unixMillis)
        case .failure(var failure):
            failure.message = ProviderText.sanitize(failure.message, apiKey: settings.apiKey)
            return .failure(failure)
        }
    }
}

/// The outcome of reading a 2xx body: either content or a reason it has none.
enum ParsedContent {
    case content(String, finishReason: String?)
    case filtered(String)
    case bad(String)
}

extension ParsedContent {
    /// Turns a parsed 2xx body into the adapter result.
    func result(reply: HTTPReply, usage: Usage, apiKey: APIKey?) -> Result<ProviderResponse, ProviderFailure> {
        switch self {
        case .content(let text, let finish):
            return .success(ProviderResponse(content: text, usage: usage, httpStatus: reply.status, finishReason: finish))
        case .filtered(let why):
            return .failure(
                ProviderFailure(
                    .contentFilter, httpStatus: reply.status, message: ProviderText.sanitize(why, apiKey: apiKey),
                    usage: usage))
        case .bad(let why):
            return .failure(ProviderErrorClassifier.badResponse(why, reply: reply, apiKey: apiKey, usage: usage))
        }
    }

    /// Shared 2xx pre-checks: the body must be a JSON object without an `error` member.
    static func object(in reply: HTTPReply) -> Result<JSON, ParsedContentError> {
        guard let json = ProviderText.parseJSON(reply.body) else { return .failure(.init(why: "response is not JSON")) }
        guard json.kind == .object else { return .failure(.init(why: "response is not a JSON object")) }
        if let error = json["error"], !error.isNull {
            let details = ProviderErrorClassifier.errorDetails(in: json)
            return .failure(.init(why: "error body with 2xx status: " + (details.message ?? "no message")))
        }
        if json["type"]?.stringValue == "error" {
            return .failure(.init(why: "error body with 2xx status"))
        }
        return .success(json)
    }
}

/// Why a 2xx body was unusable.
extension ParsedContent {
    /// Every adapter's reply handling: a non-2xx status is classified, a 2xx body must be a JSON
    /// object, and `content` reads the provider's own shape; usage is kept on every outcome.
    static func parse(
        _ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64, content: (JSON) -> ParsedContent
    ) -> Result<ProviderResponse, ProviderFailure> {
        guard (200...299).contains(reply.status) else {
            return .failure(ProviderErrorClassifier.classify(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis))
        }
        switch object(in: reply) {
        case .success(let json):
            let usage = ProviderText.usage(in: json) ?? .zero
            return content(json).result(reply: reply, usage: usage, apiKey: apiKey)
        case .failure(let error):
            return ParsedContent.bad(error.why).result(reply: reply, usage: .zero, apiKey: apiKey)
        }
    }
}

struct ParsedContentError: Error {
    var why: String
}
