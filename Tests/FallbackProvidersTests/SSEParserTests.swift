import Testing

@testable import FallbackProviders

@Suite("SSEParser: the event-stream rules providers rely on")
struct SSEParserTests {
    func parse(_ chunks: [String]) throws -> [SSEEvent] {
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for chunk in chunks {
            var bytes = Array(chunk.utf8)
            events += try bytes.withUnsafeMutableBytes { try parser.feed(UnsafeRawBufferPointer($0)) }
        }
        return events + parser.finish()
    }

    @Test("LF, CRLF and CR line ends; comments; event types; multi-line data joined with a newline")
    func framing() throws {
        let text = ": keep-alive\nevent: message_start\ndata: {\"a\":1}\n\r\ndata: line one\r\ndata: line two\r\n\r\nid: 7\rretry: 10\rdata:no-space\r\r"
        #expect(try parse([text]) == [
            SSEEvent(event: "message_start", data: #"{"a":1}"#),
            SSEEvent(event: nil, data: "line one\nline two"),
            SSEEvent(event: nil, data: "no-space"),
        ])
    }

    @Test("events split at every byte, a CRLF split between reads included, come out the same")
    func splitAnywhere() throws {
        let text = "data: {\"x\":\"é\"}\r\n\r\nevent: e\ndata: [DONE]\n\n"
        let whole = try parse([text])
        #expect(whole.count == 2)
        let bytes = Array(text.utf8)
        for cut in 1..<bytes.count {
            var parser = SSEParser()
            var events: [SSEEvent] = []
            for part in [Array(bytes[..<cut]), Array(bytes[cut...])] {
                var part = part
                events += try part.withUnsafeMutableBytes { try parser.feed(UnsafeRawBufferPointer($0)) }
            }
            #expect(events + parser.finish() == whole, "cut at \(cut)")
        }
    }

    @Test("a last event without its blank line is dispatched at the end of the body; an empty one is not")
    func endOfBody() throws {
        #expect(try parse(["data: tail"]) == [SSEEvent(event: nil, data: "tail")])
        #expect(try parse(["event: only\n"]).isEmpty)
        #expect(try parse(["\n\n\n"]).isEmpty)
    }
}
