import FallbackCore
import Testing

@testable import FallbackStore

@Suite("RowQueue")
struct RowQueueTests {
    private typealias Queue = RowQueue<AttemptRecord>

    private func ids(_ queue: Queue) -> [String] { queue.map(\.requestID) }

    @Test func dropsAcrossChunksAndPrependsInOrder() {
        let total = Queue.chunkSize * 2 + 100
        var older = Queue()
        for i in 0..<total { older.append(attempt(i)) }
        #expect(older.dropOldest(Queue.chunkSize + 7) == Queue.chunkSize + 7)
        #expect(older.count == total - Queue.chunkSize - 7)

        var newer = Queue()
        for i in total..<(total + 50) { newer.append(attempt(i)) }
        newer.dropOldest(5)
        newer.prepend(older)
        let expected = ((Queue.chunkSize + 7)..<total).map { "r-\($0)" } + ((total + 5)..<(total + 50)).map { "r-\($0)" }
        #expect(ids(newer) == expected)
        #expect(newer.count == expected.count)

        let taken = newer.takeAll()
        #expect(newer.isEmpty && ids(newer).isEmpty)
        #expect(taken.count == expected.count)
        var drained = taken
        #expect(drained.dropOldest(1_000_000) == expected.count)
        #expect(drained.isEmpty && ids(drained).isEmpty)
    }
}
