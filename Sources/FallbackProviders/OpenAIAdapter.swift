import FallbackCore
import FallbackRPC
import NIOHTTP1

/// OpenAI Chat Completions (`POST {base}/chat/completions`), also used for `openai-compatible`
/// servers (vLLM, Ollama, Groq, Together, Azure...), where the key is optional: without one no
/// key header is sent. Azure-style deployments set `authHeader` (`api-key`) and `query`
/// (`api-version=...`) with the deployment's URL as the base.
public struct OpenAIAdapter: ProviderAdapter {
    public let settings: ProviderSettings
    private let exchange: HTTPExchange

    public init(settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock) {
        self.settings = settings
        self.exchange = HTTPExchange(settings: settings, transport: transport, clock: clock)
    }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        let settings = settings
        let ignored = OpenAITranslation.ignoredFields(request)
        return await exchange.run(
            request, build: { Self.makeRequest($0, settings: settings) },
            parse: { Self.parseResponse($0, apiKey: settings.apiKey, nowUnixMillis: $1, ignored: ignored) })
    }

    /// The same call as a stream of `chat.completion.chunk` events, usage included.
    public func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        var call = Self.makeRequest(request, settings: settings)
        call.body["stream"] = true
        call.body["stream_options"] = ["include_usage": true]
        return await exchange.stream(
            request, call: call, decoder: OpenAIStreamDecoder(), receiver: receiver,
            ignored: OpenAITranslation.ignoredFields(request))
    }

    /// The HTTP call for `request`: the caller's body with the model and output cap rewritten, and the key.
    public static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest {
        var headers = ProviderHTTPRequest.baseHeaders()
        if let key = settings.apiKey, !key.isEmpty {
            if let header = settings.authHeader {
                headers.add(name: header, value: key.reveal())
            } else {
                headers.add(name: "authorization", value: "Bearer " + key.reveal())
            }
        }
        let query = settings.query.map { "?" + $0 } ?? ""
        return ProviderHTTPRequest(
            url: settings.baseURL + "/chat/completions" + query, headers: headers,
            body: OpenAITranslation.body(request, kind: settings.kind))
    }

    /// Reads a reply: `choices[0].message` whole, `usage` with its details, `finish_reason`.
    public static func parseResponse(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64, ignored: [String] = [])
        -> Result<ProviderResponse, ProviderFailure>
    {
        ParsedReply.parse(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis, ignored: ignored, read: OpenAITranslation.reply(_:))
    }
}
