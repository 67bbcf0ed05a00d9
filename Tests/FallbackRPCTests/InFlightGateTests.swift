import Testing

@testable import FallbackRPC

@Suite("InFlightGate")
struct InFlightGateTests {
    @Test("enter and leave count requests in flight; admitted only grows")
    func counting() {
        let gate = InFlightGate(maxInFlight: 3)
        #expect(gate.inFlight == 0 && gate.admitted == 0 && !gate.isDraining)
        #expect(gate.enter() == nil)
        #expect(gate.enter() == nil)
        #expect(gate.inFlight == 2)
        gate.leave()
        #expect(gate.inFlight == 1)
        #expect(gate.admitted == 2)
        #expect(gate.enter() == nil)
        #expect(gate.admitted == 3)
    }

    @Test("at max_in_flight: -32005 with in_flight and max_in_flight; a refusal is not admitted")
    func refusal() throws {
        let gate = InFlightGate(maxInFlight: 2)
        #expect(gate.enter() == nil)
        #expect(gate.enter() == nil)
        let error = try #require(gate.enter())
        #expect(error.code == RPCErrorCode.overloaded)
        #expect(error.code == -32005)
        #expect(error.data == ["in_flight": 2, "max_in_flight": 2])
        #expect(gate.inFlight == 2)
        #expect(gate.admitted == 2)
        gate.leave()
        #expect(gate.enter() == nil)
    }

    @Test("max_in_flight 0 refuses everything")
    func zero() {
        let gate = InFlightGate(maxInFlight: 0)
        #expect(gate.enter()?.code == RPCErrorCode.overloaded)
        #expect(gate.inFlight == 0)
    }

    @Test("draining refuses with -32000 even with room, and wins over overload")
    func draining() throws {
        let gate = InFlightGate(maxInFlight: 1)
        #expect(gate.enter() == nil)
        gate.startDraining()
        #expect(gate.isDraining)
        let error = try #require(gate.enter())
        #expect(error.code == RPCErrorCode.shuttingDown)
        #expect(error.code == -32000)
        gate.leave()
        #expect(gate.inFlight == 0)
        #expect(gate.enter()?.code == RPCErrorCode.shuttingDown)
        #expect(gate.inFlight == 0)
    }

    @Test("concurrent enters never admit more than max_in_flight")
    func concurrentEnters() async {
        let gate = InFlightGate(maxInFlight: 50)
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<400 { group.addTask { gate.enter() == nil } }
            var count = 0
            for await ok in group where ok { count += 1 }
            return count
        }
        #expect(admitted == 50)
        #expect(gate.inFlight == 50)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { gate.leave() } }
        }
        #expect(gate.inFlight == 0)
        #expect(gate.admitted == 50)
    }
}
