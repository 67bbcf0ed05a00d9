import FallbackRPC
import NIOCore
import NIOPosix

/// How a reply line is judged.
struct ReplyCheck: Sendable {
    enum Expect: Sendable { case completion, pong }
    let expect: Expect
    /// Every n-th reply is also parsed in full with jansson (1 = all of them); the rest get byte scans.
    let fullParseEvery: Int
    /// When set, every reply's `attempts` and `model_used` are read (RouteScan) and tallied, counting
    /// the attempts on this model.
    var watchModel: [UInt8]? = nil

    /// Byte-level check: a `result` that is a completion (has `model_used`) or `"pong"`.
    func quick(_ line: UnsafeRawBufferPointer) -> Bool {
        switch expect {
        case .completion:
            ByteScan.contains(ByteScan.resultKey, in: line) && ByteScan.contains(ByteScan.modelUsedKey, in: line)
        case .pong:
            ByteScan.contains(ByteScan.pongResult, in: line)
        }
    }

    /// Full check with a real parse: the id matches and the result has the right shape.
    func full(_ line: UnsafeRawBufferPointer, id: Int) -> Bool {
        guard let reply = try? JSON.parse(line), reply["jsonrpc"]?.stringValue == "2.0",
            reply["id"]?.intValue == id, let result = reply["result"]
        else { return false }
        switch expect {
        case .completion:
            guard let model = result["model_used"]?.stringValue, !model.isEmpty,
                result["content"]?.stringValue != nil
            else { return false }
            return true
        case .pong:
            return result.stringValue == "pong"
        }
    }
}

/// fallbackd over its Unix socket: `lanes` NIO connections on one loop, requests pipelined and
/// replies matched by id. `@unchecked Sendable`: mutable state is touched only on `loop`.
final class RPCTarget: LoadTarget, @unchecked Sendable {
    let loop: any EventLoop
    let template: RequestTemplate
    let check: ReplyCheck
    private(set) var channels: [any Channel] = []
    private var dirty: [Bool] = []
    private var replyCount = 0
    private var closing = false
    /// The first reply line, for the report.
    private(set) var sampleReply: String?
    weak var run: LoadRun?

    var lanes: Int { channels.count }

    private init(loop: any EventLoop, template: RequestTemplate, check: ReplyCheck) {
        self.loop = loop
        self.template = template
        self.check = check
    }

    /// Opens `lanes` connections to the socket at `path`.
    static func connect(
        path: String, lanes: Int, loop: any EventLoop, template: RequestTemplate, check: ReplyCheck
    ) async throws -> RPCTarget {
        let target = RPCTarget(loop: loop, template: template, check: check)
        var channels: [any Channel] = []
        for lane in 0..<lanes {
            let channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(3))
                .channelOption(.maxMessagesPerRead, value: 16)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RPCReplyHandler(target: target, lane: lane))
                    }
                }
                .connect(unixDomainSocketPath: path).get()
            channels.append(channel)
        }
        let connected = channels
        try await loop.submit {
            target.channels = connected
            target.dirty = Array(repeating: false, count: connected.count)
        }.get()
        return target
    }

    func close() async {
        try? await loop.submit { self.closing = true }.get()
        for channel in channels { try? await channel.close() }
    }

    // MARK: LoadTarget

    func attach(_ run: LoadRun) { self.run = run }

    func send(id: Int, lane: Int) {
        let channel = channels[lane]
        var buffer = channel.allocator.buffer(capacity: template.approximateLineBytes)
        buffer.writeBytes(template.prefix)
        buffer.writeString(String(id))
        buffer.writeBytes(template.suffix)
        channel.write(buffer, promise: nil)
        dirty[lane] = true
    }

    func flush() {
        for lane in 0..<channels.count where dirty[lane] {
            dirty[lane] = false
            channels[lane].flush()
        }
    }

    // MARK: from the handler

    func received(line: ByteBuffer, lane: Int) {
        guard let run else { return }
        if sampleReply == nil { sampleReply = String(buffer: line) }
        replyCount += 1
        let parseAll = check.fullParseEvery <= 1 || replyCount % check.fullParseEvery == 0
        if let watched = check.watchModel {
            // Judged and tallied while the line's bytes are at hand.
            let matched: Bool = line.withUnsafeReadableBytes { raw in
                guard let id = ByteScan.replyID(in: raw) else { return false }
                var ok = check.quick(raw)
                if ok, parseAll { ok = check.full(raw, id: id) }
                run.complete(id: id, ok: ok, lane: lane, route: (RouteScan(raw, watching: watched), raw)) {
                    String(decoding: raw, as: UTF8.self)
                }
                return true
            }
            if !matched { run.unmatched(String(buffer: line)) }
            return
        }
        let verdict: (id: Int?, ok: Bool) = line.withUnsafeReadableBytes { raw in
            guard let id = ByteScan.replyID(in: raw) else { return (nil, false) }
            var ok = check.quick(raw)
            if ok, parseAll { ok = check.full(raw, id: id) }
            return (id, ok)
        }
        guard let id = verdict.id else {
            run.unmatched(String(buffer: line))
            return
        }
        run.complete(id: id, ok: verdict.ok, lane: lane) { String(buffer: line) }
    }

    func readComplete(lane: Int) {
        if dirty[lane] {
            dirty[lane] = false
            channels[lane].flush()
        }
    }

    func closed(lane: Int) {
        if !closing { run?.connectionFailed("lane \(lane) closed by the daemon") }
    }

    func failed(lane: Int, _ error: any Error) {
        run?.connectionFailed("lane \(lane): \(error)")
    }
}

/// Splits replies into lines and hands them to the target.
final class RPCReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let target: RPCTarget
    private let lane: Int
    private var framer = LineFramer(maxLineBytes: 64 << 20)

    init(target: RPCTarget, lane: Int) {
        self.target = target
        self.lane = lane
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        framer.append(&bytes)
        do {
            while let line = try framer.nextLine() { target.received(line: line, lane: lane) }
        } catch {
            target.failed(lane: lane, error)
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        target.readComplete(lane: lane)
    }

    func channelInactive(context: ChannelHandlerContext) {
        target.closed(lane: lane)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        target.failed(lane: lane, error)
        context.close(promise: nil)
    }
}
