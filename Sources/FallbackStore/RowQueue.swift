/// The call log's pending rows (attempts or shadow results), oldest first, stored in fixed-size chunks.
///
/// Appending and dropping the oldest row are O(1) with no occasional whole-buffer copy
/// (which would stall recorders at a 2-million-row cap); taking everything out and putting
/// a failed batch back in front cost O(number of chunks).
struct RowQueue<Row: Sendable>: Sendable, Sequence {
    /// Rows per chunk.
    static var chunkSize: Int { 4_096 }

    private var chunks: [[Row]] = []
    /// Index of the oldest live row inside `chunks[0]`.
    private var head = 0
    /// Live rows.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The oldest live row.
    var oldest: Row? { isEmpty ? nil : chunks[0][head] }

    /// Adds `row` as the newest.
    mutating func append(_ row: Row) {
        if chunks.isEmpty || chunks[chunks.count - 1].count >= Self.chunkSize {
            var chunk: [Row] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(row)
        count += 1
    }

    /// Drops up to `n` of the oldest rows; returns how many were dropped.
    @discardableResult
    mutating func dropOldest(_ n: Int) -> Int {
        var remaining = Swift.min(Swift.max(n, 0), count)
        let dropped = remaining
        while remaining > 0 {
            let available = chunks[0].count - head
            if remaining >= available {
                chunks.removeFirst()
                head = 0
                remaining -= available
            } else {
                head += remaining
                remaining = 0
            }
        }
        count -= dropped
        return dropped
    }

    /// Empties the queue and returns what it held.
    mutating func takeAll() -> RowQueue {
        let taken = self
        self = RowQueue()
        return taken
    }

    /// Puts `older` in front of the rows already here, keeping both orders.
    mutating func prepend(_ older: RowQueue) {
        guard !older.isEmpty else { return }
        var front = older.chunks
        if older.head > 0 { front[0] = Array(front[0][older.head...]) }
        if head > 0 {
            chunks[0] = Array(chunks[0][head...])
            head = 0
        }
        chunks = front + chunks
        count += older.count
    }

    func makeIterator() -> Iterator {
        Iterator(chunks: chunks, chunkIndex: 0, rowIndex: head)
    }

    /// Walks the rows oldest first.
    struct Iterator: IteratorProtocol {
        let chunks: [[Row]]
        var chunkIndex: Int
        var rowIndex: Int

        mutating func next() -> Row? {
            while chunkIndex < chunks.count {
                if rowIndex < chunks[chunkIndex].count {
                    defer { rowIndex += 1 }
                    return chunks[chunkIndex][rowIndex]
                }
                chunkIndex += 1
                rowIndex = 0
            }
            return nil
        }
    }
}
