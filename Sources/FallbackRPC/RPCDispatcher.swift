/// Runs the requests of one line against the method table.
///
/// Immediate methods are answered synchronously. A deferred one is admitted by the gate here and
/// handed back as work for the caller to run (the daemon runs it in its connection's task group,
/// so a client that leaves cancels it); the work leaves the gate when done and returns the reply.
/// A batch with a deferred member answers as one array once every member is done, as the spec asks.
public struct RPCDispatcher: Sendable {
    private let source: @Sendable () -> RPCMethodTable
    public let gate: InFlightGate

    /// A dispatcher over one fixed table.
    public init(methods: RPCMethodTable, gate: InFlightGate) {
        source = { methods }
        self.gate = gate
    }

    /// A dispatcher that reads the table for each line (a reload swaps it); a request keeps the
    /// table it was dispatched with.
    public init(gate: InFlightGate, methods: @escaping @Sendable () -> RPCMethodTable) {
        source = methods
        self.gate = gate
    }

    /// The table lines are dispatched against now.
    public var methods: RPCMethodTable { source() }

    /// What to do with a line right away.
    public enum Outcome: Sendable {
        /// Write this reply now.
        case reply(JSON)
        /// Nothing to write (notifications only).
        case none
        /// Run this work; it returns the reply to write (`nil`: nothing to write).
        case deferred(RPCWork)
    }

    /// Decodes `line` and answers it or hands back its work. `notify` sends a notification line on
    /// the caller's connection (streamed deltas); it must keep the order of calls.
    /// `peer` is who is on the other end of the connection, handed to deferred methods.
    public func handle(
        _ line: UnsafeRawBufferPointer, peer: RPCPeer? = nil, notify: @escaping @Sendable (JSON) -> Void = { _ in }
    ) -> Outcome {
        let methods = source()
        switch RPCEnvelope.decode(line) {
        case .unanswerable(let error):
            return .reply(RPCResponse.failure(id: .null, error: error))
        case .single(let item):
            return handleSingle(item, methods: methods, peer: peer, notify: notify)
        case .batch(let items):
            return handleBatch(items, methods: methods, peer: peer)
        }
    }

    private func handleSingle(
        _ item: RPCItem, methods: RPCMethodTable, peer: RPCPeer?, notify: @escaping @Sendable (JSON) -> Void
    ) -> Outcome {
        switch item {
        case .invalid(let error, let id):
            return .reply(RPCResponse.failure(id: id, error: error))
        case .request(let request):
            switch methods[request.method] {
            case nil:
                return wrap(RPCResponse.reply(to: request, .failure(.methodNotFound(request.method))))
            case .immediate(let run):
                return wrap(RPCResponse.reply(to: request, run(request.params)))
            case .deferred(let run):
                if let refusal = gate.enter() { return wrap(RPCResponse.reply(to: request, .failure(refusal))) }
                let gate = self.gate
                let context = RPCCallContext(id: request.id, peer: peer, send: notify)
                return .deferred(RPCWork(gate: gate, admitted: 1) {
                    let outcome = await run(request.params, context)
                    gate.leave()
                    return RPCResponse.reply(to: request, outcome)
                })
            }
        }
    }

    private func handleBatch(_ items: [RPCItem], methods: RPCMethodTable, peer: RPCPeer?) -> Outcome {
        // Answer what can be answered now; collect the deferred members to run together.
        var replies: [JSON?] = Array(repeating: nil, count: items.count)
        var pending: [(index: Int, request: RPCRequest, run: @Sendable (JSON?, RPCCallContext) async -> Result<JSON, RPCError>)] = []
        for (index, item) in items.enumerated() {
            if case .request(let request) = item, case .deferred(let run) = methods[request.method] {
                if let refusal = gate.enter() {
                    replies[index] = RPCResponse.reply(to: request, .failure(refusal))
                } else {
                    pending.append((index, request, run))
                }
                continue
            }
            if case .reply(let reply) = handleSingle(item, methods: methods, peer: peer, notify: { _ in }) { replies[index] = reply }
        }
        guard !pending.isEmpty else {
            let answered = replies.compactMap { $0 }
            return answered.isEmpty ? .none : .reply(.array(answered))
        }
        let gate = self.gate
        let immediate = replies
        let work = pending
        return .deferred(RPCWork(gate: gate, admitted: work.count) {
            var all = immediate
            await withTaskGroup(of: (Int, JSON?).self) { group in
                for member in work {
                    group.addTask {
                        // Batch members answer in one array: nothing streams ahead of it.
                        let outcome = await member.run(member.request.params, .silent(id: member.request.id, peer: peer))
                        gate.leave()
                        return (member.index, RPCResponse.reply(to: member.request, outcome))
                    }
                }
                for await (index, reply) in group { all[index] = reply }
            }
            let answered = all.compactMap { $0 }
            return answered.isEmpty ? nil : .array(answered)
        })
    }

    private func wrap(_ reply: JSON?) -> Outcome {
        reply.map { .reply($0) } ?? .none
    }
}

/// A deferred request's work, admitted by the gate: run it once; it leaves the gate when done.
public struct RPCWork: Sendable {
    private let gate: InFlightGate
    private let admitted: Int
    private let body: @Sendable () async -> JSON?

    init(gate: InFlightGate, admitted: Int, _ body: @escaping @Sendable () async -> JSON?) {
        self.gate = gate
        self.admitted = admitted
        self.body = body
    }

    /// Runs the method and returns the reply to write (`nil` for notifications).
    public func run() async -> JSON? { await body() }

    /// The work will never run (its connection is gone): gives its places in the gate back.
    public func abandon() {
        for _ in 0..<admitted { gate.leave() }
    }
}
