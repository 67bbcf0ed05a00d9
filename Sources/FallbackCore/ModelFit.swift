/// Whether a model can take a request at all: the capabilities the request needs, and whether its
/// estimated size fits the model's context window. Computed once per request.
struct ModelFit {
    let needs: [Capability]
    let estimatedInputTokens: Int
    let requestedOutputTokens: Int?

    init(request: ChatRequest) {
        needs = request.requiredCapabilities
        estimatedInputTokens = request.estimatedInputTokens
        requestedOutputTokens = request.maxOutputTokens
    }

    /// The step that passes `model` over, or `nil` when it can take the request.
    func refusal(of model: ModelConfig) -> RouteStep? {
        if let missing = model.missingCapabilities(for: needs).first {
            return RouteStep(model: model, reason: .lacksCapability, capability: missing)
        }
        if !fits(model) { return RouteStep(model: model, reason: .contextTooSmall) }
        return nil
    }

    /// Input plus the output it would be asked for fit the window (always, when the window is unknown).
    func fits(_ model: ModelConfig) -> Bool {
        guard model.contextWindow > 0 else { return true }
        let output = min(requestedOutputTokens ?? model.maxTokens, model.maxTokens)
        // Only the caller's own cap is held against the window; the model's default cap is clipped by the provider.
        let needed = estimatedInputTokens + (requestedOutputTokens == nil ? 0 : output)
        return needed <= model.contextWindow
    }
}
