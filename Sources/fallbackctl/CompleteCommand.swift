import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl complete "prompt"`: runs one completion and shows who answered and how.
struct CompleteCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete",
        abstract: "Run a completion through a fallback chain.",
        discussion: """
            Prints the answer, then which model served it, after how many fallbacks, latency and \
            cost, then what the chain's primary would have cost for the same tokens and the difference, \
            then every attempt, then the route: every model of the chain in planned order with \
            why it had its place or was skipped. With --json, prints the raw result JSON instead.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The prompt, sent as a user message.")
    var prompt: String

    @Option(help: "The task whose chain runs (unknown tasks run the default chain).")
    var task: String?

    @Option(
        name: .customLong("model"), parsing: .singleValue,
        help: ArgumentHelp("A pool model for an explicit chain; repeat for fallbacks, in order.", valueName: "NAME")
    )
    var models: [String] = []

    @Option(help: "Output token cap (clipped to each model's max_tokens).")
    var maxTokens: Int?

    @Option(help: "Sampling temperature, 0 to 2.")
    var temperature: Double?

    @Option(help: "Overall deadline for all attempts, in milliseconds.")
    var timeoutMs: Int?

    @Option(help: "A system message sent before the prompt.")
    var system: String?

    @Option(help: ArgumentHelp("A JSON object kept in the daemon's call log.", valueName: "JSON"))
    var metadata: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Ask for a shadow call on the backup model (--no-shadow: never); default: the daemon's sampling."
    )
    var shadow: Bool?

    @Flag(help: "Print the raw result JSON instead of the summary.")
    var json = false

    @Flag(help: "Stream: print the answer as it arrives, then the summary.")
    var stream = false

    @Flag(help: "Streaming: when the answer breaks after it started, start again on the next model.")
    var restart = false

    func validate() throws {
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if let timeoutMs, timeoutMs < 1 || timeoutMs > 86_400_000 {
            throw ValidationError("--timeout-ms must be between 1 and 86400000")
        }
        if let temperature, !(0...2).contains(temperature) {
            throw ValidationError("--temperature must be between 0 and 2")
        }
        _ = try parsedMetadata()
    }

    func run(with client: FallbackClient) throws(FallbackClientError) {
        var chat = ChatRequest(messages: ChatMessage.conversation(prompt: prompt, system: system))
        chat.maxOutputTokens = maxTokens
        chat.temperature = temperature
        let params = CompleteParams(
            chat: chat, task: task, models: models.isEmpty ? nil : models, timeoutMs: timeoutMs,
            metadata: (try? parsedMetadata()).flatMap { $0 }, shadow: shadow, onInterrupt: restart ? "restart" : nil)
        let completion: Completion
        if stream {
            completion = try client.stream(params) { event in
                switch event {
                case .delta(let delta, _):
                    if let text = delta.content { Output.stream(text) }
                case .reset(let model, let reason):
                    Output.stream("\n[\(model) broke off (\(reason)); starting again on the next model]\n")
                case .completed:
                    break
                }
            }
            Output.stream("\n")
        } else {
            completion = try client.complete(params)
        }
        if json {
            print((completion.raw ?? completion.json).serialized)
            return
        }
        if !stream, let content = completion.content { print(content) }
        for call in completion.toolCalls { print("tool call \(call.id): \(call.name)(\(call.arguments))") }
        if let refusal = completion.refusal { print("refused: \(refusal)") }
        print(completion.summary)
        if let comparison = completion.costComparison { print(comparison) }
        Output.attemptTable(completion.attempts).print()
        if !completion.route.isEmpty {
            print("route:")
            Output.routeTable(completion.route, indent: "  ", showsHeader: false).print()
        }
    }

    /// `--metadata` parsed; `nil` when absent.
    private func parsedMetadata() throws -> JSON? {
        guard let metadata else { return nil }
        let value: JSON
        do {
            value = try JSON.parse(metadata)
        } catch {
            throw ValidationError("--metadata is not valid JSON: \(error)")
        }
        guard value.kind == .object else { throw ValidationError("--metadata must be a JSON object") }
        return value
    }
}
