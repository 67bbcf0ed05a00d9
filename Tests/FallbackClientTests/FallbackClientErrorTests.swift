import FallbackClient
import FallbackRPC
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Error replies and unreachable daemons surface as the right `FallbackClientError`.
@Suite struct FallbackClientErrorTests {
    static let chainFailureData: JSON = [
        "request_id": "r-7", "task": "default", "chain": "default",
        "attempts": [["model": "gpt-4o", "provider": "openai", "outcome": "error", "error_type": "timeout",
                      "http_status": nil, "latency_ms": 30000]],
    ]

    static let errors: [RPCError] = [
        RPCError(code: RPCErrorCode.parseError, message: "parse error: bad"),
        RPCError.invalidRequest("missing method"),
        RPCError.methodNotFound("frobnicate"),
        RPCError.invalidParams(field: "messages[0].role", "must be system, user or assistant"),
        RPCError.internalError("boom"),
        RPCError(code: RPCErrorCode.shuttingDown, message: "shutting down"),
        RPCError(code: RPCErrorCode.allModelsFailed, message: "all models failed", data: chainFailureData),
        RPCError(code: RPCErrorCode.deadlineExceeded, message: "deadline exceeded", data: chainFailureData),
        RPCError(code: RPCErrorCode.allBreakersOpen, message: "all breakers open",
                 data: ["request_id": "r-8", "attempts": [], "route": [], "retry_after_ms": 1500]),
        RPCError(code: RPCErrorCode.overloaded, message: "overloaded",
                 data: ["in_flight": 10000, "max_in_flight": 10000]),
    ]

    @Test(arguments: errors)
    func errorReplySurfacesAsRPC(sent: RPCError) throws {
        let server = try FakeServer { _, _ in .error(sent) }
        defer { server.stop() }
        let client = FallbackClient(socketPath: server.path, timeout: .seconds(5))

        let error = #expect(throws: FallbackClientError.self) { try client.complete("Hi") }
        let received = try #require(error?.rpcError)
        #expect(received.code == sent.code)
        #expect(received.message == sent.message)
        #expect(received.data == sent.data)
        #expect(error?.isAllModelsFailed == (sent.code == RPCErrorCode.allModelsFailed))
        #expect(error?.isDeadlineExceeded == (sent.code == RPCErrorCode.deadlineExceeded))
        #expect(error?.isOverloaded == (sent.code == RPCErrorCode.overloaded))
        #expect(error?.isAllBreakersOpen == (sent.code == RPCErrorCode.allBreakersOpen))
        #expect(error?.retryAfterMs == (sent.code == RPCErrorCode.allBreakersOpen ? 1500 : nil))
        #expect(error?.isShuttingDown == (sent.code == RPCErrorCode.shuttingDown))
        #expect(error?.description.contains(String(sent.code)) == true)

        // An error reply leaves the connection usable.
        #expect(throws: FallbackClientError.self) { try client.ping() }
        #expect(server.connectionCount == 1)
    }

    @Test func chainFailureExposesAttemptsAndRequestID() throws {
        let server = try FakeServer { _, _ in
            .error(RPCError(code: RPCErrorCode.allModelsFailed, message: "all models failed", data: Self.chainFailureData))
        }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: server.path, timeout: .seconds(5)).complete("Hi")
        }
        #expect(error?.requestID == "r-7")
        #expect(error?.attempts == [
            Completion.Attempt(model: "gpt-4o", provider: "openai", outcome: "error", errorType: "timeout",
                               httpStatus: nil, latencyMs: 30000),
        ])
    }

    @Test func invalidParamsNamesTheField() throws {
        let server = try FakeServer { _, _ in .error(.invalidParams(field: "models[1]", "unknown model")) }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: server.path, timeout: .seconds(5)).complete("Hi", models: ["a", "b"])
        }
        #expect(error?.isInvalidParams == true)
        #expect(error?.invalidField == "models[1]")
    }

    @Test func errorWithNullIDConcernsTheRequestJustSent() throws {
        let line = #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request line exceeds 8388608 bytes","data":{"max_line_bytes":8388608}}}"#
        let server = try FakeServer { _, _ in .lines([line]) }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: server.path, timeout: .seconds(5)).ping()
        }
        #expect(error?.code == RPCErrorCode.invalidRequest)
        #expect(error?.rpcError?.data?["max_line_bytes"]?.intValue == 8_388_608)
    }

    @Test func nonJSONReplyIsAProtocolError() throws {
        let server = try FakeServer { _, _ in .lines(["HTTP/1.1 400 Bad Request"]) }
        defer { server.stop() }
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: server.path, timeout: .seconds(5)).ping()
        }
        guard case .protocolError = error else {
            Issue.record("expected .protocolError, got \(String(describing: error))")
            return
        }
    }

    @Test func missingSocketIsUnavailable() {
        let path = "/tmp/fbc-missing-\(getpid()).sock"
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: path, timeout: .seconds(1)).ping()
        }
        guard case .unavailable(let reportedPath, let reason) = error else {
            Issue.record("expected .unavailable, got \(String(describing: error))")
            return
        }
        #expect(reportedPath == path)
        #expect(!reason.isEmpty)
        #expect(error?.isUnavailable == true)
        #expect(error?.description.contains("fallbackd --config") == true)
        #expect(error?.description.contains(path) == true)
    }

    @Test func staleSocketFileIsUnavailable() throws {
        let path = "/tmp/fbc-stale-\(getpid()).sock"
        let fd = try FakeServer.listen(on: path)
        close(fd)  // the file stays, nobody listens: ECONNREFUSED
        defer { unlink(path) }
        let error = #expect(throws: FallbackClientError.self) {
            try FallbackClient(socketPath: path, timeout: .seconds(1)).ping()
        }
        #expect(error?.isUnavailable == true)
    }
}
