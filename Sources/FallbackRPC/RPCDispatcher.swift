/// Runs the requests of one line against the method table.
///
/// Immediate methods are answered synchronously; deferred ones run as tasks admitted by the
/// gate, and their reply goes to `deliver` when done. A batch with a deferred member answers
/// as one array once every member is done, as the spec asks.
public struct RPCDispatcher: Sendable {
    public let methods: RPCMethodTable
    public let gate: InFlightGate

    public init(methods: RPCMethodTable, gate: InFlightGate) {
        self.methods = methods
        self.gate = gate
    }

    /// What to do with a line right away.
    public enum Outcome {
        /// Write this reply now.
        case reply(JSON)
        /// Nothing to write (notifications only).
        case none
        /// A task will call `deliver` exactly once.
        case deferred
    }

    public func handle(_ line: UnsafeRawBufferPointer, deliver: @escaping @Sendable (JSON?) -> Void) -> Outcome {
        switch RPCEnvelope.decode(line) {
        case .unanswerable(let error):
            return .reply(RPCResponse.failure(id: .null, error: error))
        case .single(let item):
            return handleSingle(item, deliver: deliver)
        case .batch(let items):
            return handleBatch(items, deliver: deliver)
        }
    }

    private func handleSingle(_ item: RPCItem, deliver: @escaping @Sendable (JSON?) -> Void) -> Outcome {
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
                Task {
                    let outcome = await run(request.params)
                    gate.leave()
                    deliver(RPCResponse.reply(to: request, outcome))
                }
                return .deferred
            }
        }
    }

    private func handleBatch(_ items: [RPCItem], deliver: @escaping @Sendable (JSON?) -> Void) -> Outcome {
        // Answer what can be answered now; collect the deferred members to run together.
        var replies: [JSON?] = Array(repeating: nil, count: items.count)
        var pending: [(index: Int, request: RPCRequest, run: @Sendable (JSON?) async -> Result<JSON, RPCError>)] = []
        for (index, item) in items.enumerated() {
            if case .request(let request) = item, case .deferred(let run) = methods[request.method] {
                if let refusal = gate.enter() {
                    replies[index] = RPCResponse.reply(to: request, .failure(refusal))
                } else {
                    pending.append((index, request, run))
                }
                continue
            }
            if case .reply(let reply) = handleSingle(item, deliver: { _ in }) { replies[index] = reply }
        }
        guard !pending.isEmpty else {
            let answered = replies.compactMap { $0 }
            return answered.isEmpty ? .none : .reply(.array(answered))
        }
        let gate = self.gate
        let immediate = replies
        let work = pending
        Task {
            var all = immediate
            await withTaskGroup(of: (Int, JSON?).self) { group in
                for member in work {
                    group.addTask {
                        let outcome = await member.run(member.request.params)
                        gate.leave()
                        return (member.index, RPCResponse.reply(to: member.request, outcome))
                    }
                }
                for await (index, reply) in group { all[index] = reply }
            }
            let answered = all.compactMap { $0 }
            deliver(answered.isEmpty ? nil : .array(answered))
        }
        return .deferred
    }

    private func wrap(_ reply: JSON?) -> Outcome {
        reply.map { .reply($0) } ?? .none
    }
}
