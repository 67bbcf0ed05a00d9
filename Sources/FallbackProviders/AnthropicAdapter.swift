import FallbackCore
import FallbackRPC
import NIOHTTP1

/// Anthropic Messages API (`POST {base}/messages`) with `x-api-key` and `anthropic-version`.
/// System messages go to the top-level `system` field; the rest keep their order.
public struct AnthropicAdapter: ProviderAdapter, WireFormat {
    public let settings: ProviderSettings
    private let exchange: HTTPExchange

    /// Anthropic accepts temperatures in 0...1; higher requested values are clamped.
    public static let maxTemperature = 1.0

    public init(settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock) {
        self.settings = settings
        self.exchange = HTTPExchange(settings: settings, transport: transport, clock: clock)
    }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        await exchange.run(request, format: Self.self)
    }

    /// The HTTP call: `{model, max_tokens, temperature, system?, messages}`.
    /// `system` joins every system message with a blank line and is left out when there are none.
    public static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest {
        var headers = ProviderHTTPRequest.baseHeaders()
        if let key = settings.apiKey {
            headers.add(name: "x-api-key", value: key.reveal())
        }
        headers.add(name: "anthropic-version", value: settings.anthropicVersion)
        var system: [String] = []
        var messages = JSON.emptyArray
        for message in request.messages {
            switch message.role {
            case .system:
                system.append(message.content)
            case .user, .assistant:
                messages.append(["role": .string(message.role.rawValue), "content": .string(message.content)])
            }
        }
        var body: JSON = [
            "model": .string(request.model.modelID),
            "max_tokens": .int(max(1, request.maxTokens)),
            "temperature": .double(min(max(0, request.temperature), maxTemperature)),
        ]
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        body["messages"] = messages
        return ProviderHTTPRequest(url: settings.baseURL + "/messages", headers: headers, body: body)
    }

    /// Reads a reply: the `text` blocks of `content` joined, `usage`, `stop_reason`; errors are classified.
    public static func parseResponse(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64)
        -> Result<ProviderResponse, ProviderFailure>
    {
        ParsedContent.parse(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis, content: content(of:))
    }

    static func content(of json: JSON) -> ParsedContent {
        let stop = json["stop_reason"]?.stringValue
        guard let blocks = json["content"]?.arrayValue else { return .bad("response has no content array") }
        var texts: [String] = []
        for block in blocks where block["type"]?.stringValue == "text" {
            if let text = block["text"]?.stringValue { texts.append(text) }
        }
        if texts.joined().isEmpty, stop == "refusal" {
            return .filtered("model refused (stop_reason refusal)")
        }
        guard !texts.isEmpty else { return .bad("response has no text content") }
        return .content(texts.joined(), finishReason: stop)
    }
}
