import FallbackCore
import Testing

@testable import FallbackWire

/// fallbackd's reader must build the tree jansson builds, and never accept a text jansson refuses.
@Suite("JSONReader: the same trees as jansson, never more lenient")
struct JSONReaderTests {
    static let valid: [String] = [
        #"{}"#, #"[]"#, #" null "#, #"true"#, #"false"#, #""""#, #"0"#, #"-0"#, #"-1"#, "\t\r\n 7 \n",
        #"9223372036854775807"#, #"-9223372036854775808"#, #"9223372036854775808"#, #"1e400"#, #"1e-400"#,
        #"[0.2, 2.5, 3.0, -0.0, 1e20, 1E+2, 1e-7, 123456789012345678.0, 0.1234567890123456789]"#,
        #"{"a":1,"a":2,"b":{"a":[1,2,{"c":null}]}}"#,
        #"{"s":"\"\\\/\b\f\n\r\t\u0000\u0041\u00e9\ud83c\udf89 done"}"#,
        #"{"unicode":"héllo – 世界 🎉","k\u00e9y":"v","\n":1}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"complete","params":{"messages":[{"role":"user","content":"hi"}]}}"#,
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ]

    static let invalid: [String] = [
        "", " ", #"{"#, #"["#, #"{"a"}"#, #"{"a" 1}"#, #"{"a":1,}"#, #"[1,]"#, #"[1 2]"#, #"01"#, #"1."#, #".5"#,
        #"1e"#, #"-"#, #"+1"#, #"tru"#, #"nul"#, #"[true false]"#, #""abc"#, "\"a\u{01}b\"", #""\x""#, #""\u12""#,
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #"{"a\u0000b":1}"#, #"{1:2}"#, #"1 2"#, #"[1]x"#, #"NaN"#,
        #"Infinity"#, #"{"a":1}}"#,
    ]

    /// What jansson makes of `bytes`: its compact text, or `nil` when it refuses them.
    static func jansson(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { raw in
            (try? JSON.parseWithJansson(raw)).map { $0.withJanssonSerializedBytes { Array($0) } }
        }
    }

    static func ours(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { raw in
            JSONReader.read(raw).map { JSON(owning: $0).withJanssonSerializedBytes { Array($0) } }
        }
    }

    @Test("valid texts", arguments: valid)
    func sameTree(text: String) {
        let bytes = Array(text.utf8)
        let expected = Self.jansson(bytes)
        let got = Self.ours(bytes)
        if let got {
            #expect(got == expected, "the reader's tree differs from jansson's")
        }
        // Whatever the reader declines, JSON.parse still answers as jansson does.
        let parsed = bytes.withUnsafeBytes { try? JSON.parse($0) }
        #expect(parsed.map { $0.withJanssonSerializedBytes { Array($0) } } == expected)
    }

    @Test("plain documents are read by the reader itself, not handed to jansson")
    func fastPathTaken() {
        for text in [#"{"a":[1,2.5,"x\ny",true,null]}"#, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, #""é""#] {
            #expect(Self.ours(Array(text.utf8)) != nil, "\(text)")
        }
    }

    @Test("invalid texts are refused", arguments: invalid)
    func refused(text: String) {
        let bytes = Array(text.utf8)
        #expect(Self.ours(bytes) == nil)
        #expect(Self.jansson(bytes) == nil, "the test's text should be invalid JSON")
    }

    @Test("bytes that are not UTF-8 are refused")
    func badUTF8() {
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xF0, 0x82, 0x82, 0xAC]] {
            let text = [UInt8(ascii: "\"")] + bad + [UInt8(ascii: "\"")]
            #expect(Self.ours(text) == nil)
            #expect(Self.jansson(text) == nil)
        }
    }

    @Test("mutated documents: never more lenient than jansson, same tree when both accept")
    func mutations() {
        var generator = SeededGenerator(seed: 0x5EED)
        let seeds = Self.valid.filter { !$0.isEmpty && $0.count < 200 }.map { Array($0.utf8) }
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \tnulltruefalse\u00"#.utf8) + [0xC3, 0xA9, 0x00, 0x01, 0xFF]
        var accepted = 0
        for round in 0..<4_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                switch generator.next() % 3 {
                case 0 where position < bytes.count: bytes[position] = byte
                case 1 where position < bytes.count: bytes.remove(at: position)
                default: bytes.insert(byte, at: position)
                }
            }
            let expected = Self.jansson(bytes)
            let got = Self.ours(bytes)
            if got != nil { accepted += 1 }
            if got != nil || expected == nil {
                #expect(got == expected, "input \(bytes)")
            }
        }
        #expect(accepted > 100, "the mutations should leave some documents valid")
    }
}
