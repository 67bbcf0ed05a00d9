/// One server-sent event: its type (`event:`) and its data lines joined with "\n".
struct SSEEvent: Sendable, Equatable {
    var event: String?
    var data: String
}

/// An incremental parser for `text/event-stream` (the WHATWG rules fallbackd's providers need):
/// lines end with LF, CRLF or CR, even when a CRLF is split across reads; `:` lines are comments;
/// several `data:` lines join with "\n"; a blank line dispatches the event; `id` and `retry` are
/// ignored. Events split across reads are reassembled. Pure: bytes in, events out.
struct SSEParser: Sendable {
    /// A line longer than this fails the stream (a provider's event is a few KB).
    static let maxLineBytes = 8 << 20

    struct LineTooLong: Error {}

    private var line: [UInt8] = []
    private var afterCR = false
    private var eventType: String?
    private var dataLines: [String] = []

    init() {}

    /// Feeds the next bytes; returns the events they complete.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(LineTooLong) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                // The LF of a CRLF whose CR already ended the line.
                if afterCR {
                    afterCR = false
                    continue
                }
                endLine(into: &events)
            case UInt8(ascii: "\r"):
                endLine(into: &events)
                afterCR = true
            default:
                afterCR = false
                line.append(byte)
                guard line.count <= Self.maxLineBytes else { throw LineTooLong() }
            }
        }
        return events
    }

    /// The stream ended: an event whose blank line never came is dispatched if it has data.
    mutating func finish() -> [SSEEvent] {
        var events: [SSEEvent] = []
        if !line.isEmpty { endLine(into: &events) }
        if !dataLines.isEmpty { dispatch(into: &events) }
        return events
    }

    private mutating func endLine(into events: inout [SSEEvent]) {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            dispatch(into: &events)
            return
        }
        guard line[0] != UInt8(ascii: ":") else { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        let field = String(decoding: line[0..<colon], as: UTF8.self)
        var start = min(colon + 1, line.count)
        if start < line.count, line[start] == UInt8(ascii: " ") { start += 1 }
        let value = String(decoding: line[start...], as: UTF8.self)
        switch field {
        case "data": dataLines.append(value)
        case "event": eventType = value
        default: break
        }
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        if !dataLines.isEmpty {
            events.append(SSEEvent(event: eventType, data: dataLines.joined(separator: "\n")))
        }
        dataLines.removeAll(keepingCapacity: true)
        eventType = nil
    }
}
