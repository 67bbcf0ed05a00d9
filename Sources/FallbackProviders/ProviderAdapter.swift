import FallbackCore
import FallbackRPC
import NIOCore
import NIOHTTP1

/// One configured provider: turns a ``ProviderRequest`` into a call and classifies the outcome.
public protocol ProviderAdapter: Sendable {
    var settings: ProviderSettings { get }
    /// Must return by `request.deadline` (`.timeout`) and never throw; failures are classified.
    func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure>
    /// The same call streamed: deltas go to `receiver` as the provider sends them.
    func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure>
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

/// The part of an HTTP adapter that is not about its wire format: deadline, sending, error handling.
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

    /// The first-token and idle timeouts of `request`'s model (the provider's when the model sets none;
    /// a reasoning model thinks before its first token, so it gets none unless configured).
    static func timeouts(for request: ProviderRequest, settings: ProviderSettings, streaming: Bool) -> ExchangeDelegate.Timeouts {
        let firstToken = request.model.firstTokenTimeoutMs ?? (request.model.reasoning ? nil : settings.firstTokenTimeoutMs)
        let idle = request.model.idleTimeoutMs ?? settings.idleTimeoutMs
        return ExchangeDelegate.Timeouts(
            firstToken: streaming ? firstToken.map { .milliseconds($0) } : nil, idle: idle.map { .milliseconds($0) })
    }

    /// Streams `call` through `decoder` to `receiver`; an error status is classified like a reply,
    /// a finished stream is judged like a parsed reply (empty: truncated, filtered or bad).
    func stream(
        _ request: ProviderRequest, call: ProviderHTTPRequest, decoder: any StreamDecoder, receiver: any DeltaReceiver,
        ignored: [String]
    ) async -> Result<ProviderResponse, ProviderFailure> {
        let now = clock.now()
        let deadline = Self.deadline(for: request, settings: settings, now: now)
        guard deadline > now else {
            return .failure(ProviderFailure(.timeout, message: "deadline passed before sending"))
        }
        var headers = call.headers
        headers.replaceOrAdd(name: "accept", value: "text/event-stream")
        let body = call.body.withSerializedBytes { ByteBuffer(bytes: $0) }
        let outcome = await transport.send(
            url: call.url, headers: headers, body: body, deadline: deadline, clock: clock,
            connectTimeoutMs: settings.connectTimeoutMs, maxConnections: settings.maxConnections,
            mode: .stream(decoder: decoder, receiver: receiver),
            timeouts: Self.timeouts(for: request, settings: settings, streaming: true))
        let apiKey = settings.apiKey
        switch outcome {
        case .success(.reply(let reply)):
            return .failure(ProviderErrorClassifier.classify(reply, apiKey: apiKey, nowUnixMillis: clock.now().unixMillis))
        case .success(.streamed(let response, _)):
            let reply = HTTPReply(status: response.httpStatus ?? 200, body: ByteBuffer())
            let parsed = ParsedReply(message: response.message, finish: response.finishReason, providerFinish: response.providerFinishReason)
            return parsed.result(reply: reply, usage: response.usage, apiKey: apiKey, ignored: ignored).map { served in
                var served = served
                served.skippedEvents = response.skippedEvents
                return served
            }
        case .failure(var failure):
            failure.message = ProviderText.sanitize(failure.message, apiKey: apiKey)
            return .failure(failure)
        }
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
            connectTimeoutMs: settings.connectTimeoutMs, maxConnections: settings.maxConnections,
            idleTimeoutMs: request.model.idleTimeoutMs ?? settings.idleTimeoutMs)
        switch outcome {
        case .success(let reply):
            return parse(reply, clock.now().unixMillis)
        case .failure(var failure):
            failure.message = ProviderText.sanitize(failure.message, apiKey: settings.apiKey)
            return .failure(failure)
        }
    }
}

/// What a provider's 2xx body says, in fallbackd's terms, before it becomes a result.
struct ParsedReply {
    var message: AssistantMessage
    /// `nil` when the provider gave no reason.
    var finish: FinishReason?
    var providerFinish: String?
    /// A reason the body is unusable even though it parsed (`MALFORMED_FUNCTION_CALL`).
    var malformed: String?

    init(message: AssistantMessage, finish: FinishReason?, providerFinish: String?, malformed: String? = nil) {
        self.message = message
        self.finish = finish
        self.providerFinish = providerFinish
        self.malformed = malformed
    }

    /// The result: a message with something in it serves; an empty one is `truncated` when the
    /// output cap cut it, `content_filter` when it was withheld, `bad_response` otherwise.
    func result(reply: HTTPReply, usage: Usage, apiKey: APIKey?, ignored: [String]) -> Result<ProviderResponse, ProviderFailure> {
        if let malformed { return .failure(ProviderErrorClassifier.badResponse(malformed, reply: reply, apiKey: apiKey, usage: usage)) }
        guard message.isEmpty else {
            let finish = self.finish ?? (message.toolCalls.isEmpty ? .stop : .toolCalls)
            return .success(
                ProviderResponse(
                    message: message, finishReason: finish, providerFinishReason: providerFinish, usage: usage,
                    httpStatus: reply.status, ignoredFields: ignored))
        }
        let why = providerFinish.map { " (finish reason \($0))" } ?? ""
        switch finish {
        case .length:
            return .failure(
                ProviderFailure(.truncated, httpStatus: reply.status, message: "the output cap was reached before any content\(why)", usage: usage))
        case .contentFilter:
            return .failure(
                ProviderFailure(.contentFilter, httpStatus: reply.status, message: "output withheld by the provider\(why)", usage: usage))
        default:
            return .failure(ProviderErrorClassifier.badResponse("response has no content\(why)", reply: reply, apiKey: apiKey, usage: usage))
        }
    }

    /// Every adapter's reply handling: a non-2xx status is classified, a 2xx body must be a JSON
    /// object without an error, and `read` reads the provider's own shape; usage is kept on every outcome.
    static func parse(
        _ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64, ignored: [String] = [],
        read: (JSON) -> Result<ParsedReply, ParsedContentError>
    ) -> Result<ProviderResponse, ProviderFailure> {
        guard (200...299).contains(reply.status) else {
            return .failure(ProviderErrorClassifier.classify(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis))
        }
        switch object(in: reply) {
        case .success(let json):
            let usage = ProviderText.usage(in: json) ?? .zero
            switch read(json) {
            case .success(let parsed): return parsed.result(reply: reply, usage: usage, apiKey: apiKey, ignored: ignored)
            case .failure(let error): return .failure(ProviderErrorClassifier.badResponse(error.why, reply: reply, apiKey: apiKey, usage: usage))
            }
        case .failure(let error):
            return .failure(ProviderErrorClassifier.badResponse(error.why, reply: reply, apiKey: apiKey))
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
struct ParsedContentError: Error {
    var why: String
}
