import CJansson
#if canImport(Glibc)
import Glibc
#endif

/// Builds a jansson tree from JSON text in one pass over the bytes.
///
/// jansson's own parser reads through a stream callback per byte and copies every string byte by
/// byte (about 100 instructions per byte); here plain string runs are found with one scan and handed
/// to jansson whole. The reader accepts only what it is sure jansson accepts the same way: anything
/// else (every error, deep nesting, integers out of range, lone surrogates) makes it give up, and
/// ``JSON/parse(_:)`` asks jansson, so errors and edge cases keep jansson's exact behaviour.
struct JSONReader {
    private let bytes: UnsafePointer<UInt8>
    private let end: Int
    private var at = 0
    private var scratch: [UInt8] = []

    /// Nesting past this is left to jansson, which enforces its own limit.
    static let maxDepth = 512

    private init(_ buffer: UnsafeRawBufferPointer) {
        bytes = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        end = buffer.count
    }

    /// The tree, or `nil` when the text is not one this reader is sure about.
    static func read(_ buffer: UnsafeRawBufferPointer) -> UnsafeMutablePointer<json_t>? {
        guard buffer.count > 0, buffer.baseAddress != nil else { return nil }
        var reader = JSONReader(buffer)
        guard let node = reader.value(depth: 0) else { return nil }
        reader.skipSpace()
        guard reader.at == reader.end else {
            json_decref(node)
            return nil
        }
        return node
    }

    @inline(__always) private mutating func skipSpace() {
        while at < end {
            let b = bytes[at]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            at += 1
        }
    }

