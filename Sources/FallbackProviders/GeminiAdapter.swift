import FallbackCore
import FallbackRPC
import NIOHTTP1

/// Google Gemini (`POST {base}/models/{model_id}:generateContent`). The key goes in the
/// `x-goog-api-key` header, never in the URL. Assistant turns become role `model`;
/// system messages become `systemInstruction`.
public struct GeminiAdapter: ProviderAdapter {
    public let settings: ProviderSettings
    private let exchange: HTTPExchange

    public init(settings: ProviderSettings, transport: HTTPTransport, clock: any FallbackClock) {
        self.settings = settings
        self.exchange = HTTPExchange(settings: settings, transport: transport, clock: clock)
    }

    public func complete(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        let settings = settings
        let ignored = GeminiTranslation.ignoredFields(request)
        return await exchange.run(
            request, build: { Self.makeRequest($0, settings: settings) },
            parse: { Self.parseResponse($0, apiKey: settings.apiKey, nowUnixMillis: $1, ignored: ignored) })
    }

    /// The same call on `streamGenerateContent?alt=sse`.
    public func stream(_ request: ProviderRequest, to receiver: any DeltaReceiver) async -> Result<ProviderResponse, ProviderFailure> {
        var call = Self.makeRequest(request, settings: settings)
        call.url = settings.baseURL + "/models/" + Self.pathSegment(request.model.modelID) + ":streamGenerateContent?alt=sse"
        return await exchange.stream(
            request, call: call, decoder: GeminiStreamDecoder(), receiver: receiver,
            ignored: GeminiTranslation.ignoredFields(request))
    }

    /// The HTTP call: the translated body, the key in `x-goog-api-key`.
    public static func makeRequest(_ request: ProviderRequest, settings: ProviderSettings) -> ProviderHTTPRequest {
        var headers = ProviderHTTPRequest.baseHeaders()
        if let key = settings.apiKey {
            headers.add(name: "x-goog-api-key", value: key.reveal())
        }
        let url = settings.baseURL + "/models/" + pathSegment(request.model.modelID) + ":generateContent"
        return ProviderHTTPRequest(url: url, headers: headers, body: GeminiTranslation.body(request))
    }

    /// Reads a reply; a blocked prompt or output is `content_filter`, thinking that used the whole
    /// output cap is `truncated`.
    public static func parseResponse(_ reply: HTTPReply, apiKey: APIKey?, nowUnixMillis: Int64, ignored: [String] = [])
        -> Result<ProviderResponse, ProviderFailure>
    {
        ParsedReply.parse(reply, apiKey: apiKey, nowUnixMillis: nowUnixMillis, ignored: ignored, read: GeminiTranslation.reply(_:))
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
