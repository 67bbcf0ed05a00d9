import FallbackCore
import Testing

@testable import FallbackWire

/// fallbackd's own serializer must write exactly what jansson's `json_dumps` writes: the golden
/// transcripts, signatures and every client compare bytes.
@Suite("JSONWriter: byte-identical to json_dumps")
struct JSONWriterTests {
    static let documents: [String] = [
        #"{}"#, #"[]"#, #"null"#, #"true"#, #"false"#, #""""#, #"0"#, #"-1"#,
        #"9223372036854775807"#, #"-9223372036854775808"#,
        #"[0.2, 2.5, 3.0, -0.0, 1e20, 1e-7, 1.5e300, 123456789012345678.0, 0.1234567890123456789, 1e15, 1e16, -2.5e-10]"#,
        #"{"b":1,"a":[true,null,2.5,"x",{"k":[]}],"c":0.2,"d":false}"#,
        #"{"quote":"\"","backslash":"\\","slash":"/","controls":"\b\f\n\r\t\u0000\u0001\u001f\u007f","mixed":"a\"b\\c\nd"}"#,
        #"{"unicode":"héllo – 世界 🎉","escaped":"\u00e9\ud83c\udf89","keys with \"quotes\"":{"\n":1}}"#,
        #"{"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}}],"temperature":0.3,"max_tokens":4096}"#,
        #"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"#,
    ]

    @Test("documents", arguments: documents)
    func matchesJansson(text: String) throws {
        let value = try json(text)
        let ours = value.withSerializedBytes { Array($0) }
        let theirs = value.withJanssonSerializedBytes { Array($0) }
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self))
    }

    @Test("built values, large strings and many keys")
    func built() throws {
        var big = JSON.emptyObject
        for index in 0..<300 { big["key\(index)"] = .string(String(repeating: "ab\"c\n", count: index)) }
        big["reals"] = JSON.array([.double(0.1), .double(1.0 / 3.0), .double(100), .double(1e-300)])
        big["ints"] = JSON.array([.int(0), .int(42), .int(-7), .int(Int.max)])
        let ours = big.withSerializedBytes { Array($0) }
        let theirs = big.withJanssonSerializedBytes { Array($0) }
        #expect(ours == theirs)
        #expect(ours.count > 200_000, "a buffer that grows many times keeps every byte")
    }

    @Test("every control character is escaped as jansson does")
    func controls() {
        for code in 0..<0x20 {
            let value = JSON.string(String(UnicodeScalar(UInt8(code))))
            #expect(value.withSerializedBytes { Array($0) } == value.withJanssonSerializedBytes { Array($0) }, "U+\(code)")
        }
    }

    @Test("reals: the shortest-digits path writes what %.15g and jansson write")
    func reals() {
        var generator = SeededGenerator(seed: 0xD0B1E)
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 0.000636, 4.05e-06, -2.4e-05, 1e-9, 1e-5, 1e-4, 0.0001234,
            123456789012345, 1234567890123456, 1e15, 1e16, 1e21, 1e300, 1e-300, 5e-324, .greatestFiniteMagnitude,
            100, 1e14, 99999999999999.9, 0.1 + 0.2, 1.5, 12.5, 1e22, 9007199254740993,
        ]
        for _ in 0..<3_000 {
            values.append(Double(bitPattern: generator.next()))
            values.append(Double(generator.next() % 10_000_000) / 1e9)
            values.append(Double(Int64(bitPattern: generator.next()) % 100_000) * 1e-7)
        }
        for value in values where value.isFinite {
            let json = JSON.double(value)
            let ours = json.withSerializedBytes { String(decoding: $0, as: UTF8.self) }
            let theirs = json.withJanssonSerializedBytes { String(decoding: $0, as: UTF8.self) }
            #expect(ours == theirs, "\(value.bitPattern)")
        }
    }
}
