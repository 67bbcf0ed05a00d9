import FallbackCore
import FallbackRPC
import NIOHTTP1

/// OpenAI Chat Completions (`POST {base}/chat/completions`), also used for `openai-compatible`
/// servers (vLLM, Ollama, Groq, Together, Azure...), where the key is optional: without one no
/// key header is sent. Azure-style deployments set `authHeader` (`api-key`) and `query`
/// (`api-version=...`) with the deployment's URL as the base.
public struct OpenAIAdapter: ProviderAdapter, WireFormat {
    public let settings: ProviderSettings
    private let exchange: HTTPExchange

    public init(settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock) {
        self.settings = settings
        self.exchange = HTTPExchange(settings: settings, transport: transport, clock: clock)
    }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        await exchange.run(request, format: Self.self)
    }

    /// The HTTP call for `request`: `{model, messages, max_tokens, temperature}` with a Bearer key.
    public static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest {
        var headers = ProviderHTTPRequest.baseHeaders()
        if let key = settings.apiKey, !key.isEmpty {
            if let header = settings.authHeader {
                headers.add(name: header, value: key.reveal())
            } else {
                headers.add(name: "authorization", value: "Bearer " + key.reveal())
            }
        }
        var messages = JSON.emptyArray
        for message in request.messages {
            messages.append(["role": .string(message.role.rawValue), "content": .string(message.content)])
        }
        let body: JSON = [
            "model": .string(request.model.modelID),
            "messages": messages,
            "max_tokens": .int(request.maxTokens),
            "temperature": .double(request.temperature),
        ]
        let query = settings.query.map { "?" + $0 } ?? ""
        return ProviderHTTPRequest(url: settings.baseURL + "/chat/completions" + query, headers: headers, body: body)
    }

    /// Reads a reply: `choices[0].message.content`, `usage`, `finish_reason`; errors are classified.
    public static func parseResponse(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64)
        -> Result<ProviderResponse, ProviderFailure>
    {
        ParsedContent.parse(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis, content: content(of:))
    }

    static func content(of json: JSON) -> ParsedContent {
        guard let choice = json["choices"]?[0], choice.kind == .object else { return .bad("response has no choices") }
        let finish = choice["finish_reason"]?.stringValue
        let message = choice["message"]
        let text = message.flatMap(Self.text(of:))
        if text?.isEmpty ?? true {
            if finish == "content_filter" { return .filtered("output blocked by the content filter") }
            if let refusal = message?["refusal"]?.stringValue, !refusal.isEmpty {
                return .filtered("model refused: " + refusal)
            }
        }
        guard let text else { return .bad("response has no message content") }
        return .content(text, finishReason: finish)
    }

    /// `content` as a string, or the text parts of a content array joined.
    private static func text(of message: JSON) -> String? {
        guard let content = message["content"] else { return nil }
        if let text = content.stringValue { return text }
        guard let parts = content.arrayValue else { return nil }
        let texts = parts.compactMap { $0["text"]?.stringValue }
        return texts.isEmpty ? nil : texts.joined()
    }
}
