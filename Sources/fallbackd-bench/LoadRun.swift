import NIOCore

/// What a load run drives: the upstream over HTTP, or fallbackd over its socket.
/// Every method is called on the run's event loop.
protocol LoadTarget: AnyObject, Sendable {
    /// Replies go to `run` from now on.
    func attach(_ run: LoadRun)
    /// Connections to spread requests over (open loop: round-robin; closed loop: `depth` each).
    var lanes: Int { get }
    /// Sends request `id` on `lane`; may buffer until `flush()`.
    func send(id: Int, lane: Int)
    /// Pushes out whatever `send` buffered.
    func flush()
}

/// How a run paces its requests.
enum LoadMode: Sendable {
    /// Fixed rate, independent of replies: `warmup` unmeasured requests, then `measured` ones.
    /// Latency counts from each request's scheduled send time, so a stall is charged to every
    /// request it delays (no coordinated omission).
    case open(rate: Double, warmup: Int, measured: Int)
    /// Every lane keeps `depth` requests outstanding; replies inside the window are counted.
    case closed(depth: Int, warmupNanos: UInt64, measureNanos: UInt64)
}

/// What one run measured.
struct LoadOutcome: Sendable {
    var mode: LoadMode
    /// Open loop: from scheduled send time. Closed loop: from actual send time.
    var latency: LatencyStats
    /// From the moment the request was handed to the transport (open loop only differs).
    var service: LatencyStats
    /// Open loop: how late the sender fired against the schedule.
    var senderLag: LatencyStats
    var sent = 0
    var replies = 0
    /// Error replies among the measured requests (open) / inside the window (closed).
    var measuredErrors = 0
    var measuredReplies = 0
    var totalErrors = 0
    /// Still unanswered when the drain deadline passed.
    var lost = 0
    /// Replies that could not be matched to a request (no id).
    var unmatched = 0
    var errorSamples: [String] = []
    /// Closed loop: replies per second inside the window.
    var throughput: Double = 0
    var windowSeconds: Double = 0
    /// Open loop: the raw latencies behind `latency` and `service` (ns), so rounds can be merged.
    var latencySamples: [Int64] = []
    var serviceSamples: [Int64] = []
    var lagSamples: [Int64] = []
    /// Where measured replies went (runs whose target reports routes, e.g. the outage phases).
    var routing = RoutingTally()

    /// Open-loop outcomes of several rounds as one.
    static func merged(_ parts: [LoadOutcome]) -> LoadOutcome? {
        guard var all = parts.first else { return nil }
        for part in parts.dropFirst() {
            all.sent += part.sent
            all.replies += part.replies
            all.measuredErrors += part.measuredErrors
            all.measuredReplies += part.measuredReplies
            all.totalErrors += part.totalErrors
            all.lost += part.lost
            all.unmatched += part.unmatched
            all.errorSamples += part.errorSamples.prefix(max(0, 3 - all.errorSamples.count))
            all.latencySamples += part.latencySamples
            all.serviceSamples += part.serviceSamples
            all.lagSamples += part.lagSamples
            all.routing.merge(part.routing)
        }
        all.latency = LatencyStats(nanos: all.latencySamples)
        all.service = LatencyStats(nanos: all.serviceSamples)
        all.senderLag = LatencyStats(nanos: all.lagSamples)
        return all
    }

    /// Error replies plus unanswered requests over all requests, warm-up included.
    var errorRate: Double {
        let denominator = replies + unmatched + lost
        return denominator == 0 ? 1 : Double(totalErrors + lost) / Double(denominator)
    }
}

/// Per-request routing of `complete` replies: attempts per request, attempts on a watched model,
/// and which model answered. A histogram, so it stays small and merges by addition.
struct RoutingTally: Sendable {
    /// `attemptsHistogram[k]`: replies with k attempts (the last slot also holds anything larger).
    var attemptsHistogram: [Int] = Array(repeating: 0, count: 17)
    var watchedAttempts = 0
    /// Replies with at least one attempt on the watched model.
    var watchedReplies = 0
    /// Replies (results and errors) whose attempts were read.
    var replies = 0
    /// Replies without an attempts array (not counted above).
    var unreadable = 0
    /// `model_used` of the successful replies, in order of first appearance.
    var servedBy: [(model: String, replies: Int)] = []

    mutating func add(_ route: RouteScan, line: UnsafeRawBufferPointer) {
        replies += 1
        attemptsHistogram[min(route.attempts, attemptsHistogram.count - 1)] += 1
        watchedAttempts += route.watchedAttempts
        if route.watchedAttempts > 0 { watchedReplies += 1 }
        guard !route.modelUsed.isEmpty else { return }
        let name = UnsafeRawBufferPointer(rebasing: line[route.modelUsed])
        for index in servedBy.indices where servedBy[index].model.utf8.elementsEqual(name) {
            servedBy[index].replies += 1
            return
        }
        servedBy.append((String(decoding: name, as: UTF8.self), 1))
    }

