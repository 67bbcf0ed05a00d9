import FallbackCore
import FallbackRPC

/// What the `model` of an OpenAI request names: a task (its chain runs), `fallbackd/<task>`, or a
/// pool model (that model first, then the rest of the default chain unless fallbacks are off).
enum FacadeModel: Equatable {
    case task(String)
    case models([String])

    /// Resolves `name`; `nil` names nothing fallbackd knows (404 `model_not_found`).
    static func resolve(_ name: String, pool: ModelPool, poolModelFallbacks: Bool) -> FacadeModel? {
        let task = name.hasPrefix("fallbackd/") ? String(name.dropFirst("fallbackd/".count)) : name
        if pool.chains[task] != nil { return .task(task) }
        if name.hasPrefix("fallbackd/") { return nil }
        guard pool.models[name] != nil else { return nil }
        guard poolModelFallbacks else { return .models([name]) }
        let rest = (pool.chains[ModelPool.defaultChain] ?? []).filter { $0 != name }
        return .models([name] + rest)
    }

    /// The `complete` params for an OpenAI request body: the body as it came, with `model` replaced
    /// by fallbackd's routing (`task` or `models`).
    func params(from body: JSON) -> JSON {
        var params = body
        params["model"] = nil
        switch self {
        case .task(let task): params["task"] = .string(task)
        case .models(let names): params["models"] = .array(names.map { .string($0) })
        }
        return params
    }
}

/// `GET /v1/models`: every chain (as `fallbackd/<task>` and its bare name) and every pool model.
enum FacadeModelList {
    static func json(pool: ModelPool, created: Int) -> JSON {
        var data: [JSON] = []
        for task in pool.chains.keys.sorted() {
            data.append(["id": .string("fallbackd/" + task), "object": "model", "created": .int(created), "owned_by": "fallbackd"])
        }
        for model in pool.modelsByPriority {
            data.append(["id": .string(model.name), "object": "model", "created": .int(created), "owned_by": .string(model.provider)])
        }
        return ["object": "list", "data": .array(data)]
    }
}
