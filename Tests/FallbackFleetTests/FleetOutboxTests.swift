import Testing

@testable import FallbackFleet

@Suite("The fleet outbox: bounded, never blocking, surviving reconnects")
struct FleetOutboxTests {
    @Test("full: the oldest item is dropped, and the push says so")
    func dropsOldest() async {
        let outbox = FleetOutbox<Int>(capacity: 3)
        #expect(!outbox.push(1))
        #expect(!outbox.push(2))
        #expect(!outbox.push(3))
        #expect(outbox.push(4))
        #expect(await outbox.take() == [2, 3, 4])
        #expect(outbox.count == 0)
    }

    @Test("take waits for the next push")
    func waitsForPush() async {
        let outbox = FleetOutbox<Int>(capacity: 8)
        async let taken = outbox.take()
        // Whether take is already waiting or not, the push is what it returns.
        outbox.push(7)
        #expect(await taken == [7])
    }

    @Test("a cancelled take returns nothing, and the outbox still works for the next session")
    func cancelAndReuse() async {
        let outbox = FleetOutbox<Int>(capacity: 8)
        let waiting = Task { await outbox.take() }
        waiting.cancel()
        #expect(await waiting.value == [])
        outbox.push(1)
        #expect(await outbox.take() == [1])
    }
}