    mutating func merge(_ other: RoutingTally) {
        for k in attemptsHistogram.indices { attemptsHistogram[k] += other.attemptsHistogram[k] }
        watchedAttempts += other.watchedAttempts
        watchedReplies += other.watchedReplies
        replies += other.replies
        unreadable += other.unreadable
        for (model, count) in other.servedBy {
            if let index = servedBy.firstIndex(where: { $0.model == model }) {
                servedBy[index].replies += count
            } else {
                servedBy.append((model, count))
            }
        }
    }

    var totalAttempts: Int { attemptsHistogram.enumerated().reduce(0) { $0 + $1.offset * $1.element } }

    var meanAttempts: Double { replies == 0 ? .nan : Double(totalAttempts) / Double(replies) }

    /// Nearest-rank percentile of attempts per request.
    func attemptsPercentile(_ q: Double) -> Int? {
        guard replies > 0 else { return nil }
        let rank = max(1, Int((q * Double(replies)).rounded(.up)))
        var seen = 0
        for (k, count) in attemptsHistogram.enumerated() {
            seen += count
            if seen >= rank { return k }
        }
        return attemptsHistogram.count - 1
    }
}

@inline(__always) func monotonicNanos() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

/// Drives one target in open or closed loop, entirely on one event loop, and records latencies.
/// `@unchecked Sendable`: every mutable member is touched only on `loop`.
final class LoadRun: @unchecked Sendable {
    let loop: any EventLoop
    let mode: LoadMode
    let drainNanos: UInt64
    private var target: (any LoadTarget)?
    private let promise: EventLoopPromise<LoadOutcome>

    // Per-request send times. Open loop: indexed by id (ids 0..<total). Closed loop: a ring,
    // as outstanding requests never exceed lanes * depth.
    private var sentAt: [UInt64]
    private let ringMask: Int
    private let total: Int
    private var nextID = 0
    private var outstanding = 0
    private var startNanos: UInt64 = 0
    private let intervalNanos: Double

    private var latencies: [Int64] = []
    private var services: [Int64] = []
    private var lags: [Int64] = []
    private var outcome: LoadOutcome

    private enum Phase { case idle, warming, measuring, draining, done }
    private var phase = Phase.idle
    private var windowStart: UInt64 = 0
    private var windowReplies = 0

    init(loop: any EventLoop, mode: LoadMode, drainNanos: UInt64 = 5_000_000_000) {
        self.loop = loop
        self.mode = mode
        self.drainNanos = drainNanos
        promise = loop.makePromise(of: LoadOutcome.self)
        let empty = LatencyStats(nanos: [])
        outcome = LoadOutcome(mode: mode, latency: empty, service: empty, senderLag: empty)
        switch mode {
        case .open(let rate, let warmup, let measured):
            total = warmup + measured
            sentAt = Array(repeating: 0, count: total)
            ringMask = 0
            intervalNanos = 1e9 / rate
            latencies.reserveCapacity(measured)
            services.reserveCapacity(measured)
            lags.reserveCapacity(total)
        case .closed:
            total = Int.max
            sentAt = Array(repeating: 0, count: 1 << 16)
            ringMask = (1 << 16) - 1
            intervalNanos = 0
            latencies.reserveCapacity(1 << 18)
        }
    }

    /// Starts the run on its loop and waits for the outcome.
    func run(_ target: any LoadTarget) async throws -> LoadOutcome {
        loop.execute {
            target.attach(self)
            self.target = target
            self.start()
        }
        let result = try await promise.futureResult.get()
        return result
    }

    // MARK: replies, called by targets on the loop

