import FallbackCore
import FallbackRPC
import NIOCore

/// Text and JSON helpers every adapter shares.
enum ProviderText {
    /// The longest failure message kept, in characters.
    static let maxMessageLength = 300

    /// A failure message fit to log and return: the key (if it appears) replaced by `<redacted>`,
    /// whitespace runs collapsed to one space, and clipped to ``maxMessageLength`` characters.
    /// Redaction happens before clipping, so a clipped message cannot keep part of a key.
    static func sanitize(_ text: String, apiKey: APIKey?) -> String {
        var text = text
        if let key = apiKey?.reveal(), !key.isEmpty, text.contains(key) {
            text = text.replacing(key, with: "<redacted>")
        }
        // Collapse whitespace, stopping as soon as the result is known to be too long.
        var out = ""
        var length = 0
        var pendingSpace = false
        for character in text {
            if character.isWhitespace || character.isNewline {
                pendingSpace = length > 0
                continue
            }
            if pendingSpace {
                out.append(" ")
                length += 1
                pendingSpace = false
            }
            out.append(character)
            length += 1
            if length > maxMessageLength { break }
        }
        guard length > maxMessageLength else { return out }
        return String(out.prefix(maxMessageLength - 1)) + "…"
    }

    /// Parses a body with jansson; `nil` when it is not JSON.
    static func parseJSON(_ body: ByteBuffer) -> JSON? {
        body.withUnsafeReadableBytes { raw in
            do {
                return try JSON.parse(raw)
            } catch {
                return nil
            }
        }
    }

    /// Token usage in any of the three wire shapes, normalised: input counts every input token
    /// (cached and cache-written included), output every output token (reasoning included).
    /// OpenAI: `usage.prompt_tokens` (+ `prompt_tokens_details.cached_tokens`), `completion_tokens`
    /// (+ `completion_tokens_details.reasoning_tokens`). Anthropic: `usage.input_tokens` excludes the
    /// cache's `cache_read_input_tokens` and `cache_creation_input_tokens`, which are added. Gemini:
    /// `usageMetadata` with `thoughtsTokenCount` outside `candidatesTokenCount`. `nil` when absent.
    static func usage(in json: JSON) -> Usage? {
        if let usage = json["usage"], usage.kind == .object {
            let prompt = usage["prompt_tokens"]?.intValue
            let completion = usage["completion_tokens"]?.intValue
            if prompt != nil || completion != nil {
                return Usage(
                    inputTokens: max(0, prompt ?? 0), outputTokens: max(0, completion ?? 0),
                    cachedInputTokens: max(0, usage["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0),
                    reasoningTokens: max(0, usage["completion_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0))
            }
            let input = usage["input_tokens"]?.intValue
            let output = usage["output_tokens"]?.intValue
            if input != nil || output != nil {
                let read = max(0, usage["cache_read_input_tokens"]?.intValue ?? 0)
                let written = max(0, usage["cache_creation_input_tokens"]?.intValue ?? 0)
                return Usage(
                    inputTokens: max(0, input ?? 0) + read + written, outputTokens: max(0, output ?? 0),
                    cachedInputTokens: read, cacheWriteTokens: written)
            }
        }
        if let meta = json["usageMetadata"], meta.kind == .object {
            let thoughts = max(0, meta["thoughtsTokenCount"]?.intValue ?? 0)
            return Usage(
                inputTokens: max(0, meta["promptTokenCount"]?.intValue ?? 0),
                outputTokens: max(0, meta["candidatesTokenCount"]?.intValue ?? 0) + thoughts,
                cachedInputTokens: max(0, meta["cachedContentTokenCount"]?.intValue ?? 0), reasoningTokens: thoughts)
        }
        return nil
    }

    /// A non-JSON body (an HTML error page, say) as message text. The whole body is decoded so
    /// ``sanitize(_:apiKey:)`` can redact before clipping; bodies over 64 KiB are only described.
    static func snippet(_ body: ByteBuffer) -> String {
        guard body.readableBytes <= 65_536 else { return "non-JSON body of \(body.readableBytes) bytes" }
        return String(buffer: body)
    }
}
