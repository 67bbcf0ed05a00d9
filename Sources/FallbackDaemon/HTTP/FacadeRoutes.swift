import FallbackCore
import FallbackRPC
import FallbackStore
import Hummingbird
import NIOCore

/// The HTTP endpoints: OpenAI's `/v1/chat/completions` and `/v1/models`, probes, and `/metrics`.
struct FacadeRoutes: Sendable {
    let runtime: RuntimeBox
    let chat: ChatCompletionsEndpoint
    let breakers: BreakerBoard
    let callLog: CallLog
    let metrics: DaemonMetrics
    let clock: any FallbackClock
    let startedAt: Int
    /// Reads the state `/metrics` reports as gauges.
    let scrape: @Sendable () -> DaemonMetrics.Snapshot

    func router() -> Hummingbird.Router<FacadeContext> {
        let router = Hummingbird.Router(context: FacadeContext.self)
        router.add(middleware: BearerAuth(runtime: runtime))
        router.get("/healthz") { _, _ in FacadeResponses.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in readiness() }
        router.get("/metrics") { _, _ in
            FacadeResponses.text(metrics.exposition(scrape()), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/v1/models") { _, _ in
            FacadeResponses.json(FacadeModelList.json(pool: runtime.current.config.pool, created: startedAt))
        }
        router.post("/v1/chat/completions") { request, context in try await chat.respond(request, context: context) }
        return router
    }

    /// Ready when the call log is taking writes and at least one model of the default chain may be called.
    func readiness() -> Response {
        let state = ReadinessCheck.evaluate(pool: runtime.current.config.pool, breakers: breakers, callLog: callLog, at: clock.now())
        return FacadeResponses.json(state.json, status: state.ready ? .ok : .serviceUnavailable)
    }
}

/// On TCP, when a token is configured, every path but the probes needs `Authorization: Bearer <token>`.
/// The Unix socket is guarded by its file mode instead.
struct BearerAuth: RouterMiddleware {
    typealias Context = FacadeContext
    let runtime: RuntimeBox

    func handle(_ request: Request, context: FacadeContext, next: (Request, FacadeContext) async throws -> Response) async throws -> Response {
        guard let token = runtime.current.config.facade.token, Self.isTCP(context.channel),
            request.uri.path != "/healthz", request.uri.path != "/readyz"
        else {
            return try await next(request, context)
        }
        let sent = request.headers[.authorization] ?? ""
        guard Self.constantTimeEqual(sent, "Bearer " + token.reveal()) else {
            return FacadeResponses.error(
                status: 401, message: "missing or wrong bearer token (Authorization: Bearer ...)", code: "invalid_api_key")
        }
        return try await next(request, context)
    }

    static func isTCP(_ channel: any Channel) -> Bool {
        switch channel.localAddress {
        case .v4, .v6: true
        default: false
        }
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

/// The responder the routes build (the facade server's generic parameter).
typealias FacadeResponder = Hummingbird.RouterResponder<FacadeContext>