    /// Request `id` finished; `sample` describes a failure (called only when `ok` is false).
    /// `route`, when the target reads one, is tallied for measured requests.
    func complete(
        id: Int, ok: Bool, lane: Int, route: (scan: RouteScan?, line: UnsafeRawBufferPointer)? = nil, sample: () -> String
    ) {
        let now = monotonicNanos()
        guard phase != .done else { return }
        let slot = id & (ringMask == 0 ? Int.max : ringMask)
        guard slot < sentAt.count, sentAt[slot] != 0 else {
            unmatched(sample())
            return
        }
        let sent = sentAt[slot]
        sentAt[slot] = 0
        outstanding -= 1
        outcome.replies += 1
        if !ok {
            outcome.totalErrors += 1
            if outcome.errorSamples.count < 3 { outcome.errorSamples.append(String(sample().prefix(400))) }
        }
        switch mode {
        case .open(_, let warmup, _):
            if id >= warmup {
                outcome.measuredReplies += 1
                if !ok { outcome.measuredErrors += 1 }
                if let route { tally(route) }
                latencies.append(Int64(now &- scheduled(id)))
                services.append(Int64(now &- sent))
            }
        case .closed:
            if phase == .measuring {
                windowReplies += 1
                outcome.measuredReplies += 1
                if !ok { outcome.measuredErrors += 1 }
                if let route { tally(route) }
                latencies.append(Int64(now &- sent))
            }
            if phase == .warming || phase == .measuring {
                sendNext(lane: lane, now: now)
            }
        }
        if phase == .draining, outstanding == 0 { finish() }
    }

    private func tally(_ route: (scan: RouteScan?, line: UnsafeRawBufferPointer)) {
        if let scan = route.scan {
            outcome.routing.add(scan, line: route.line)
        } else {
            outcome.routing.unreadable += 1
        }
    }

    /// A reply without a usable id.
    func unmatched(_ sample: String) {
        outcome.unmatched += 1
        outcome.totalErrors += 1
        if outcome.errorSamples.count < 3 { outcome.errorSamples.append(String(sample.prefix(400))) }
    }

    /// A connection failed: everything outstanding on it is lost; the run ends at the drain deadline.
    func connectionFailed(_ description: String) {
        if outcome.errorSamples.count < 3 { outcome.errorSamples.append("connection: " + description) }
    }

    // MARK: pacing

    private func scheduled(_ id: Int) -> UInt64 { startNanos + UInt64(Double(id) * intervalNanos) }

    private func start() {
        guard let target else { return }
        switch mode {
        case .open:
            phase = .measuring
            startNanos = monotonicNanos() + 1_000_000
            scheduleTick()
        case .closed(let depth, let warmupNanos, let measureNanos):
            phase = .warming
            let now = monotonicNanos()
            for lane in 0..<target.lanes {
                for _ in 0..<depth { sendNext(lane: lane, now: now) }
            }
            target.flush()
            loop.scheduleTask(deadline: .uptimeNanoseconds(now + warmupNanos)) {
                self.phase = .measuring
                self.windowStart = monotonicNanos()
                self.loop.scheduleTask(deadline: .uptimeNanoseconds(self.windowStart + measureNanos)) {
                    let end = monotonicNanos()
                    self.outcome.windowSeconds = Double(end - self.windowStart) / 1e9
                    self.outcome.throughput = Double(self.windowReplies) / self.outcome.windowSeconds
                    self.beginDrain()
                }
            }
        }
    }

    private func sendNext(lane: Int, now: UInt64) {
        let id = nextID
        nextID += 1
        let slot = id & ringMask
        if sentAt[slot] != 0 {
            // Cannot happen with lanes * depth < ring size; counted rather than trusted.
            outcome.lost += 1
            outstanding -= 1
        }
        sentAt[slot] = now
        outstanding += 1
        outcome.sent += 1
        target?.send(id: id, lane: lane)
    }

    private func scheduleTick() {
        loop.scheduleTask(deadline: .uptimeNanoseconds(scheduled(nextID))) { self.tick() }
    }

    private func tick() {
        guard phase == .measuring, let target else { return }
        let lanes = target.lanes
        var fired = false
        var now = monotonicNanos()
        while nextID < total {
            let due = scheduled(nextID)
            if due > now { break }
            lags.append(Int64(now &- due))
            let id = nextID
            nextID += 1
            sentAt[id] = now
            outstanding += 1
            outcome.sent += 1
            target.send(id: id, lane: id % lanes)
            fired = true
            now = monotonicNanos()
        }
        if fired { target.flush() }
        if nextID < total {
            scheduleTick()
        } else {
            beginDrain()
        }
    }

    private func beginDrain() {
        phase = .draining
        if outstanding == 0 {
            finish()
            return
        }
        loop.scheduleTask(deadline: .uptimeNanoseconds(monotonicNanos() + drainNanos)) {
            if self.phase == .draining { self.finish() }
        }
    }

    private func finish() {
        guard phase != .done else { return }
        phase = .done
        outcome.lost += outstanding
        outcome.latency = LatencyStats(nanos: latencies)
        outcome.service = services.isEmpty ? outcome.latency : LatencyStats(nanos: services)
        outcome.senderLag = LatencyStats(nanos: lags)
        if case .open = mode {
            outcome.latencySamples = latencies
            outcome.serviceSamples = services
            outcome.lagSamples = lags
        }
        target = nil
        promise.succeed(outcome)
    }
}
