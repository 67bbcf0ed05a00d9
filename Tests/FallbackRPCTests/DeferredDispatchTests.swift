import Synchronization
import Testing

@testable import FallbackRPC

@Suite("RPCDispatcher: deferred methods and the in-flight gate")
struct DeferredDispatchTests {
    /// A table with `echo` (deferred, answers its params), `held` (deferred, waits for `latch`),
    /// `first`/`second` (deferred; `first` waits until `second` has finished), `fail` (deferred error)
    /// and `ping` (immediate).
    static func table(latch: Latch = Latch(), secondDone: Latch = Latch()) -> RPCMethodTable {
        var table = RPCMethodTable()
        table.register("ping", .immediate { _ in .success("pong") })
        table.register("echo", .deferred { params, _ in .success(params ?? .null) })
        table.register("held", .deferred { params, _ in
            await latch.wait()
            return .success(params ?? .null)
        })
        table.register("first", .deferred { _, _ in
            await secondDone.wait()
            return .success("first")
        })
        table.register("second", .deferred { _, _ in
            secondDone.open()
            return .success("second")
        })
        table.register("fail", .deferred { _, _ in .failure(.internalError("nope")) })
        table.register("chatty", .deferred { params, context in
            for index in 0..<3 { context.notify("chatty.delta", params: ["n": .int(index)]) }
            return .success(params ?? .null)
        })
        return table
    }

    @Test("a deferred reply is delivered exactly once through deliver")
    func deferredSingle() async throws {
        let gate = InFlightGate(maxInFlight: 4)
        let dispatcher = RPCDispatcher(methods: Self.table(), gate: gate)
        let mailbox = Mailbox()
        let outcome = dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo","params":{"x":[1,"é"]},"id":"a1"}"#, deliver: mailbox.deliver)
        #expect(outcome.isDeferred)
        let reply = try #require(await mailbox.next() ?? nil)
        #expect(reply == (try json(#"{"jsonrpc":"2.0","id":"a1","result":{"x":[1,"é"]}}"#)))
        // The gate is left before the reply goes out.
        #expect(gate.inFlight == 0)
        #expect(gate.admitted == 1)
        // Another request through the same dispatcher does not reach the first mailbox.
        let other = Mailbox()
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo","id":2}"#, deliver: other.deliver).isDeferred)
        #expect(try #require(await other.next() ?? nil)["id"]?.intValue == 2)
        #expect(mailbox.count == 1)
        #expect(other.count == 1)
    }

