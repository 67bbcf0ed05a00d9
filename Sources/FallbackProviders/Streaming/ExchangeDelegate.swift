import AsyncHTTPClient
import FallbackCore
import NIOCore
import NIOHTTP1
import Synchronization

/// Reads one provider response on its event loop: a whole body (`collect`), or a server-sent-event
/// stream decoded into deltas as the bytes arrive (`stream`). It owns the timers that only the
/// response can reset: the first token (first answer delta; first byte when collecting) and the
/// idle gap between reads. A timer or a decision to stop fails the task with its reason.
///
/// It reads for either client: AsyncHTTPClient calls it as a response delegate (https), fallbackd's
/// own HTTP/1.1 client (plain http) through the same `receive...` methods with a ``LeanExchange``.
final class ExchangeDelegate: HTTPClientResponseDelegate, Sendable {
    typealias Response = ExchangeResult

    enum Mode: Sendable {
        case collect
        case stream(decoder: any StreamDecoder, receiver: any DeltaReceiver)
    }

    struct Timeouts: Sendable {
        /// Until the first answer delta (streaming) or the first byte of the response (collecting).
        var firstToken: TimeAmount?
        /// The longest silence between reads once the response has started.
        var idle: TimeAmount?
    }

    private struct State {
        var status = 0
        var headers = HTTPHeaders()
        var body = ByteBuffer()
        var mode: Mode
        var parser = SSEParser()
        var accumulator = StreamAccumulator()
        var committed = false
        var done = false
        var skipped = 0
        var firstTokenTimer: Scheduled<Void>?
        var idleTimer: Scheduled<Void>?
    }

    private let state: Mutex<State>
    private let timeouts: Timeouts
    private let maxBodyBytes: Int

    init(mode: Mode, timeouts: Timeouts, maxBodyBytes: Int) {
        state = Mutex(State(mode: mode))
        self.timeouts = timeouts
        self.maxBodyBytes = maxBodyBytes
    }

