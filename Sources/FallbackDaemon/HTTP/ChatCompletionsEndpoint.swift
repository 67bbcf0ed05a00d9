import FallbackCore
import FallbackRPC
import Hummingbird

/// `POST /v1/chat/completions`: an OpenAI request body in, through the same routing as `complete`,
/// OpenAI's response (or chunk stream) out.
struct ChatCompletionsEndpoint: Sendable {
    let runtime: RuntimeBox
    let gate: InFlightGate
    let connections: FacadeConnections
    let clock: any FallbackClock

    func respond(_ request: Request, context: FacadeContext) async throws -> Response {
        let current = runtime.current
        let facade = current.config.facade
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: facade.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return FacadeResponses.error(
                status: 413, message: "request body is larger than max_body_bytes (\(facade.maxBodyBytes))", code: "request_too_large")
        }
        let parsed: CompletionRequest
        let connection = connections.connection(for: context.channel)
        switch Self.completionRequest(body, runtime: current, peer: connection.peer.value) {
        case .request(let request): parsed = request
        case .refused(let response): return response
        }
        if let refusal = gate.enter() {
            return FacadeResponses.rpcError(refusal, nowMillis: clock.now().unixMillis)
        }
        if parsed.chat.stream {
            return await ChatCompletionsStream(
                request: parsed, runner: current.runner, pool: current.config.pool, gate: gate, clock: clock
            ).start(on: connection)
        }
        let runner = current.runner
        let outcome = await connection.run { await runner.run(parsed, stream: nil) }
        gate.leave()
        switch outcome {
        case .success(let result):
            var json = OpenAIShapes.completion(ResultEncoding.completion(result, clock: clock), created: Self.created(clock))
            json["fallbackd"] = FacadeResponses.details(result, clock: clock)
            return FacadeResponses.json(json, headers: FacadeResponses.servedHeaders(result))
        case .failure(let error):
            return FacadeResponses.rpcError(error, nowMillis: clock.now().unixMillis, requestID: parsed.requestID)
        }
    }

    /// The body as a routable request, or the 400/404 answer OpenAI would give.
    enum Parsed {
        case request(CompletionRequest)
        case refused(Response)
    }

    static func completionRequest(_ body: ByteBuffer, runtime: DaemonRuntime, peer: RPCPeer?) -> Parsed {
        let json: JSON
        do {
            json = try body.withUnsafeReadableBytes { bytes throws(JSONParseError) in try JSON.parse(bytes) }
        } catch {
            return .refused(FacadeResponses.error(status: 400, message: "the body is not valid JSON: \(error)", code: "invalid_json"))
        }
        guard json.kind == .object else {
            return .refused(FacadeResponses.error(status: 400, message: "the body must be a JSON object", code: "invalid_json"))
        }
        guard let name = json["model"]?.stringValue, !name.isEmpty else {
            return .refused(FacadeResponses.error(status: 400, message: "you must provide a model parameter", param: "model"))
        }
        let pool = runtime.config.pool
        guard let target = FacadeModel.resolve(name, pool: pool, poolModelFallbacks: runtime.config.facade.poolModelFallbacks) else {
            return .refused(FacadeResponses.error(
                status: 404, message: "The model `\(name)` does not exist: name a task, fallbackd/<task>, or a pool model (GET /v1/models lists them)",
                code: "model_not_found", param: "model"))
        }
        let request: CompletionRequest
        do throws(RPCError) {
            request = try runtime.runner.parse(target.params(from: json), peer: peer)
        } catch {
            return .refused(FacadeResponses.rpcError(error, nowMillis: 0))
        }
        if request.chat.stream, request.onInterrupt == .restart {
            return .refused(FacadeResponses.error(
                status: 400, message: "on_interrupt \"restart\" cannot be expressed in OpenAI's chunk stream; use the JSON-RPC socket for it",
                code: "unsupported", param: "on_interrupt"))
        }
        return .request(request)
    }

    static func created(_ clock: any FallbackClock) -> Int { Int(clock.now().unixMillis / 1000) }
}
