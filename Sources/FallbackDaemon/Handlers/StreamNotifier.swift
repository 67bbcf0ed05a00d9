import FallbackCore
import FallbackRPC

/// A streaming request's sink: its deltas and resets go out as `complete.delta` and
/// `complete.reset` notifications on the caller's connection, ahead of the reply.
struct StreamNotifier: StreamSink {
    let context: RPCCallContext

    func delta(_ delta: ChatDelta, model: String) {
        guard let id = context.id else { return }
        context.notify("complete.delta", params: ["id": id, "model": .string(model), "delta": delta.json])
    }

    func reset(model: String, reason: ErrorType) {
        guard let id = context.id else { return }
        context.notify("complete.reset", params: ["id": id, "model": .string(model), "reason": .string(reason.rawValue)])
    }
}
