import CJansson
#if canImport(Glibc)
import Glibc
#endif

/// Writes a jansson tree as compact JSON straight into one growable buffer.
///
/// The same text `json_dumps` gives with fallbackd's flags (compact, keys in insertion order, reals
/// with 15 significant digits, `\uXXXX` for other control characters), at a fraction of its cost:
/// jansson appends through a callback per token, decodes UTF-8 per code point and keeps a hash of
/// the containers it is inside; here plain runs of a string are copied with one `memcpy`.
@usableFromInline struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    @usableFromInline init(capacity: Int = 1024) {
        self.capacity = max(64, capacity)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far, valid until the next write.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var grown = capacity * 2
        while grown < count + extra { grown *= 2 }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }

    @inline(__always) mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    @inline(__always) mutating func raw(_ start: UnsafeRawPointer, _ length: Int) {
        guard length > 0 else { return }
        reserve(length)
        (base + count).update(from: start.assumingMemoryBound(to: UInt8.self), count: length)
        count += length
    }

    mutating func ascii(_ text: StaticString) {
        raw(UnsafeRawPointer(text.utf8Start), text.utf8CodeUnitCount)
    }

    /// One value and everything under it.
    mutating func write(_ node: UnsafeMutablePointer<json_t>) {
        switch node.pointee.type {
        case JSON_OBJECT:
            if let text = JSON.rawText(of: node) {
                raw(text.start, text.count)
                return
            }
            byte(UInt8(ascii: "{"))
            var iter = json_object_iter(node)
            var first = true
            while let current = iter {
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                if let key = json_object_iter_key(current) {
                    string(UnsafeRawPointer(key), json_object_iter_key_len(current))
                }
                byte(UInt8(ascii: ":"))
                if let value = json_object_iter_value(current) { write(value) } else { ascii("null") }
                iter = json_object_iter_next(node, current)
            }
            byte(UInt8(ascii: "}"))
        case JSON_ARRAY:
            byte(UInt8(ascii: "["))
            let size = json_array_size(node)
            for index in 0..<size {
                if index > 0 { byte(UInt8(ascii: ",")) }
                if let element = json_array_get(node, index) { write(element) } else { ascii("null") }
            }
            byte(UInt8(ascii: "]"))
        case JSON_STRING:
            if let text = json_string_value(node) {
                string(UnsafeRawPointer(text), json_string_length(node))
            } else {
                ascii("\"\"")
            }
        case JSON_INTEGER:
            integer(Int64(json_integer_value(node)))
        case JSON_REAL:
            real(json_real_value(node))
        case JSON_TRUE: ascii("true")
        case JSON_FALSE: ascii("false")
        default: ascii("null")
        }
    }

    /// `"name":`, after a comma unless it is the object's first member.
    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { byte(UInt8(ascii: ",")) }
        byte(UInt8(ascii: "\""))
        raw(UnsafeRawPointer(name.utf8Start), name.utf8CodeUnitCount)
        ascii("\":")
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            if let base = utf8.baseAddress {
                string(UnsafeRawPointer(base), utf8.count)
            } else {
                ascii("\"\"")
            }
        }
    }

    mutating func optional(_ text: String?) {
        if let text { string(text) } else { ascii("null") }
    }

    mutating func optional(_ value: Int?) {
        if let value { integer(Int64(value)) } else { ascii("null") }
    }

    mutating func optional(_ value: Double?) {
        if let value { double(value) } else { ascii("null") }
    }

    /// A real as `JSON.double` stores it: `null` when not finite.
    mutating func double(_ value: Double) { real(value) }

    mutating func bool(_ value: Bool) {
        if value { ascii("true") } else { ascii("false") }
    }

    mutating func integer(_ value: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold any Int64
        withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var at = scratch.count
            repeat {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                at -= 1
                scratch[at] = UInt8(ascii: "-")
            }
            raw(scratch.baseAddress! + at, scratch.count - at)
        }
    }

    /// `%.15g`, with ".0" added when the text would read back as an integer, and the exponent
    /// without its "+" and leading zeros: what jansson writes, so outputs stay byte-identical.
    mutating func real(_ value: Double) {
        guard value.isFinite else {
            ascii("null")
            return
        }
        var text = RealText()
        guard text.formatShortest(value) || text.format(value) else { return ascii("null") }
        withUnsafeBytes(of: &text.bytes) { raw($0.baseAddress!, text.count) }
    }

    /// A quoted string: runs that need no escape are copied whole.
    mutating func string(_ start: UnsafeRawPointer, _ length: Int) {
        reserve(length + 2)
        byte(UInt8(ascii: "\""))
        let bytes = start.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var index = 0
        while index < length {
            // Eight bytes at a time while none needs an escape.
            if index + 8 <= length, !SWAR.needsEscape(UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            let b = bytes[index]
            if b >= 0x20, b != 0x22, b != 0x5C {
                index += 1
                continue
            }
            raw(bytes + runStart, index - runStart)
            escape(b)
            index += 1
            runStart = index
        }
        raw(bytes + runStart, length - runStart)
        byte(UInt8(ascii: "\""))
    }

    private mutating func escape(_ b: UInt8) {
        switch b {
        case 0x22: ascii("\\\"")
        case 0x5C: ascii("\\\\")
        case 0x08: ascii("\\b")
        case 0x0C: ascii("\\f")
        case 0x0A: ascii("\\n")
        case 0x0D: ascii("\\r")
        case 0x09: ascii("\\t")
        default:
            let hex: StaticString = "0123456789ABCDEF"
            let digits = hex.utf8Start
            ascii("\\u00")
            byte(digits[Int(b >> 4)])
            byte(digits[Int(b & 0x0F)])
        }
    }
}

