/// A function the model may call (`{"type":"function","function":{...}}`).
public struct ToolDefinition: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The JSON Schema of the arguments.
    public var parameters: JSON?
    /// OpenAI's strict schema adherence.
    public var strict: Bool?

    public init(name: String, description: String? = nil, parameters: JSON? = nil, strict: Bool? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.strict = strict
    }
}

/// Whether and which tool the model must call.
public enum ToolChoice: Sendable, Hashable {
    case none, auto
    /// Some tool must be called (Anthropic's `any`, Gemini's `ANY`).
    case required
    /// This function must be called.
    case function(String)
}

/// The shape the answer must take.
public enum ResponseFormat: Sendable, Equatable {
    case text
    /// Any JSON object.
    case jsonObject
    /// JSON matching `schema`.
    case jsonSchema(JSONSchemaFormat)
}

/// `response_format: {"type":"json_schema","json_schema":{...}}`.
public struct JSONSchemaFormat: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var schema: JSON?
    public var strict: Bool?

    public init(name: String, description: String? = nil, schema: JSON? = nil, strict: Bool? = nil) {
        self.name = name
        self.description = description
        self.schema = schema
        self.strict = strict
    }
}

/// A chat request in OpenAI's Chat Completions schema, the lingua franca every provider
/// translation starts from. Fields not in the schema are kept in `extra`, as sent.
public struct ChatRequest: Sendable {
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition] = []
    public var toolChoice: ToolChoice?
    public var parallelToolCalls: Bool?
    public var responseFormat: ResponseFormat?
    /// `max_completion_tokens`, or the older `max_tokens`.
    public var maxOutputTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String] = []
    public var seed: Int?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    /// Token id (as a string) to bias.
    public var logitBias: JSON?
    public var user: String?
    /// `minimal`, `low`, `medium`, `high`.
    public var reasoningEffort: String?
    public var stream = false
    /// `stream_options.include_usage`.
    public var streamIncludeUsage = false
    /// Members outside the schema, in request order: they go through untouched to OpenAI-family
    /// targets and are reported as ignored when another kind serves.
    public var extra: [(key: String, value: JSON)] = []
    /// The request object as received minus fallbackd's own fields and `model`; `nil` for a
    /// request built in code. Changing a typed field does not change it: see ``body``.
    public var received: JSON?

    public init(messages: [ChatMessage], received: JSON? = nil) {
        self.messages = messages
        self.received = received
    }

    /// What OpenAI-family targets are sent (before the model and the output cap are rewritten):
    /// the request as received, member for member, or the typed fields encoded when it was built in code.
    public var body: JSON { received ?? openAIBody() }

    /// A plain text conversation (the seed's shape).
    public static func text(_ messages: [(ChatRole, String)], maxOutputTokens: Int? = nil, temperature: Double? = nil)
        -> ChatRequest
    {
        var request = ChatRequest(messages: messages.map { ChatMessage(role: $0.0, text: $0.1) })
        request.maxOutputTokens = maxOutputTokens
        request.temperature = temperature
        return request
    }
}
