import FallbackCore
import FallbackRPC
import NIOHTTP1

/// Google Gemini (`POST {base}/models/{model_id}:generateContent`). The key goes in the
/// `x-goog-api-key` header, never in the URL. Assistant turns become role `model`;
/// system messages become `systemInstruction`.
public struct GeminiAdapter: ProviderAdapter, WireFormat {
    public let settings: ProviderSettings
    private let exchange: HTTPExchange

    /// Finish reasons that mean the output was blocked.
    static let blockingFinishReasons: Set<String> = [
        "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY",
    ]

    public init(settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock) {
        self.settings = settings
        self.exchange = HTTPExchange(settings: settings, transport: transport, clock: clock)
    }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        await exchange.run(request, format: Self.self)
    }

    /// The HTTP call: `{contents, systemInstruction?, generationConfig: {maxOutputTokens, temperature}}`.
    public static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest {
        var headers = ProviderHTTPRequest.baseHeaders()
        if let key = settings.apiKey {
            headers.add(name: "x-goog-api-key", value: key.reveal())
        }
        var system = JSON.emptyArray
        var contents = JSON.emptyArray
        for message in request.messages {
            let parts: JSON = [["text": .string(message.content)]]
            switch message.role {
            case .system: system.append(["text": .string(message.content)])
            case .user: contents.append(["role": "user", "parts": parts])
            case .assistant: contents.append(["role": "model", "parts": parts])
            }
        }
        var body: JSON = ["contents": contents]
        if system.count > 0 { body["systemInstruction"] = ["parts": system] }
        body["generationConfig"] = [
            "maxOutputTokens": .int(request.maxTokens),
            "temperature": .double(request.temperature),
        ]
        let url = settings.baseURL + "/models/" + pathSegment(request.model.modelID) + ":generateContent"
        return ProviderHTTPRequest(url: url, headers: headers, body: body)
    }

    /// Reads a reply: `candidates[0].content.parts[].text` joined and `usageMetadata`; a
    /// `promptFeedback.blockReason` or a blocking `finishReason` without text is `content_filter`.
    public static func parseResponse(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64)
        -> Result<ProviderResponse, ProviderFailure>
    {
        ParsedContent.parse(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis, content: content(of:))
    }

    static func content(of json: JSON) -> ParsedContent {
        let candidate = json["candidates"]?[0]
        let finish = candidate?["finishReason"]?.stringValue
        var texts: [String] = []
        for part in candidate?["content"]?["parts"]?.arrayValue ?? [] where part["thought"]?.boolValue != true {
            if let text = part["text"]?.stringValue { texts.append(text) }
        }
        let text = texts.joined()
        if text.isEmpty {
            if let reason = json["promptFeedback"]?["blockReason"]?.stringValue {
                return .filtered("prompt blocked (blockReason \(reason))")
            }
            if let finish, blockingFinishReasons.contains(finish) {
                return .filtered("output blocked (finishReason \(finish))")
            }
        }
        guard let candidate, candidate.kind == .object else { return .bad("response has no candidates") }
        guard !texts.isEmpty else { return .bad("response has no text (finishReason \(finish ?? "none"))") }
        return .content(text, finishReason: finish)
    }

    /// The model id as one URL path segment (`models/` prefix dropped, unsafe bytes percent-encoded).
    static func pathSegment(_ modelID: String) -> String {
        let id = modelID.hasPrefix("models/") ? String(modelID.dropFirst("models/".count)) : modelID
        var out = ""
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