/// Word-at-a-time byte tests (the classic bit tricks): exact as booleans.
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always) static func hasZero(_ word: UInt64) -> Bool { (word &- ones) & ~word & highs != 0 }

    @inline(__always) static func has(_ word: UInt64, _ byte: UInt8) -> Bool { hasZero(word ^ (ones &* UInt64(byte))) }

    /// Some byte is below `limit` (at most 128).
    @inline(__always) static func hasLess(_ word: UInt64, than limit: UInt8) -> Bool {
        (word &- ones &* UInt64(limit)) & ~word & highs != 0
    }

    /// Some byte is a control character, a quote or a backslash.
    @inline(__always) static func needsEscape(_ word: UInt64) -> Bool {
        hasLess(word, than: 0x20) || has(word, 0x22) || has(word, 0x5C)
    }

    /// Some byte is not ASCII.
    @inline(__always) static func hasHigh(_ word: UInt64) -> Bool { word & highs != 0 }
}

/// A real's text, formatted on the stack.
struct RealText {
    var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    var count = 0

    /// `%.15g` as jansson shapes it, from Swift's shortest round-trip digits when there are at most
    /// 15 of them (then `%.15g` prints exactly those digits): no `vsnprintf`, which cost about 7k
    /// instructions a number. `false` when the digits need rounding to 15: ``format(_:)`` does that.
    mutating func formatShortest(_ value: Double) -> Bool {
        // Subnormals carry fewer significant bits than 15 digits claim: %.15g prints more digits.
        guard value.isNormal || value.isZero else { return false }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var digitCount = 0
        var exponent = 0  // of the first significant digit, as in %e
        var seenPoint = false
        var leading = 0  // zeros after the point before the first significant digit
        var integerDigits = 0
        var exponentPart: Int?
        let fits = withUnsafeMutableBytes(of: &digits) { store -> Bool in
            var text = value.magnitude.description
            return text.withUTF8 { utf8 -> Bool in
                var index = 0
                while index < utf8.count {
                    let c = utf8[index]
                    switch c {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"):
                        if digitCount == 0, c == UInt8(ascii: "0") {
                            if seenPoint { leading += 1 }
                        } else {
                            guard digitCount < store.count else { return false }
                            store[digitCount] = c
                            digitCount += 1
                            if !seenPoint { integerDigits += 1 }
                        }
                    case UInt8(ascii: "."): seenPoint = true
                    case UInt8(ascii: "e"), UInt8(ascii: "E"):
                        guard let parsed = Int(String(decoding: UnsafeBufferPointer(rebasing: utf8[(index + 1)...]), as: UTF8.self)) else { return false }
                        exponentPart = parsed
                        index = utf8.count
                        continue
                    default: return false  // inf, nan
                    }
                    index += 1
                }
                return true
            }
        }
        guard fits else { return false }
        // Trailing zeros are not significant.
        withUnsafeBytes(of: &digits) { store in
            while digitCount > 1, store[digitCount - 1] == UInt8(ascii: "0") {
                digitCount -= 1
            }
        }
        guard digitCount <= 15 else { return false }
        if digitCount == 0 {
            // Zero: %.15g gives "0" (or "-0"), to which jansson adds ".0".
            append(value.sign == .minus ? "-0.0" : "0.0")
            return true
        }
        exponent = integerDigits > 0 ? integerDigits - 1 : -(leading + 1)
        exponent += exponentPart ?? 0
        if value.sign == .minus { append("-") }
        withUnsafeBytes(of: &digits) { store in
            let d = Array(store[0..<digitCount])
            if exponent < -4 || exponent >= 15 {
                appendByte(d[0])
                if d.count > 1 {
                    appendByte(UInt8(ascii: "."))
                    for b in d[1...] { appendByte(b) }
                }
                appendByte(UInt8(ascii: "e"))
                if exponent < 0 { appendByte(UInt8(ascii: "-")) }
                for b in String(abs(exponent)).utf8 { appendByte(b) }
            } else if exponent >= 0 {
                for position in 0...exponent { appendByte(position < d.count ? d[position] : UInt8(ascii: "0")) }
                appendByte(UInt8(ascii: "."))
                if d.count > exponent + 1 {
                    for b in d[(exponent + 1)...] { appendByte(b) }
                } else {
                    appendByte(UInt8(ascii: "0"))
                }
            } else {
                append("0.")
                for _ in 0..<(-exponent - 1) { appendByte(UInt8(ascii: "0")) }
                for b in d { appendByte(b) }
            }
        }
        return true
    }

