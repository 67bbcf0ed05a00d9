import FallbackCore

/// Where an image, audio clip or document comes from, as the non-OpenAI APIs want it: inline
/// base64 with a media type, or a URL to fetch.
enum MediaSource: Equatable {
    case inline(mediaType: String, base64: String)
    case url(String)

    /// Reads an `http(s)` URL, a `data:<type>;base64,<data>` URL, or (for documents) bare base64
    /// with `fallbackType`.
    static func parse(_ text: String, fallbackType: String) -> MediaSource {
        guard text.hasPrefix("data:") else {
            if text.hasPrefix("http://") || text.hasPrefix("https://") { return .url(text) }
            return .inline(mediaType: fallbackType, base64: text)
        }
        let rest = text.dropFirst("data:".count)
        guard let comma = rest.firstIndex(of: ",") else { return .inline(mediaType: fallbackType, base64: "") }
        let header = rest[..<comma]
        let data = String(rest[rest.index(after: comma)...])
        let mediaType = header.split(separator: ";").first.map(String.init) ?? fallbackType
        return .inline(mediaType: mediaType.isEmpty ? fallbackType : mediaType, base64: data)
    }

    /// A media type guessed from a URL's extension, for APIs that want one with a URL.
    static func guessType(ofURL url: String, fallback: String) -> String {
        let path = url.split(separator: "?").first.map(String.init) ?? url
        let ext = path.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "pdf": return "application/pdf"
        case "mp3": return "audio/mp3"
        case "wav": return "audio/wav"
        default: return fallback
        }
    }

    /// `input_audio.format` as a media type.
    static func audioType(_ format: String) -> String {
        switch format.lowercased() {
        case "mp3": "audio/mp3"
        case "wav": "audio/wav"
        default: "audio/" + format.lowercased()
        }
    }
}

extension ToolCall {
    /// The arguments as a JSON object for APIs that take objects (Anthropic `input`, Gemini `args`):
    /// the parsed text, or `{}` for empty text, or the text wrapped when it is not an object.
    var argumentsObject: JSON {
        let trimmed = arguments.trimmingSpaces
        if trimmed.isEmpty { return .emptyObject }
        if let parsed = try? JSON.parse(trimmed), parsed.kind == .object { return parsed }
        return ["arguments": .string(arguments)]
    }
}

/// How much thinking a `reasoning_effort` buys on APIs that take a token budget.
enum ThinkingBudget {
    static func tokens(for effort: String) -> Int {
        switch effort {
        case "minimal": 1_024
        case "low": 2_048
        case "medium": 8_192
        default: 16_384
        }
    }
}
