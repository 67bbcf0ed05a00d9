import FallbackCore
import FallbackRPC

/// Names callers and applies their `[apps.NAME]` rules.
struct AppRules: Sendable {
    let config: AppsConfig

    init(_ config: AppsConfig) {
        self.config = config
    }

    /// The caller's app name: its rule's name, else its executable, else `uid-N`; `nil` with no peer.
    func name(for peer: RPCPeer?) -> String? {
        guard let peer else { return nil }
        if let rule = rule(for: peer) { return rule.name }
        if let executable = peer.executable, !executable.isEmpty { return executable }
        return "uid-\(peer.uid)"
    }

    func rule(for peer: RPCPeer) -> AppRule? {
        config.rules.first { $0.matches(uid: peer.uid, executable: peer.executable) }
    }

    func rule(named app: String?) -> AppRule? {
        guard let app else { return nil }
        return config.rules.first { $0.name == app }
    }

    /// Why `app` may not run `request`, or `nil` when it may.
    func refusal(app: String?, request: CompletionRequest) -> RPCError? {
        guard let rule = rule(named: app), let tasks = rule.tasks else { return nil }
        let asked = request.models != nil ? "explicit" : request.task
        guard !tasks.contains(asked) else { return nil }
        let what = request.models != nil ? "an explicit models list" : "task '\(request.task)'"
        return RPCError(
            code: RPCErrorCode.forbidden,
            message: "app \(rule.name) may not use \(what); its [apps.\(rule.name)] rule allows: \(tasks.joined(separator: ", "))",
            data: ["app": .string(rule.name), "task": .string(asked), "allowed_tasks": .array(tasks.map { .string($0) })])
    }
}
