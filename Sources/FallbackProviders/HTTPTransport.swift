import Foundation
import AsyncHTTPClient
import FallbackCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP response as adapters see it.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A reply with a UTF-8 body; for tests and simulations.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: String) {
        self.init(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    /// The body as a string (lossy for invalid UTF-8).
    public var bodyText: String { String(buffer: body) }
}

/// The HTTP client fallbackd's adapters share. Plain-HTTP providers (a local server, a sidecar
/// proxy) go through fallbackd's own keep-alive HTTP/1.1 pool (``LeanConnectionPool``); HTTPS
/// providers through AsyncHTTPClient (TLS, HTTP/2), one `HTTPClient` per connect-timeout profile.
/// All on one event-loop group. Create one per daemon; call ``shutdown()``.
public final class HTTPTransport: Sendable {
    /// Connections per provider host when its config sets no `max_connections`: enough for a
    /// thousand calls in flight to a provider that takes a second each.
    public static let defaultMaxConnectionsPerHost = 1_024

    /// What one `HTTPClient` is configured for.
    struct ClientProfile: Hashable {
        var connectTimeoutMs: Int64
        var maxConnections: Int
    }

    /// Response bodies larger than this fail the call as `bad_response`.
    public static let maxBodyBytes = 16 * 1024 * 1024

    private let group: any EventLoopGroup
    let maxConnectionsPerHost: Int
    private let groupLoops: Set<ObjectIdentifier>
    /// Endpoint URLs already parsed, with their plain-HTTP target: they come from the config (one per
    /// provider, or per model for Gemini), and parsing one cost about 8k instructions a call.
    private let urls = Mutex<[String: (url: URL, lean: LeanTarget?)]>([:])
    /// Plain-HTTP connections.
    let lean: LeanConnectionPool

    func parsedURL(_ text: String) -> (url: URL, lean: LeanTarget?)? {
        if let known = urls.withLock({ $0[text] }) { return known }
        guard let url = URL(string: text) else { return nil }
        let parsed = (url: url, lean: LeanTarget(url))
        urls.withLock { cache in
            if cache.count >= 1_024 { cache.removeAll() }
            cache[text] = parsed
        }
        return parsed
    }

    /// Clients by connect timeout and connection cap; `nil` once shut down.
    private let clients = Mutex<[ClientProfile: HTTPClient]?>([:])
    private let logger: Logger

    /// - Parameters:
    ///   - group: the event loops every client runs on (not owned: the caller shuts it down).
    ///   - maxConnectionsPerHost: HTTP/1.1 keep-alive connections per host and client profile.
    public init(group: any EventLoopGroup, maxConnectionsPerHost: Int = HTTPTransport.defaultMaxConnectionsPerHost, logger: Logger? = nil) {
        self.group = group
        lean = LeanConnectionPool(group: group)
        groupLoops = Set(group.makeIterator().map { ObjectIdentifier($0) })
        self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
        self.logger = logger ?? Logger(label: "fallbackd.http")
    }

    /// The loop the caller runs on, when it belongs to our group: the request, its pooled connection
    /// and the continuation then stay on one thread (fallbackd runs its tasks on these loops). A
    /// provider with its own `max_connections` (`capped`) keeps only the delegate there: asking AHC
    /// for the channel on a given loop makes it open overflow connections past the pool's cap.
    private func preferredEventLoop(capped: Bool) -> HTTPClient.EventLoopPreference {
        guard let current = currentLoop else { return .indifferent }
        return capped ? .delegate(on: current) : .delegateAndChannel(on: current)
    }

    /// The loop the caller runs on, when it is one of ours.
    var currentLoop: (any EventLoop)? {
        guard let current = MultiThreadedEventLoopGroup.currentEventLoop, groupLoops.contains(ObjectIdentifier(current)) else {
            return nil
        }
        return current
    }

    /// The client for a connect timeout and connection cap (0: the transport's default), created on
    /// first use; `nil` after ``shutdown()``.
    func client(connectTimeoutMs: Int64, maxConnections: Int = 0) -> HTTPClient? {
        let key = ClientProfile(
            connectTimeoutMs: max(1, connectTimeoutMs), maxConnections: maxConnections > 0 ? maxConnections : maxConnectionsPerHost)
        return clients.withLock { clients -> HTTPClient? in
            guard clients != nil else { return nil }
            if let existing = clients?[key] { return existing }
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .milliseconds(key.connectTimeoutMs), read: nil),
                connectionPool: .init(
                    idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: key.maxConnections)
            )
            // A refused or failed connect fails the waiting requests at once, so the router can fall back
            // immediately instead of AHC retrying with backoff until the connect timeout.
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.httpVersion = .automatic
            // No tracer: with none bootstrapped AHC still casts and starts a no-op span per request
            // (about 29k instructions of a complete).
            configuration.tracing.tracer = nil
            let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
            clients?[key] = client
            return client
        }
    }

    /// POSTs `body` to `url` and collects the reply. The whole exchange, body included, ends by
    /// `deadline` (`.timeout`); cancelling the awaiting task cancels the request (`.cancelled`). Never throws.
    public func post(
        url: String, headers: HTTPHeaders, body: ByteBuffer, deadline: Moment, clock: any FallbackClock,
        connectTimeoutMs: Int64 = ProviderSettings.defaultConnectTimeoutMs, maxConnections: Int = 0, idleTimeoutMs: Int64? = nil
    ) async -> Result<HTTPReply, ProviderFailure> {
        let outcome = await send(
            url: url, headers: headers, body: body, deadline: deadline, clock: clock, connectTimeoutMs: connectTimeoutMs,
            maxConnections: maxConnections,
            mode: .collect, timeouts: .init(firstToken: nil, idle: idleTimeoutMs.map { .milliseconds($0) }))
        return outcome.flatMap { result in
            switch result {
            case .reply(let reply): .success(reply)
            case .streamed: .failure(ProviderFailure(.badResponse, message: "unexpected stream"))
            }
        }
    }

    /// One exchange read by an ``ExchangeDelegate`` in `mode`, bounded by `deadline` and `timeouts`.
    /// A kept-alive connection the server had already closed fails at once without a response byte;
    /// that is the pool's stale connection, not the provider failing, and it is tried once more on a
    /// fresh connection.
    func send(
        url: String, headers: HTTPHeaders, body: ByteBuffer, deadline: Moment, clock: any FallbackClock,
        connectTimeoutMs: Int64, maxConnections: Int = 0, mode: ExchangeDelegate.Mode, timeouts: ExchangeDelegate.Timeouts
    ) async -> Result<ExchangeResult, ProviderFailure> {
        let started = clock.now()
        let (outcome, sawResponse) = await sendOnce(
            url: url, headers: headers, body: body, deadline: deadline, clock: clock, connectTimeoutMs: connectTimeoutMs,
            maxConnections: maxConnections, mode: mode, timeouts: timeouts)
        guard case .failure(let failure) = outcome, failure.type == .connection, !sawResponse,
            failure.message == Self.closedByProvider, clock.now().millis(since: started) < Self.staleConnectionMs
        else { return outcome }
        return await sendOnce(
            url: url, headers: headers, body: body, deadline: deadline, clock: clock, connectTimeoutMs: connectTimeoutMs,
            maxConnections: maxConnections, mode: mode, timeouts: timeouts
        ).0
    }

    /// How soon after sending a close without a response byte counts as a stale pooled connection.
    static let staleConnectionMs: Int64 = 250

    private func sendOnce(
        url: String, headers: HTTPHeaders, body: ByteBuffer, deadline: Moment, clock: any FallbackClock,
        connectTimeoutMs: Int64, maxConnections: Int, mode: ExchangeDelegate.Mode, timeouts: ExchangeDelegate.Timeouts
    ) async -> (Result<ExchangeResult, ProviderFailure>, sawResponse: Bool) {
        if Task.isCancelled { return (.failure(ProviderFailure(.cancelled, message: "cancelled before sending")), false) }
        let remainingNanos = deadline.nanos - clock.now().nanos
        guard remainingNanos > 0 else {
            return (.failure(ProviderFailure(.timeout, message: "deadline passed before sending")), false)
        }
        guard let parsed = parsedURL(url) else {
            return (.failure(ProviderFailure(.invalidRequest, message: "invalid provider URL")), false)
        }
        if let target = parsed.lean {
            let (outcome, delegate) = await sendLean(
                target, headers: headers, body: body, remainingNanos: remainingNanos, connectTimeoutMs: connectTimeoutMs,
                maxConnections: maxConnections, mode: mode, timeouts: timeouts)
            return Self.classify(outcome, delegate: delegate, deadline: deadline, clock: clock)
        }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: parsed.url, method: .POST, headers: headers, body: .byteBuffer(body))
        } catch {
            return (.failure(ProviderFailure(.invalidRequest, message: "invalid provider URL")), false)
        }
        guard let client = client(connectTimeoutMs: connectTimeoutMs, maxConnections: maxConnections) else {
            return (.failure(ProviderFailure(.cancelled, message: "HTTP transport is shut down")), false)
        }
        let nioDeadline = NIODeadline.now() + .nanoseconds(remainingNanos)
        let delegate = ExchangeDelegate(mode: mode, timeouts: timeouts, maxBodyBytes: Self.maxBodyBytes)
        // One timer bounds the whole exchange: AHC's own `deadline:` stops applying once the response
        // head arrives (a stalled body would hang), and failing the task with our own reason in every
        // state (queued, connecting, reading) keeps the classification exact.
        let task = client.execute(request: request, delegate: delegate, eventLoop: preferredEventLoop(capped: maxConnections > 0))
        delegate.started(task)
        let timer = task.eventLoop.scheduleTask(deadline: nioDeadline) { task.fail(reason: DeadlineReached()) }
        let outcome: Result<ExchangeResult, any Error>
        do {
            let result = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.fail(reason: CancellationError())
            }
            outcome = .success(result)
        } catch {
            outcome = .failure(error)
        }
        timer.cancel()
        return Self.classify(outcome, delegate: delegate, deadline: deadline, clock: clock)
    }

    /// An exchange's outcome as the router sees it, and whether any response byte arrived.
    static func classify(
        _ outcome: Result<ExchangeResult, any Error>, delegate: ExchangeDelegate, deadline: Moment, clock: any FallbackClock
    ) -> (Result<ExchangeResult, ProviderFailure>, sawResponse: Bool) {
        switch outcome {
        case .success(let result):
            return (.success(result), true)
        case .failure(let error):
            var failure = Self.failure(for: error)
            // A connect or pool error raised at the deadline is the deadline's doing.
            if failure.type == .connection, clock.now().nanos >= deadline.nanos {
                failure = ProviderFailure(.timeout, message: "attempt deadline reached (\(failure.message))")
            }
            failure.skippedEvents = max(failure.skippedEvents, delegate.delivered.skipped)
            if failure.httpStatus == nil, delegate.sawResponse, failure.type != .timeout, failure.type != .cancelled {
                failure.httpStatus = delegate.status
            }
            return (.failure(failure), delegate.sawResponse)
        }
    }

    /// Shuts every client down (in-flight requests fail, later ones get `.cancelled`).
    /// The event-loop group stays up: its owner shuts it down after this returns.
    public func shutdown() async {
        lean.shutdown()
        let all = clients.withLock { clients in
            let all = Array((clients ?? [:]).values)
            clients = nil
            return all
        }
        for client in all {
            do {
                try await client.shutdown()
            } catch {
                logger.debug("HTTP client shutdown: \(String(describing: error))")
            }
        }
    }
}

/// The reason the deadline timer fails a task with.
struct DeadlineReached: Error {}