    private mutating func value(depth: Int) -> UnsafeMutablePointer<json_t>? {
        skipSpace()
        guard at < end, depth < Self.maxDepth else { return nil }
        switch bytes[at] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""):
            return string { start, count, _ in json_stringn_nocheck(start, count) }
        case UInt8(ascii: "t"): return literal("true") ? json_true() : nil
        case UInt8(ascii: "f"): return literal("false") ? json_false() : nil
        case UInt8(ascii: "n"): return literal("null") ? json_null() : nil
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - at >= count, memcmp(bytes + at, word.utf8Start, count) == 0 else { return false }
        at += count
        return true
    }

    private mutating func object(depth: Int) -> UnsafeMutablePointer<json_t>? {
        at += 1
        guard let object = json_object() else { return nil }
        skipSpace()
        if at < end, bytes[at] == UInt8(ascii: "}") {
            at += 1
            return object
        }
        while true {
            skipSpace()
            guard at < end, bytes[at] == UInt8(ascii: "\"") else { break }
            // A key without escapes is read from the input, which outlives the parse; one with
            // escapes is copied out, as the value's strings reuse the scratch buffer.
            guard let key = string(make: { start, count, inInput -> Key? in
                guard memchr(start, 0, count) == nil else { return nil }  // jansson refuses NUL in keys
                return inInput ? .input(start, count) : .copied(Array(UnsafeBufferPointer(start: start, count: count)))
            }) else { break }
            skipSpace()
            guard at < end, bytes[at] == UInt8(ascii: ":") else { break }
            at += 1
            guard let child = value(depth: depth + 1) else { break }
            let stored: Int32
            switch key {
            case .input(let start, let count): stored = json_object_setn_new_nocheck(object, start, count, child)
            case .copied(let text): stored = text.withUnsafeBufferPointer { json_object_setn_new_nocheck(object, $0.baseAddress, $0.count, child) }
            }
            guard stored == 0 else { break }
            skipSpace()
            guard at < end else { break }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            if bytes[at] == UInt8(ascii: "}") {
                at += 1
                return object
            }
            break
        }
        json_decref(object)
        return nil
    }

    private mutating func array(depth: Int) -> UnsafeMutablePointer<json_t>? {
        at += 1
        guard let array = json_array() else { return nil }
        skipSpace()
        if at < end, bytes[at] == UInt8(ascii: "]") {
            at += 1
            return array
        }
        while true {
            guard let child = value(depth: depth + 1), json_array_append_new(array, child) == 0 else { break }
            skipSpace()
            guard at < end else { break }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            if bytes[at] == UInt8(ascii: "]") {
                at += 1
                return array
            }
            break
        }
        json_decref(array)
        return nil
    }

    private enum Key {
        case input(UnsafePointer<CChar>, Int)
        case copied([CChar])
    }

    /// A string at `at` (its opening quote), passed to `make` as the decoded bytes and whether they
    /// lie in the input (else in the scratch buffer, valid only during `make`).
    private mutating func string<T>(make: (UnsafePointer<CChar>, Int, Bool) -> T?) -> T? {
        at += 1
        let start = at
        var ascii = true
        // The common case: no escape, so the text is the bytes between the quotes.
        while at < end {
            if at + 8 <= end {
                let word = UnsafeRawPointer(bytes + at).loadUnaligned(as: UInt64.self)
                if !SWAR.needsEscape(word) {
                    if SWAR.hasHigh(word) { ascii = false }
                    at += 8
                    continue
                }
            }
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                guard ascii || Self.validUTF8(bytes + start, at - start) else { return nil }
                let count = at - start
                at += 1
                return (bytes + start).withMemoryRebound(to: CChar.self, capacity: max(count, 1)) { make($0, count, true) }
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { return nil }
            if b >= 0x80 { ascii = false }
            at += 1
        }
        guard at < end else { return nil }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: bytes + start, count: at - start))
        while at < end {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                at += 1
                guard ascii || Self.validUTF8(scratch) else { return nil }
                return scratch.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { chars -> T? in
                        guard let base = chars.baseAddress else { return nil }  // an escape always adds a byte
                        return make(base, chars.count, false)
                    }
                }
            }
            if b < 0x20 { return nil }
            if b != UInt8(ascii: "\\") {
                // A plain run up to the next quote, backslash or control byte, copied whole.
                let run = at
                if b >= 0x80 { ascii = false }
                at += 1
                while at + 8 <= end {
                    let word = UnsafeRawPointer(bytes + at).loadUnaligned(as: UInt64.self)
                    if SWAR.needsEscape(word) { break }
                    if SWAR.hasHigh(word) { ascii = false }
                    at += 8
                }
                while at < end {
                    let c = bytes[at]
                    if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { break }
                    if c >= 0x80 { ascii = false }
                    at += 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(start: bytes + run, count: at - run))
                continue
            }
            at += 1
            guard at < end else { return nil }
            let escaped = bytes[at]
            at += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return nil }
                var scalar = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit) {
                    guard end - at >= 6, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
                    at += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                } else if (0xDC00..<0xE000).contains(unit) {
                    return nil
                }
                guard let decoded = Unicode.Scalar(scalar) else { return nil }
                scratch.append(contentsOf: UTF8.encode(decoded)!)
            default:
                return nil
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt16? {
        guard end - at >= 4 else { return nil }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
            at += 1
        }
        return value
    }

    /// JSON's number grammar; integers that fit in Int64 become integers, the rest reals via strtod.
    private mutating func number() -> UnsafeMutablePointer<json_t>? {
        let start = at
        if at < end, bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard at < end, Self.isDigit(bytes[at]) else { return nil }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
            if at < end, Self.isDigit(bytes[at]) { return nil }
        } else {
            while at < end, Self.isDigit(bytes[at]) { at += 1 }
        }
        var real = false
        if at < end, bytes[at] == UInt8(ascii: ".") {
            real = true
            at += 1
            guard at < end, Self.isDigit(bytes[at]) else { return nil }
            while at < end, Self.isDigit(bytes[at]) { at += 1 }
        }
        if at < end, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            real = true
            at += 1
            if at < end, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard at < end, Self.isDigit(bytes[at]) else { return nil }
            while at < end, Self.isDigit(bytes[at]) { at += 1 }
        }
        let count = at - start
        guard count < 64 else { return nil }  // long numbers: jansson decides
        if !real {
            var value: Int64 = 0
            let negative = bytes[start] == UInt8(ascii: "-")
            for index in (negative ? start + 1 : start)..<at {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                let (next, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                value = next
            }
            return json_integer(json_int_t(value))
        }
        var text = [CChar](repeating: 0, count: count + 1)
        for index in 0..<count { text[index] = CChar(bitPattern: bytes[start + index]) }
        let parsed = strtod(text, nil)
        guard parsed.isFinite else { return nil }
        return json_real(parsed)
    }

    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    static func validUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { validUTF8($0.baseAddress!, $0.count) }
    }

    /// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
    static func validUTF8(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
            case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
            case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
            default: return false
            }
            guard index + length <= count else { return false }
            for offset in 1..<length {
                let next = bytes[index + offset]
                guard next & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            switch length {
            case 3: guard scalar >= 0x800, !(0xD800...0xDFFF).contains(scalar) else { return false }
            case 4: guard scalar >= 0x10000, scalar <= 0x10FFFF else { return false }
            default: break
            }
            index += length
        }
        return true
    }
}
