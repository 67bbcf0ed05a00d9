import FallbackCore
import FallbackRPC

/// `complete` params to a routable request: the wire decoding, then the checks that need the pool.
enum CompleteRequest {
    static func parse(_ params: JSON?, pool: ModelPool, requestID: String) throws(RPCError) -> CompletionRequest {
        let decoded: CompleteParams
        do {
            decoded = try CompleteParams(decoding: params)
        } catch {
            throw RPCError(error)
        }
        if let models = decoded.models {
            for (index, name) in models.enumerated() where pool.models[name] == nil {
                throw .invalidParams(field: "models[\(index)]", "unknown model '\(name)'; see the `models` method")
            }
        }
        var request = CompletionRequest(requestID: requestID, chat: decoded.chat)
        if let task = decoded.task { request.task = task }
        request.models = decoded.models
        if let timeout = decoded.timeoutMs { request.timeoutMs = Int64(timeout) }
        request.metadataJSON = decoded.metadata?.serialized
        request.shadow = decoded.shadow
        if decoded.onInterrupt == "restart" { request.onInterrupt = .restart }
        return request
    }
}
