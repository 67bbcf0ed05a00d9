import Testing

@testable import FallbackWire

@Suite("JSON: parse and serialize")
struct JSONParseTests {
    @Test("compact texts round-trip byte for byte, objects keep insertion order", arguments: [
        #"{"zeta":1,"alpha":2,"mid":{"b":true,"a":false}}"#,
        #"[[],[[]],[1,[2,[3,[4]]]],{}]"#,
        #"{"s":"café 😀 日本","n":null,"t":true,"f":false,"i":-7,"r":2.5}"#,
        #"["line\nbreak","tab\t","quote\"","back\\slash","/"]"#,
        #"{"":"empty key","k":[{"":[]}]}"#,
    ])
    func roundTrip(text: String) throws {
        let parsed = try JSON.parse(text)
        #expect(parsed.serialized == text)
        #expect(try JSON.parse(parsed.serialized) == parsed)
        #expect(try JSON.parse(Array(text.utf8)) == parsed)
    }

    @Test("whitespace is dropped: output is compact")
    func compactOutput() throws {
        let parsed = try JSON.parse("{ \"a\" : [ 1 , 2 ] ,\n \"b\" : { } }\n")
        #expect(parsed.serialized == #"{"a":[1,2],"b":{}}"#)
        #expect(parsed.serializedBytes == Array(#"{"a":[1,2],"b":{}}"#.utf8))
        #expect(parsed.description == parsed.serialized)
    }

    @Test("unicode escapes decode, surrogate pairs included; output is raw UTF-8")
    func unicodeEscapes() throws {
        let parsed = try JSON.parse(#"["\u00e9","\u65e5\u672c","\ud83d\ude00","\u0041"]"#)
        #expect(parsed.arrayValue?.compactMap(\.stringValue) == ["é", "日本", "😀", "A"])
        #expect(parsed.serialized == #"["é","日本","😀","A"]"#)
        #expect(JSON.string("😀👍🏽").serialized == "\"😀👍🏽\"")
        #expect(try JSON.parse(JSON.string("\u{1F600} ok").serialized).stringValue == "\u{1F600} ok")
    }

    @Test("control characters are escaped on output")
    func controlCharactersEscaped() throws {
        let text = JSON.string("a\nb\u{01}c\"").serialized
        #expect(text == #""a\nb\u0001c\"""#)
        #expect(try JSON.parse(text).stringValue == "a\nb\u{01}c\"")
    }

    @Test("0.2 serializes as 0.2, reals stay reals")
    func reals() throws {
        #expect(JSON.double(0.2).serialized == "0.2")
        #expect(JSON.double(0.000636).serialized == "0.000636")
        #expect(JSON.double(0.3).serialized == "0.3")
        #expect(JSON.double(1.0).serialized == "1.0")
        #expect(JSON.double(-2.5).serialized == "-2.5")
        #expect(try JSON.parse("0.2").doubleValue == 0.2)
        #expect(try JSON.parse("1e3").kind == .real)
        #expect(try JSON.parse("1e3").doubleValue == 1_000)
        // 15 significant digits: a 17-digit double is rounded (documented: 0.1 + 0.2 prints as 0.3).
        #expect(JSON.double(0.1 + 0.2).serialized == "0.3")
        #expect(JSON.double(1.0 / 3.0).serialized == "0.333333333333333")
    }

    @Test("non-finite doubles become null")
    func nonFinite() {
        #expect(JSON.double(.nan).isNull)
        #expect(JSON.double(.infinity).serialized == "null")
        #expect(JSON.double(-.infinity).isNull)
    }

    @Test("Int64 extremes round-trip; one past is a parse error")
    func largeIntegers() throws {
        let max = try JSON.parse("9223372036854775807")
        #expect(max.intValue == Int(Int64.max))
        #expect(max.kind == .integer)
        #expect(JSON.int(Int.max).serialized == "9223372036854775807")
        #expect(try JSON.parse("-9223372036854775808").intValue == Int(Int64.min))
        #expect(JSON.int(Int.min).serialized == "-9223372036854775808")
        #expect(throws: JSONParseError.self) { try JSON.parse("9223372036854775808") }
        #expect(try JSON.parse(#"{"id":9007199254740993}"#)["id"]?.intValue == 9_007_199_254_740_993)
    }

    @Test("top-level scalars parse (JSON_DECODE_ANY)")
    func topLevelScalars() throws {
        #expect(try JSON.parse("42").intValue == 42)
        #expect(try JSON.parse("-0.5").doubleValue == -0.5)
        #expect(try JSON.parse(#""text""#).stringValue == "text")
        #expect(try JSON.parse("true").boolValue == true)
        #expect(try JSON.parse("false").boolValue == false)
        #expect(try JSON.parse(" null ").isNull)
        #expect(JSON.string("x").serialized == #""x""#)
        #expect(JSON.null.serialized == "null")
    }

    @Test("parse errors carry jansson's line and column")
    func parseErrorPosition() throws {
        let error = #expect(throws: JSONParseError.self) { try JSON.parse("{\n  \"a\": 1,\n  \"b\": tru\n}") }
        #expect(error?.line == 3)
        #expect((error?.column ?? 0) > 0)
        #expect(error?.message.isEmpty == false)
        #expect(error?.description.contains("at line 3 column") == true)

        let first = #expect(throws: JSONParseError.self) { try JSON.parse(#"{"a" 1}"#) }
        #expect(first?.line == 1)
        #expect((first?.position ?? 0) > 0)
    }

    @Test("empty input is an error of its own", arguments: ["", "   ", "\n"])
    func emptyInput(text: String) {
        let error = #expect(throws: JSONParseError.self) { try JSON.parse(text) }
        #expect(error != nil)
        if text.isEmpty {
            #expect(error == JSONParseError(message: "empty input", line: 1, column: 0, position: 0))
            #expect(throws: JSONParseError(message: "empty input", line: 1, column: 0, position: 0)) {
                try JSON.parse([UInt8]())
            }
        }
    }

    @Test("malformed texts are rejected", arguments: [
        "{", "[1,2", #"{"a":1,}"#, "[1] [2]", "{} x", "tru", "'single'", "01", #"{"a"}"#, "NaN", #""\x""#,
    ])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test("invalid UTF-8 is rejected", arguments: [
        [0x22, 0xFF, 0x22] as [UInt8],  // not UTF-8 at all
        [0x22, 0xC3, 0x22],  // truncated sequence
        [0x22, 0xC0, 0xAF, 0x22],  // overlong "/"
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate
    ])
    func invalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSON.parse(bytes) }
    }

    @Test("a lone surrogate escape is rejected")
    func loneSurrogate() {
        #expect(throws: JSONParseError.self) { try JSON.parse(#""\ud800""#) }
    }

    /// Documents current behaviour: jansson refuses `\u0000` unless JSON_ALLOW_NUL is passed, which
    /// fallbackd does not do; a built string with NUL still serializes (escaped) and keeps its length.
    @Test("embedded NUL: \\u0000 is refused on input, escaped on output")
    func embeddedNUL() throws {
        // NUL is valid JSON: it parses, keeps its place in the string, and round-trips.
        let parsed = try JSON.parse(#"["a\u0000b"]"#)
        #expect(parsed[0]?.stringValue == "a\u{0}b")
        #expect(parsed[0]?.stringValue?.utf8.count == 3)
        #expect(try JSON.parse(parsed.serialized) == parsed)
        let built = JSON.string("a\u{0}b")
        #expect(built.stringValue == "a\u{0}b")
        #expect(built.stringValue?.utf8.count == 3)
        #expect(built.serialized == #""a\u0000b""#)
    }
}