    private mutating func appendByte(_ byte: UInt8) {
        let index = count
        withUnsafeMutableBytes(of: &bytes) { $0[index] = byte }
        count += 1
    }

    private mutating func append(_ text: StaticString) {
        for offset in 0..<text.utf8CodeUnitCount { appendByte(text.utf8Start[offset]) }
    }

    mutating func format(_ value: Double) -> Bool {
        let capacity = MemoryLayout.size(ofValue: bytes)
        let written = withUnsafeMutableBytes(of: &bytes) { raw -> Int in
            let chars = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            return Int(withVaList([value]) { vsnprintf(chars, capacity, "%.15g", $0) })
        }
        guard written > 0, written < capacity else { return false }
        count = written
        withUnsafeMutableBytes(of: &bytes) { raw in
            var exponent: Int?
            var dot = false
            for index in 0..<count {
                switch raw[index] {
                case UInt8(ascii: ","): raw[index] = UInt8(ascii: "."); dot = true  // a locale's decimal comma
                case UInt8(ascii: "."): dot = true
                case UInt8(ascii: "e"): exponent = index
                default: break
                }
            }
            if let e = exponent {
                var start = e + 1
                if start < count, raw[start] == UInt8(ascii: "-") { start += 1 }
                var end = start
                while end < count, raw[end] == UInt8(ascii: "0") || raw[end] == UInt8(ascii: "+") { end += 1 }
                let tail = count - end
                for offset in 0..<tail { raw[start + offset] = raw[end + offset] }
                count = start + tail
            } else if !dot, count + 2 < capacity {
                raw[count] = UInt8(ascii: ".")
                raw[count + 1] = UInt8(ascii: "0")
                count += 2
            }
        }
        return true
    }
}
