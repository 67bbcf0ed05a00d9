import FallbackCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where a plain-HTTP provider URL points: the pool's endpoint and the request target.
struct LeanTarget: Sendable {
    var endpoint: LeanEndpoint
    /// `Host` header value.
    var hostHeader: String
    /// Path and query, as sent on the request line.
    var uri: String

    /// A target for `url` when it is plain `http://` with a host; `nil` otherwise (https goes to AsyncHTTPClient).
    init?(_ url: URL) {
        guard url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty,
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else { return nil }
        let port = url.port ?? 80
        endpoint = LeanEndpoint(host: host, port: port)
        let named = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == 80 ? named : "\(named):\(port)"
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        uri = components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }
}

extension HTTPTransport {
    /// One exchange with a plain-HTTP provider on fallbackd's own HTTP/1.1 client: a pooled
    /// keep-alive connection (see ``LeanConnectionPool``), the same delegate, timers and errors as
    /// the AsyncHTTPClient path, a fraction of its cost per call.
    func sendLean(
        _ target: LeanTarget, headers: HTTPHeaders, body: ByteBuffer, remainingNanos: Int64, connectTimeoutMs: Int64,
        maxConnections: Int, mode: ExchangeDelegate.Mode, timeouts: ExchangeDelegate.Timeouts
    ) async -> (Result<ExchangeResult, any Error>, delegate: ExchangeDelegate) {
        let loop = currentLoop ?? lean.group.next()
        let delegate = ExchangeDelegate(mode: mode, timeouts: timeouts, maxBodyBytes: Self.maxBodyBytes)
        let exchange = LeanExchange(eventLoop: loop, delegate: delegate)
        delegate.started(exchange)
        let timer = loop.scheduleTask(deadline: .now() + .nanoseconds(remainingNanos)) { exchange.fail(reason: DeadlineReached()) }
        defer { timer.cancel() }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.uri, headers: headers)
        if !head.headers.contains(name: "host") { head.headers.add(name: "Host", value: target.hostHeader) }
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        let pool = lean
        // A provider's own max_connections is a hard cap; the transport's default only bounds idle ones.
        let hardCap = maxConnections > 0 ? maxConnections : nil
        do {
            let result = try await withTaskCancellationHandler {
                let connection = try await pool.lease(
                    target.endpoint, on: loop, hardCap: hardCap, keepIdle: hardCap ?? maxConnectionsPerHost,
                    connectTimeout: .nanoseconds(min(remainingNanos, max(1, connectTimeoutMs) * 1_000_000)))
                connection.send(head, body: body, to: exchange)
                return try await exchange.futureResult.get()
            } onCancel: {
                exchange.fail(reason: CancellationError())
            }
            return (.success(result), delegate)
        } catch {
            // A lease that failed (connect, pool wait) never reached the exchange: end it too.
            exchange.fail(reason: error)
            return (.failure(error), delegate)
        }
    }
}
