/// The kinds of provider fallbackd can talk to (`[providers.NAME] kind = ...`).
public enum ProviderKind: String, Sendable, Hashable, CaseIterable {
    case openai
    case anthropic
    case gemini
    case openaiCompatible = "openai-compatible"
    case simulated

    /// The base URL used when the config gives none (it includes the API version segment).
    /// `nil` for kinds that have no default: `openai-compatible` requires one, `simulated` needs none.
    public var defaultBaseURL: String? {
        switch self {
        case .openai: "https://api.openai.com/v1"
        case .anthropic: "https://api.anthropic.com/v1"
        case .gemini: "https://generativelanguage.googleapis.com/v1beta"
        case .openaiCompatible, .simulated: nil
        }
    }

    /// Whether the config must supply an API key for this kind.
    public var requiresAPIKey: Bool {
        switch self {
        case .openai, .anthropic, .gemini: true
        case .openaiCompatible, .simulated: false
        }
    }
}

/// An API key. It prints as `<redacted>` everywhere (string interpolation, `print`, `dump`,
/// logging); the raw value is only reachable through ``reveal()``, which adapters call when
/// they build request headers.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String

    /// Wraps a raw key. Surrounding whitespace (a trailing newline from a key file) is dropped.
    public init(_ value: String) {
        self.value = Self.trimmed(value)
    }

    /// The raw key, for request headers only. Never log or interpolate the result.
    public func reveal() -> String { value }

    /// Whether the key is empty after trimming.
    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    private static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
            let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }
}

/// Everything an adapter needs to know about one `[providers.NAME]` entry.
/// The daemon's config loader fills it (including reading the key from the environment or a file).
public struct ProviderSettings: Sendable {
    /// The `NAME` of `[providers.NAME]`; models refer to it.
    public var name: String
    public var kind: ProviderKind
    /// Base URL including the API version segment, without a trailing slash.
    public var baseURL: String
    /// `nil` for `simulated`, and for `openai-compatible` servers that need no key.
    public var apiKey: APIKey?
    /// Connect timeout of the HTTP client profile this provider uses.
    public var connectTimeoutMs: Int64
    /// Per-attempt timeout, used when the model sets none.
    public var timeoutMs: Int64
    /// The `anthropic-version` header (Anthropic only).
    public var anthropicVersion: String
    /// OpenAI-style providers: the header that carries the key. `nil` sends `Authorization: Bearer KEY`;
    /// a name (Azure's `api-key`) sends the bare key in that header.
    public var authHeader: String?
    /// OpenAI-style providers: a query string added to every request URL (Azure's `api-version=...`).
    public var query: String?
    /// The behaviour of a `simulated` provider; `nil` uses ``SimulationSettings/init()``'s defaults.
    public var simulation: SimulationSettings?
    /// Streaming: the longest wait for the first answer delta (`nil`: only the attempt timeout).
    public var firstTokenTimeoutMs: Int64? = ProviderSettings.defaultFirstTokenTimeoutMs
    /// The longest silence inside a response body or stream once it has started.
    public var idleTimeoutMs: Int64? = ProviderSettings.defaultIdleTimeoutMs

    /// Open HTTP/1.1 connections to this provider at most (per connect timeout); requests beyond wait
    /// for one. 0: no hard cap (the transport's soft default, ``HTTPTransport/defaultMaxConnectionsPerHost``).
    public var maxConnections = 0

    public static let defaultConnectTimeoutMs: Int64 = 5_000
    public static let defaultTimeoutMs: Int64 = 30_000
    public static let defaultAnthropicVersion = "2023-06-01"
    public static let defaultFirstTokenTimeoutMs: Int64 = 20_000
    public static let defaultIdleTimeoutMs: Int64 = 20_000

    /// Builds settings; `baseURL` `nil` takes the kind's default (empty when the kind has none).
    public init(
        name: String, kind: ProviderKind, baseURL: String? = nil, apiKey: APIKey? = nil,
        connectTimeoutMs: Int64 = ProviderSettings.defaultConnectTimeoutMs,
        timeoutMs: Int64 = ProviderSettings.defaultTimeoutMs,
        anthropicVersion: String = ProviderSettings.defaultAnthropicVersion,
        simulation: SimulationSettings? = nil
    ) {
        self.name = name
        self.kind = kind
        var base = baseURL ?? kind.defaultBaseURL ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.anthropicVersion = anthropicVersion
        self.authHeader = nil
        self.query = nil
        self.simulation = simulation
    }
}