    @Test("a deferred error becomes an error reply with the request's id")
    func deferredError() async throws {
        let dispatcher = RPCDispatcher(methods: Self.table(), gate: InFlightGate(maxInFlight: 4))
        let mailbox = Mailbox()
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"fail","id":7}"#, deliver: mailbox.deliver).isDeferred)
        let reply = try #require(await mailbox.next() ?? nil)
        #expect(reply["id"]?.intValue == 7)
        #expect(reply["error"]?["code"]?.intValue == RPCErrorCode.internalError)
        #expect(reply["result"] == nil)
    }

    @Test("a deferred notification still runs and delivers nil once")
    func deferredNotification() async throws {
        let gate = InFlightGate(maxInFlight: 4)
        let dispatcher = RPCDispatcher(methods: Self.table(), gate: gate)
        let mailbox = Mailbox()
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo","params":[1]}"#, deliver: mailbox.deliver).isDeferred)
        let delivered = await mailbox.next()
        #expect(delivered != nil, "deliver was called")
        #expect(delivered.flatMap { $0 } == nil, "with nil: nothing to write")
        #expect(gate.inFlight == 0)
    }

    @Test("a batch mixing immediate and deferred members answers one array in request order")
    func mixedBatch() async throws {
        let gate = InFlightGate(maxInFlight: 10)
        let dispatcher = RPCDispatcher(methods: Self.table(), gate: gate)
        let mailbox = Mailbox()
        // `first` can only finish after `second`: the array must still follow the request order.
        let outcome = dispatcher.handle(
            """
            [{"jsonrpc":"2.0","method":"first","id":1},{"jsonrpc":"2.0","method":"ping","id":2},
             {"jsonrpc":"2.0","method":"echo","params":[3]},{"jsonrpc":"2.0","method":"nope","id":4},
             {"jsonrpc":"2.0","method":"second","id":5},{"bad":true}]
            """, deliver: mailbox.deliver)
        #expect(outcome.isDeferred)
        #expect(gate.inFlight == 3)
        let reply = try #require(await mailbox.next() ?? nil)
        #expect(normalized(reply) == normalized(try json(
            """
            [{"jsonrpc":"2.0","id":1,"result":"first"},{"jsonrpc":"2.0","id":2,"result":"pong"},
             {"jsonrpc":"2.0","id":4,"error":{"code":-32601}},{"jsonrpc":"2.0","id":5,"result":"second"},
             {"jsonrpc":"2.0","id":null,"error":{"code":-32600}}]
            """)))
        #expect(gate.inFlight == 0)
        #expect(mailbox.count == 1)
    }

    @Test("a batch of deferred notifications delivers nil once")
    func batchOfDeferredNotifications() async {
        let dispatcher = RPCDispatcher(methods: Self.table(), gate: InFlightGate(maxInFlight: 10))
        let mailbox = Mailbox()
        let line = #"[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"ping"}]"#
        #expect(dispatcher.handle(line, deliver: mailbox.deliver).isDeferred)
        let delivered = await mailbox.next()
        #expect(delivered != nil && delivered! == nil)
    }

    @Test("max_in_flight: the next deferred request is refused with -32005 and counts; immediate ones still run")
    func overloaded() async throws {
        let latch = Latch()
        let gate = InFlightGate(maxInFlight: 2)
        let dispatcher = RPCDispatcher(methods: Self.table(latch: latch), gate: gate)
        let held = Mailbox()
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"held","params":[1],"id":1}"#, deliver: held.deliver).isDeferred)
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"held","params":[2],"id":2}"#, deliver: held.deliver).isDeferred)
        #expect(gate.inFlight == 2)

        let refused = try #require(dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo","id":3}"#).reply)
        #expect(refused == (try json(
            #"{"jsonrpc":"2.0","id":3,"error":{"code":-32005,"message":"too many requests in flight","data":{"in_flight":2,"max_in_flight":2}}}"#)))
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"ping","id":4}"#).reply?["result"] == "pong")

        // In a batch the refusal takes the member's place.
        let batch = try #require(dispatcher.handle(#"[{"jsonrpc":"2.0","method":"echo","id":5},{"jsonrpc":"2.0","method":"ping","id":6}]"#).reply)
        #expect(batch.arrayValue?.map { $0["error"]?["code"]?.intValue } == [RPCErrorCode.overloaded, nil])
        #expect(gate.inFlight == 2)
        #expect(gate.admitted == 2)

        latch.open()
        let replies = [try #require(await held.next() ?? nil), try #require(await held.next() ?? nil)]
        #expect(Set(replies.compactMap { $0["id"]?.intValue }) == [1, 2])
        #expect(gate.inFlight == 0)
        // Room again.
        let again = Mailbox()
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo","id":7}"#, deliver: again.deliver).isDeferred)
        #expect(try #require(await again.next() ?? nil)["id"]?.intValue == 7)
    }

    @Test("draining: deferred requests are refused with -32000, immediate ones still answer, in-flight ones finish")
    func draining() async throws {
        let latch = Latch()
        let gate = InFlightGate(maxInFlight: 10)
        let dispatcher = RPCDispatcher(methods: Self.table(latch: latch), gate: gate)
        let held = Mailbox()
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"held","id":"h"}"#, deliver: held.deliver).isDeferred)
        gate.startDraining()

        let refused = try #require(dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo","id":1}"#).reply)
        #expect(refused["id"]?.intValue == 1)
        #expect(refused["error"]?["code"]?.intValue == RPCErrorCode.shuttingDown)
        #expect(refused["error"]?["message"]?.stringValue == "fallbackd is shutting down")
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"ping","id":2}"#).reply?["result"] == "pong")
        #expect(dispatcher.handle(#"{"jsonrpc":"2.0","method":"echo"}"#).isNone, "a refused notification gets no reply")

        latch.open()
        #expect(try #require(await held.next() ?? nil)["id"]?.stringValue == "h")
        #expect(gate.inFlight == 0)
    }

    @Test("a deferred method's notifications go out through notify, in order, before its reply")
    func notificationsBeforeReply() async throws {
        let dispatcher = RPCDispatcher(methods: Self.table(), gate: InFlightGate(maxInFlight: 4))
        let lines = Mailbox()
        let outcome = dispatcher.handle(
            #"{"jsonrpc":"2.0","method":"chatty","params":{"k":1},"id":9}"#, deliver: lines.deliver, notify: lines.deliver)
        #expect(outcome.isDeferred)
        for index in 0..<3 {
            let note = try #require(await lines.next() ?? nil)
            #expect(note == (try json(#"{"jsonrpc":"2.0","method":"chatty.delta","params":{"n":\#(index)}}"#)))
        }
        #expect(try #require(await lines.next() ?? nil)["id"]?.intValue == 9)
        // A notification request gets no notifications either, and batch members stream nothing.
        let quiet = Mailbox()
        _ = dispatcher.handle(#"{"jsonrpc":"2.0","method":"chatty"}"#, deliver: quiet.deliver, notify: quiet.deliver)
        _ = await quiet.next()
        let batch = dispatcher.handle(#"[{"jsonrpc":"2.0","method":"chatty","id":1}]"#, deliver: quiet.deliver, notify: quiet.deliver)
        #expect(batch.isDeferred)
        let array = try #require(await quiet.next() ?? nil)
        #expect(array.arrayValue?.count == 1)
        #expect(quiet.count == 2, "one nil delivery for the notification, one array for the batch, no notifications")
    }

    @Test("registering a method twice stops the process at start-up")
    func duplicateRegistration() async {
        await #expect(processExitsWith: .failure) {
            var table = RPCMethodTable()
            table.register("ping", .immediate { _ in .success("pong") })
            table.register("ping", .immediate { _ in .success("again") })
        }
    }
}
