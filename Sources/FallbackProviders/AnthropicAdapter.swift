import FallbackCore
import FallbackRPC
import NIOHTTP1

/// Anthropic Messages API (`POST {base}/messages`) with `x-api-key` and `anthropic-version`.
/// The translation to and from Chat Completions is ``AnthropicTranslation``.
public struct AnthropicAdapter: ProviderAdapter {
    public let settings: ProviderSettings
    private let exchange: HTTPExchange

    public init(settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock) {
        self.settings = settings
        self.exchange = HTTPExchange(settings: settings, transport: transport, clock: clock)
    }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        let settings = settings
        let answerTool = AnthropicTranslation.answerToolName(request.chat)
        let ignored = AnthropicTranslation.ignoredFields(request)
        return await exchange.run(
            request, build: { Self.makeRequest($0, settings: settings) },
            parse: { Self.parseResponse($0, apiKey: settings.apiKey, nowUnixMillis: $1, answerTool: answerTool, ignored: ignored) })
    }

    /// The same call as a stream of Messages events.
    public func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        var call = Self.makeRequest(request, settings: settings)
        call.body["stream"] = true
        return await exchange.stream(
            request, call: call, decoder: AnthropicStreamDecoder(answerTool: AnthropicTranslation.answerToolName(request.chat)),
            receiver: receiver, ignored: AnthropicTranslation.ignoredFields(request))
    }

    /// The HTTP call: the translated body, the key and the API version.
    public static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest {
        var headers = ProviderHTTPRequest.baseHeaders()
        if let key = settings.apiKey {
            headers.add(name: "x-api-key", value: key.reveal())
        }
        headers.add(name: "anthropic-version", value: settings.anthropicVersion)
        return ProviderHTTPRequest(url: settings.baseURL + "/messages", headers: headers, body: AnthropicTranslation.body(request))
    }

    /// Reads a reply; errors are classified.
    public static func parseResponse(
        _ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64, answerTool: String? = nil, ignored: [String] = []
    ) -> Result<ProviderResponse, ProviderFailure> {
        ParsedReply.parse(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis, ignored: ignored) {
            AnthropicTranslation.reply($0, answerTool: answerTool)
        }
    }
}