    /// Starts the first-token timer; called once the task exists.
    func started(_ task: some ExchangeControl) {
        guard let limit = timeouts.firstToken else { return }
        let timer = task.eventLoop.scheduleTask(in: limit) { task.fail(reason: StreamStopped(.firstToken(limit))) }
        state.withLock { $0.firstTokenTimer = timer }
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        receiveHead(head, control: task)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func receiveHead(_ head: HTTPResponseHead, control: some ExchangeControl) {
        state.withLock { state in
            state.status = Int(head.status.code)
            state.headers = head.headers
            if case .collect = state.mode { state.firstTokenTimer?.cancel() }
            rearmIdle(&state, task: control)
        }
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if let stop = receiveBody(buffer, control: task) { return task.eventLoop.makeFailedFuture(stop) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    /// Takes one part of the body; returns why it stopped the exchange (it has failed it), if it did.
    @discardableResult
    func receiveBody(_ buffer: ByteBuffer, control task: some ExchangeControl) -> StreamStopped? {
        let stop = state.withLock { state -> StreamStopped? in
            rearmIdle(&state, task: task)
            guard case .stream = state.mode, (200...299).contains(state.status) else {
                guard state.body.readableBytes + buffer.readableBytes <= maxBodyBytes else {
                    return StreamStopped(.failure(ProviderFailure(.badResponse, message: "response body exceeds \(maxBodyBytes) bytes")))
                }
                var part = buffer
                state.body.writeBuffer(&part)
                return nil
            }
            let events: [SSEEvent]
            do {
                events = try buffer.withUnsafeReadableBytes { bytes throws(SSEParser.LineTooLong) in try state.parser.feed(bytes) }
            } catch {
                return StreamStopped(.failure(ProviderFailure(.badResponse, message: "a stream line exceeds \(SSEParser.maxLineBytes) bytes")))
            }
            return handle(events, &state)
        }
        if let stop { task.fail(reason: stop) }
        return stop
    }

    func didReceiveError(task: HTTPClient.Task<Response>, _ error: any Error) {
        cancelTimers()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        try finish()
    }

    /// The body ended: the reply, or the decoded stream.
    func finish() throws -> Response {
        try state.withLock { state throws(StreamStopped) -> Response in
            state.firstTokenTimer?.cancel()
            state.idleTimer?.cancel()
            let reply = HTTPReply(status: state.status, headers: state.headers, body: state.body)
            guard case .stream = state.mode, (200...299).contains(state.status) else { return .reply(reply) }
            if let stop = handle(state.parser.finish(), &state) { throw stop }
            if !state.done, let stop = finishDecoder(&state) { throw stop }
            guard case .stream(let final, _) = state.mode else { return .reply(reply) }
            var response = ProviderResponse(
                message: state.accumulator.message, finishReason: state.accumulator.finishReason ?? .stop,
                providerFinishReason: final.ending.providerFinish, usage: state.accumulator.usage ?? .zero,
                httpStatus: state.status)
            response.skippedEvents = state.skipped
            return .streamed(response, finished: state.accumulator.finishReason != nil)
        }
    }

    /// Decodes parsed events; returns why to stop, if anything says so.
    private func handle(_ events: [SSEEvent], _ state: inout State) -> StreamStopped? {
        guard case .stream(var decoder, let receiver) = state.mode else { return nil }
        var meanings: [StreamEvent] = []
        for event in events { meanings += decoder.decode(event) }
        state.mode = .stream(decoder: decoder, receiver: receiver)
        return apply(meanings, &state)
    }

    /// The body ended without the provider's end marker: the decoder decides complete or cut.
    private func finishDecoder(_ state: inout State) -> StreamStopped? {
        guard case .stream(var decoder, let receiver) = state.mode else { return nil }
        let closing = decoder.finish()
        state.mode = .stream(decoder: decoder, receiver: receiver)
        return apply(closing, &state)
    }

    private func apply(_ meanings: [StreamEvent], _ state: inout State) -> StreamStopped? {
        guard case .stream(_, let receiver) = state.mode else { return nil }
        for meaning in meanings {
            switch meaning {
            case .delta(let delta):
                state.accumulator.add(delta)
                guard delta.carriesAnswer else { continue }
                if !state.committed {
                    state.committed = true
                    state.firstTokenTimer?.cancel()
                }
                guard receiver.receive(delta) else { return StreamStopped(.superseded) }
            case .done:
                state.done = true
            case .failure(var failure):
                failure.skippedEvents = state.skipped
                failure.usage = state.accumulator.usage ?? failure.usage
                return StreamStopped(.failure(failure))
            case .malformed(let why):
                // Before the first delta the stream is not trusted; after it, one bad event is skipped.
                guard state.committed else {
                    return StreamStopped(.failure(ProviderFailure(.badResponse, httpStatus: state.status, message: "malformed stream event: \(why)")))
                }
                state.skipped += 1
            }
        }
        return nil
    }

    private func rearmIdle(_ state: inout State, task: some ExchangeControl) {
        guard let limit = timeouts.idle else { return }
        state.idleTimer?.cancel()
        state.idleTimer = task.eventLoop.scheduleTask(in: limit) { task.fail(reason: StreamStopped(.idle(limit))) }
    }

    func cancelTimers() {
        state.withLock { state in
            state.firstTokenTimer?.cancel()
            state.idleTimer?.cancel()
        }
    }

    /// Whether any response byte (the head) arrived.
    var sawResponse: Bool { state.withLock { $0.status != 0 } }

    /// The response's status, 0 before its head.
    var status: Int { state.withLock { $0.status } }

    /// What the deltas added up to so far (for a stream that broke after its first delta).
    var delivered: (committed: Bool, accumulator: StreamAccumulator, skipped: Int) {
        state.withLock { ($0.committed, $0.accumulator, $0.skipped) }
    }
}

/// What a delegate needs of the exchange it reads: its loop (for timers) and a way to end it.
protocol ExchangeControl: Sendable {
    var eventLoop: any EventLoop { get }
    func fail(reason: any Error)
}

extension HTTPClient.Task: ExchangeControl {}

/// The outcome of a read: a whole reply (collected, or the error reply of a stream), or a stream
/// decoded to its end (`finished` when the provider said why it stopped).
enum ExchangeResult: Sendable {
    case reply(HTTPReply)
    case streamed(ProviderResponse, finished: Bool)
}

/// Why the delegate stopped a response.
struct StreamStopped: Error {
    enum Reason {
        case firstToken(TimeAmount)
        case idle(TimeAmount)
        case failure(ProviderFailure)
        /// The receiver said the request is over (the caller left, another attempt answered).
        case superseded
    }

    var reason: Reason

    init(_ reason: Reason) { self.reason = reason }

    var failure: ProviderFailure {
        switch reason {
        case .firstToken(let limit):
            ProviderFailure(.timeout, message: "no first token within \(limit.nanoseconds / 1_000_000) ms")
        case .idle(let limit):
            ProviderFailure(.timeout, message: "the response stalled for \(limit.nanoseconds / 1_000_000) ms")
        case .failure(let failure):
            failure
        case .superseded:
            ProviderFailure(.cancelled, message: "the request no longer needs this answer")
        }
    }
}
